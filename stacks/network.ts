// The dedicated VPC: one subnet with Private Google Access, intra-cluster firewall, Kafka's port on the streaming
// master from the subnet alone, optional IAP SSH, and Cloud NAT only where a node must reach outside Google.
import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import { StackConfig } from "./config";
import { KAFKA_PORT } from "./streaming";

/** The range IAP TCP forwarding connects from (documented by Google for `--tunnel-through-iap`). */
export const IAP_SSH_RANGE = "35.235.240.0/20";

/** The network tag of each Dataproc cluster's nodes (the cluster's name, see stacks/streaming.ts and hive.ts). */
export function streamClusterTag(config: Pick<StackConfig, "namePrefix">): string {
  return `${config.namePrefix}-stream`;
}
export function clusterTags(config: Pick<StackConfig, "namePrefix">): string[] {
  return [streamClusterTag(config), `${config.namePrefix}-hive`];
}

export interface NetworkArgs {
  /** The VPC is `<namePrefix>-vpc`; firewall rules and the router are named after it too. */
  namePrefix: StackConfig["namePrefix"];
  /** The subnet's (and the router's) region. */
  region: StackConfig["region"];
  subnetCidr: StackConfig["subnetCidr"];
  /** `dataproc`: Kafka's port opens on the streaming master; `managed`: Cloud NAT for the login handler's download. */
  kafka: StackConfig["kafka"];
  allowIapSsh: StackConfig["allowIapSsh"];
}

export class Network extends pulumi.ComponentResource {
  readonly vpc: gcp.compute.Network;
  readonly subnet: gcp.compute.Subnetwork;
  /** Only with `kafka: managed`: the one thing a node fetches from outside Google (see natNeeded). */
  readonly router?: gcp.compute.Router;
  readonly nat?: gcp.compute.RouterNat;

  constructor(name: string, args: NetworkArgs, opts?: pulumi.ComponentResourceOptions) {
    super("clickstream:stack:Network", name, {}, opts);
    const child = { parent: this };

    this.vpc = new gcp.compute.Network(
      `${name}-vpc`,
      {
        name: `${args.namePrefix}-vpc`,
        autoCreateSubnetworks: false,
        routingMode: "REGIONAL",
      },
      child,
    );

    this.subnet = new gcp.compute.Subnetwork(
      `${name}-subnet`,
      {
        name: `${args.namePrefix}-subnet`,
        region: args.region,
        network: this.vpc.id,
        ipCidrRange: args.subnetCidr,
        // Internal-IP-only clusters reach Cloud Storage, BigQuery and the Dataproc API through it.
        privateIpGoogleAccess: true,
      },
      child,
    );

    // A cluster's nodes talk to each other on many ports (YARN, HDFS, Spark); no other machine reaches them so.
    for (const tag of clusterTags(args)) {
      new gcp.compute.Firewall(
        `${name}-allow-within-${tag.slice(args.namePrefix.length + 1)}`,
        {
          name: `${tag}-allow-within`,
          network: this.vpc.id,
          direction: "INGRESS",
          sourceTags: [tag],
          targetTags: [tag],
          allows: [
            { protocol: "tcp", ports: ["0-65535"] },
            { protocol: "udp", ports: ["0-65535"] },
            { protocol: "icmp" },
          ],
        },
        child,
      );
    }
    // Producers (the stack's generator, shippers on machines in the subnet) reach the broker's SASL listener only.
    if (args.kafka === "dataproc") {
      new gcp.compute.Firewall(
        `${name}-allow-kafka`,
        {
          name: `${args.namePrefix}-allow-kafka`,
          network: this.vpc.id,
          direction: "INGRESS",
          sourceRanges: [args.subnetCidr],
          targetTags: [streamClusterTag(args)],
          allows: [{ protocol: "tcp", ports: [String(KAFKA_PORT)] }],
        },
        child,
      );
    }

    if (args.allowIapSsh) {
      new gcp.compute.Firewall(
        `${name}-allow-iap-ssh`,
        {
          name: `${args.namePrefix}-allow-iap-ssh`,
          network: this.vpc.id,
          direction: "INGRESS",
          sourceRanges: [IAP_SSH_RANGE],
          allows: [{ protocol: "tcp", ports: ["22"] }],
        },
        child,
      );
    }

    if (natNeeded(args)) [this.router, this.nat] = this.egress(name, args);

    this.registerOutputs({ vpc: this.vpc.id, subnet: this.subnet.id });
  }

  /** Egress only, for Spark's resolution of Google's Managed Kafka login handler from Maven Central at job start. */
  private egress(
    name: string,
    network: Pick<NetworkArgs, "namePrefix" | "region">,
  ): [gcp.compute.Router, gcp.compute.RouterNat] {
    const router = new gcp.compute.Router(
      `${name}-router`,
      {
        name: `${network.namePrefix}-router`,
        region: network.region,
        network: this.vpc.id,
      },
      { parent: this },
    );
    const nat = new gcp.compute.RouterNat(
      `${name}-nat`,
      {
        name: `${network.namePrefix}-nat`,
        region: network.region,
        router: router.name,
        natIpAllocateOption: "AUTO_ONLY",
        sourceSubnetworkIpRangesToNat: "LIST_OF_SUBNETWORKS",
        subnetworks: [{ name: this.subnet.id, sourceIpRangesToNats: ["ALL_IP_RANGES"] }],
        logConfig: { enable: true, filter: "ERRORS_ONLY" },
      },
      { parent: this },
    );

    return [router, nat];
  }
}

/**
 * Whether a node needs Cloud NAT: Kafka, Node.js and the connector are staged in the artifacts bucket (stacks/releases.ts)
 * and read over Private Google Access; only Managed Kafka's login handler is still resolved from Maven Central.
 */
export function natNeeded(config: Pick<StackConfig, "kafka">): boolean {
  return config.kafka === "managed";
}
