// The topic on Google Cloud Managed Service for Apache Kafka (`kafka: managed`): the cluster, reached from the
// stack's subnet through Private Service Connect, and the pipeline's replicated topic.
import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import { StackConfig } from "./config";

/** Managed Kafka listens on this port only, over TLS with SASL (Google's bootstrap address form). */
export const MANAGED_KAFKA_PORT = 9092;
/** Google's recommended replication: one copy per zone of the cluster's three. */
export const MANAGED_TOPIC_REPLICATION = 3;
/** The same retention as the broker on the streaming master: a stopped job has three days to catch up. */
export const TOPIC_RETENTION_HOURS = 72;
const GIB = 1024 ** 3;

/** The address Google gives a cluster's bootstrap server: bootstrap.CLUSTER.REGION.managedkafka.PROJECT.cloud.goog:9092. */
export function managedBootstrapAddress(clusterId: string, region: string, project: string): string {
  return `bootstrap.${clusterId}.${region}.managedkafka.${project}.cloud.goog:${MANAGED_KAFKA_PORT}`;
}

export interface ManagedKafkaArgs {
  /** The cluster is `<namePrefix>-kafka`. */
  namePrefix: StackConfig["namePrefix"];
  project: StackConfig["project"];
  region: StackConfig["region"];
  managedKafkaVcpus: StackConfig["managedKafkaVcpus"];
  managedKafkaMemoryGib: StackConfig["managedKafkaMemoryGib"];
  kafkaTopic: StackConfig["kafkaTopic"];
  kafkaPartitions: StackConfig["kafkaPartitions"];
  /** The subnet's name; Google wants the subnet in the cluster's region, in a private (RFC 1918) range. */
  subnetName: pulumi.Input<string>;
}

export class ManagedKafka extends pulumi.ComponentResource {
  readonly cluster: gcp.managedkafka.Cluster;
  readonly topic: gcp.managedkafka.Topic;
  readonly bootstrapServers: pulumi.Output<string>;

  constructor(name: string, args: ManagedKafkaArgs, opts?: pulumi.ComponentResourceOptions) {
    super("clickstream:stack:ManagedKafka", name, {}, opts);
    const clusterId = `${args.namePrefix}-kafka`;

    this.cluster = new gcp.managedkafka.Cluster(
      `${name}-cluster`,
      {
        clusterId,
        location: args.region,
        capacityConfig: {
          vcpuCount: String(args.managedKafkaVcpus),
          memoryBytes: String(args.managedKafkaMemoryGib * GIB),
        },
        gcpConfig: {
          accessConfig: {
            networkConfigs: [
              {
                subnet: pulumi.interpolate`projects/${args.project}/regions/${args.region}/subnetworks/${args.subnetName}`,
              },
            ],
          },
        },
        // A larger cluster may get new brokers; their share of the partitions moves to them by itself.
        rebalanceConfig: { mode: "AUTO_REBALANCE_ON_SCALE_UP" },
      },
      { parent: this },
    );

    this.topic = new gcp.managedkafka.Topic(
      `${name}-topic`,
      {
        topicId: args.kafkaTopic,
        cluster: this.cluster.clusterId,
        location: args.region,
        partitionCount: args.kafkaPartitions,
        replicationFactor: MANAGED_TOPIC_REPLICATION,
        // "Received" is the broker's clock: a producer's timestamp is replaced when the entry is appended.
        configs: {
          "retention.ms": String(TOPIC_RETENTION_HOURS * 3600 * 1000),
          "message.timestamp.type": "LogAppendTime",
        },
      },
      { parent: this },
    );

    this.bootstrapServers = pulumi.output(managedBootstrapAddress(clusterId, args.region, args.project));
    this.registerOutputs({ bootstrapServers: this.bootstrapServers });
  }
}
