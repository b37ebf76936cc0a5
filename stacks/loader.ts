// The loader: a gen2 Cloud Function that loads each published hourly object into BigQuery, and its trigger.
import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import { LOADER_ENTRY_POINT, OBJECT_FINALIZED } from "../functions/loader/src/hourlyLoader";
import { StackConfig } from "./config";
import { settled } from "./consistency";

export const LOADER_RUNTIME = "nodejs22";

export interface LoaderArgs {
  /** The function is `<namePrefix>-loader`, its build repository `<namePrefix>-loader-builds`. */
  namePrefix: StackConfig["namePrefix"];
  project: pulumi.Input<string>;
  region: pulumi.Input<string>;
  archive: gcp.storage.BucketObject;
  curatedBucket: gcp.storage.Bucket;
  loaderServiceAccount: gcp.serviceaccount.Account;
  buildServiceAccount: gcp.serviceaccount.Account;
  triggerServiceAccount: gcp.serviceaccount.Account;
  warehouse: {
    dataset: pulumi.Input<string>;
    location: pulumi.Input<string>;
    hourlyTable: pulumi.Input<string>;
    loadLogTable: pulumi.Input<string>;
  };
  /** The wait after every grant the function, its build and its trigger rely on (stacks/consistency.ts). */
  grantsPropagated: pulumi.Resource;
}

/** Build images older than this are deleted from the function's repository; the newest ones are kept. */
export const BUILD_IMAGE_MAX_AGE_SECONDS = 7 * 24 * 3600;

export class Loader extends pulumi.ComponentResource {
  readonly function: gcp.cloudfunctionsv2.Function;
  readonly buildRepository: gcp.artifactregistry.Repository;

  constructor(name: string, args: LoaderArgs, opts?: pulumi.ComponentResourceOptions) {
    super("clickstream:stack:Loader", name, {}, opts);
    const child = { parent: this };

    // The function's build images go to a repository the stack owns (not gcf-artifacts, which Google
    // creates and `pulumi destroy` would leave behind); destroy deletes it with every image in it.
    this.buildRepository = new gcp.artifactregistry.Repository(
      `${name}-build-images`,
      {
        project: args.project,
        location: args.region,
        repositoryId: `${args.namePrefix}-loader-builds`,
        format: "DOCKER",
        description: "Build images of the loader function; old ones expire.",
        cleanupPolicyDryRun: false,
        cleanupPolicies: [
          { id: "keep-newest", action: "KEEP", mostRecentVersions: { keepCount: 2 } },
          {
            id: "expire-old",
            action: "DELETE",
            condition: { tagState: "ANY", olderThan: `${BUILD_IMAGE_MAX_AGE_SECONDS}s` },
          },
        ],
      },
      child,
    );
    // The build pushes its image here and nowhere else.
    const pushImages = new gcp.artifactregistry.RepositoryIamMember(
      `${name}-build-image-writer`,
      {
        project: args.project,
        location: args.region,
        repository: this.buildRepository.repositoryId,
        role: "roles/artifactregistry.writer",
        member: pulumi.interpolate`serviceAccount:${args.buildServiceAccount.email}`,
      },
      child,
    );

    // Created only once every grant (the service agents' and this repository's included) had time to reach Eventarc and Cloud Build.
    const pushGrantPropagated = settled(`${name}-repository-grant-propagated`, "iamGrant", [pushImages], child);

    this.function = new gcp.cloudfunctionsv2.Function(
      `${name}-function`,
      {
        name: `${args.namePrefix}-loader`,
        location: args.region,
        description:
          "Loads each hourly object published to the curated bucket into BigQuery (WRITE_APPEND, idempotent).",
        buildConfig: {
          runtime: LOADER_RUNTIME,
          entryPoint: LOADER_ENTRY_POINT,
          source: { storageSource: { bucket: args.archive.bucket, object: args.archive.name } },
          // Without it, Cloud Build would run as the default compute service account.
          serviceAccount: args.buildServiceAccount.name,
          dockerRepository: pulumi.interpolate`projects/${args.project}/locations/${args.region}/repositories/${this.buildRepository.repositoryId}`,
        },
        serviceConfig: {
          serviceAccountEmail: args.loaderServiceAccount.email,
          ingressSettings: "ALLOW_INTERNAL_ONLY",
          allTrafficOnLatestRevision: true,
          availableMemory: "256M",
          // Long enough for LOAD_WAIT_SECONDS (300) plus the BigQuery calls around it.
          timeoutSeconds: 540,
          minInstanceCount: 0,
          maxInstanceCount: 3,
          environmentVariables: {
            WAREHOUSE_PROJECT: args.project,
            WAREHOUSE_DATASET: args.warehouse.dataset,
            WAREHOUSE_LOCATION: args.warehouse.location,
            HOURLY_TABLE: args.warehouse.hourlyTable,
            LOAD_LOG_TABLE: args.warehouse.loadLogTable,
            CURATED_BUCKET: args.curatedBucket.name,
            LOAD_WAIT_SECONDS: "300",
          },
        },
        eventTrigger: {
          triggerRegion: args.region,
          eventType: OBJECT_FINALIZED,
          eventFilters: [{ attribute: "bucket", value: args.curatedBucket.name }],
          // The function throws on transient failures; Eventarc redelivers (with backoff, for up to 24 h).
          retryPolicy: "RETRY_POLICY_RETRY",
          serviceAccountEmail: args.triggerServiceAccount.email,
        },
      },
      { parent: this, dependsOn: [args.grantsPropagated, pushGrantPropagated] },
    );

    // The trigger's account may invoke this function's Cloud Run service, and nothing else.
    new gcp.cloudrunv2.ServiceIamMember(
      `${name}-trigger-invoker`,
      {
        project: args.project,
        location: args.region,
        name: this.function.serviceConfig.apply((s) => s?.service ?? ""),
        role: "roles/run.invoker",
        member: pulumi.interpolate`serviceAccount:${args.triggerServiceAccount.email}`,
      },
      child,
    );

    this.registerOutputs({ name: this.function.name });
  }
}
