// The dedicated VPC: one subnet with Private Google Access, intra-subnet firewall, optional IAP SSH, Cloud NAT.
import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import { StackConfig } from "./config";

/** The range IAP TCP forwarding connects from (documented by Google for `--tunnel-through-iap`). */
export const IAP_SSH_RANGE = "35.235.240.0/20";

export class Network extends pulumi.ComponentResource {
  readonly vpc: gcp.compute.Network;
  readonly subnet: gcp.compute.Subnetwork;
  readonly router: gcp.compute.Router;
  readonly nat: gcp.compute.RouterNat;

  constructor(name: string, args: { config: StackConfig }, opts?: pulumi.ComponentResourceOptions) {
    super("clickstream:stack:Network", name, {}, opts);
    const { config } = args;
    const child = { parent: this };

    this.vpc = new gcp.compute.Network(`${name}-vpc`, {
      name: `${config.namePrefix}-vpc`,
      autoCreateSubnetworks: false,
      routingMode: "REGIONAL",
    }, child);

    this.subnet = new gcp.compute.Subnetwork(`${name}-subnet`, {
      name: `${config.namePrefix}-subnet`,
      region: config.region,
      network: this.vpc.id,
      ipCidrRange: config.subnetCidr,
      // Internal-IP-only clusters reach Cloud Storage, BigQuery and the Dataproc API through it.
      privateIpGoogleAccess: true,
    }, child);

    new gcp.compute.Firewall(`${name}-allow-intra-subnet`, {
      name: `${config.namePrefix}-allow-intra-subnet`,
      network: this.vpc.id,
      direction: "INGRESS",
      // Dataproc nodes talk to each other on many ports (YARN, HDFS, Kafka); nothing else may connect.
      sourceRanges: [config.subnetCidr],
      allows: [{ protocol: "tcp", ports: ["0-65535"] }, { protocol: "udp", ports: ["0-65535"] }, { protocol: "icmp" }],
    }, child);

    if (config.allowIapSsh) {
      new gcp.compute.Firewall(`${name}-allow-iap-ssh`, {
        name: `${config.namePrefix}-allow-iap-ssh`,
        network: this.vpc.id,
        direction: "INGRESS",
        sourceRanges: [IAP_SSH_RANGE],
        allows: [{ protocol: "tcp", ports: ["22"] }],
      }, child);
    }

    // Egress only, for the streaming cluster's init actions: the Kafka 3.9 broker (Apache's archive),
    // Node.js for the generator (nodejs.org) and Spark's Kafka connector (Maven Central) live on the internet.
    this.router = new gcp.compute.Router(`${name}-router`, {
      name: `${config.namePrefix}-router`,
      region: config.region,
      network: this.vpc.id,
    }, child);
    this.nat = new gcp.compute.RouterNat(`${name}-nat`, {
      name: `${config.namePrefix}-nat`,
      region: config.region,
      router: this.router.name,
      natIpAllocateOption: "AUTO_ONLY",
      sourceSubnetworkIpRangesToNat: "LIST_OF_SUBNETWORKS",
      subnetworks: [{ name: this.subnet.id, sourceIpRangesToNats: ["ALL_IP_RANGES"] }],
      logConfig: { enable: true, filter: "ERRORS_ONLY" },
    }, child);

    this.registerOutputs({ vpc: this.vpc.id, subnet: this.subnet.id });
  }
}
