// The stack broker's SASL/SCRAM principals: one random password per principal in Secret Manager, readable only
// by the accounts whose processes log in as it. The broker's init action loads them; no file holds one.
import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { StackConfig } from "./config";

/**
 * admin: the init action's and the broker's own principal (the only super user); generator and shipper: write
 * the topic; stream: read it. A shipper runs outside the stack, so its secret is granted to no account here.
 */
export const KAFKA_PRINCIPALS = ["admin", "generator", "stream", "shipper"] as const;
export type KafkaPrincipal = (typeof KAFKA_PRINCIPALS)[number];
/** The streaming master runs the broker, the generator and the Spark job, all as the cluster's account. */
export const READ_ON_STREAM_CLUSTER: readonly KafkaPrincipal[] = ["admin", "generator", "stream"];

export interface KafkaCredentialsArgs {
  /** The secrets are `<namePrefix>-kafka-<principal>`. */
  namePrefix: StackConfig["namePrefix"];
  project: pulumi.Input<string>;
  /** The streaming cluster's service account. */
  streamClusterAccount: gcp.serviceaccount.Account;
}

export class KafkaCredentials extends pulumi.ComponentResource {
  /** projects/P/secrets/S of each principal, as the init actions and the job read them. */
  readonly secretNames: Record<KafkaPrincipal, pulumi.Output<string>>;
  readonly versions: gcp.secretmanager.SecretVersion[] = [];
  readonly grants: gcp.secretmanager.SecretIamMember[] = [];

  constructor(name: string, args: KafkaCredentialsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("clickstream:stack:KafkaCredentials", name, {}, opts);
    const { streamClusterAccount } = args;
    const child = { parent: this };
    const names = {} as Record<KafkaPrincipal, pulumi.Output<string>>;
    for (const principal of KAFKA_PRINCIPALS) {
      // Letters and digits only: the password goes into SCRAM's "[password=...]" and a JAAS line unquoted.
      const password = new random.RandomPassword(
        `${name}-${principal}-password`,
        { length: 32, special: false },
        child,
      );
      const secret = new gcp.secretmanager.Secret(
        `${name}-${principal}`,
        {
          project: args.project,
          secretId: `${args.namePrefix}-kafka-${principal}`,
          replication: { auto: {} },
          labels: { component: "kafka" },
        },
        child,
      );
      this.versions.push(
        new gcp.secretmanager.SecretVersion(
          `${name}-${principal}-version`,
          {
            secret: secret.id,
            secretData: password.result,
          },
          child,
        ),
      );
      names[principal] = pulumi.interpolate`projects/${args.project}/secrets/${secret.secretId}`;
      if (READ_ON_STREAM_CLUSTER.includes(principal)) {
        this.grants.push(
          new gcp.secretmanager.SecretIamMember(
            `${name}-${principal}-accessor`,
            {
              project: args.project,
              secretId: secret.secretId,
              role: "roles/secretmanager.secretAccessor",
              member: pulumi.interpolate`serviceAccount:${streamClusterAccount.email}`,
            },
            child,
          ),
        );
      }
    }
    this.secretNames = names;
    // Where each principal's password is: the init actions and the streaming job read it from there.
    this.registerOutputs({ secretNames: this.secretNames });
  }
}
