// The limits Google sets on the resources the stack scales with, as Pulumi policies: Managed Kafka's capacity,
// network and replication, and Dataproc autoscaling's bounds and where it may not be used.
import type { ReportViolation, ResourceValidationPolicy } from "@pulumi/policy";
import { list, obj, policy, Props } from "./rules";

const GIB = 1024 ** 3;
const DAY_SECONDS = 86400;

/** Seconds of a duration as the APIs take it ("120s", also "2m", "1h", "1d"); NaN when it is not one. */
export function durationSeconds(value: unknown): number {
  const m = /^(\d+(?:\.\d+)?)([smhd])$/.exec(String(value ?? ""));
  if (!m) return NaN;
  return Number(m[1]) * { s: 1, m: 60, h: 3600, d: DAY_SECONDS }[m[2] as "s" | "m" | "h" | "d"];
}

/** The checks, as plain functions of a resource's type token and inputs. */
export const checks = {
  managedKafkaCapacity(type: string, props: Props, report: ReportViolation): void {
    if (type !== "gcp:managedkafka/cluster:Cluster") return;
    const capacity = obj(props.capacityConfig);
    const vcpus = Number(capacity.vcpuCount);
    const memory = Number(capacity.memoryBytes);
    if (!(vcpus >= 3))
      report("A Managed Kafka cluster needs at least 3 vCPUs: set capacityConfig.vcpuCount to 3 or more.");
    else if (!(memory >= vcpus * GIB && memory <= vcpus * 8 * GIB)) {
      report("A Managed Kafka cluster's capacityConfig.memoryBytes must be 1 to 8 GiB per vCPU.");
    }
    // Google creates the brokers' Private Service Connect endpoints in a subnet of the cluster's own region.
    const subnets = list(obj(obj(props.gcpConfig).accessConfig).networkConfigs).map((n) => String(n.subnet ?? ""));
    const shape = /^projects\/[^/]+\/regions\/([^/]+)\/subnetworks\/[^/]+$/;
    if (subnets.length === 0)
      report("A Managed Kafka cluster must name a subnet in gcpConfig.accessConfig.networkConfigs.");
    for (const subnet of subnets) {
      const m = shape.exec(subnet);
      if (!m)
        report(
          `A Managed Kafka subnet must be written projects/PROJECT/regions/REGION/subnetworks/NAME; got '${subnet}'.`,
        );
      else if (m[1] !== props.location)
        report(`A Managed Kafka cluster's subnet must be in its region ${String(props.location)}; got region ${m[1]}.`);
    }
  },

  managedKafkaTopicReplicated(type: string, props: Props, report: ReportViolation): void {
    if (type !== "gcp:managedkafka/topic:Topic") return;
    // Every Managed Kafka cluster spreads at least 3 brokers over 3 zones; Google recommends 3 replicas.
    if (props.replicationFactor !== 3)
      report("A Managed Kafka topic must keep one replica per zone: set replicationFactor to 3.");
  },

  autoscalingWithinGoogleBounds(type: string, props: Props, report: ReportViolation): void {
    if (type !== "gcp:dataproc/autoscalingPolicy:AutoscalingPolicy") return;
    const algorithm = obj(props.basicAlgorithm);
    const yarn = obj(algorithm.yarnConfig);
    const cooldown = algorithm.cooldownPeriod === undefined ? 120 : durationSeconds(algorithm.cooldownPeriod);
    if (!(cooldown >= 120 && cooldown <= DAY_SECONDS))
      report("An autoscaling policy's basicAlgorithm.cooldownPeriod must be from 2m to 1d.");
    const decommission = durationSeconds(yarn.gracefulDecommissionTimeout);
    if (!(decommission >= 0 && decommission <= DAY_SECONDS))
      report("An autoscaling policy's yarnConfig.gracefulDecommissionTimeout must be from 0s to 1d.");
    for (const factor of ["scaleUpFactor", "scaleDownFactor"]) {
      const f = Number(yarn[factor]);
      if (!(f >= 0 && f <= 1)) report(`An autoscaling policy's yarnConfig.${factor} must be from 0 to 1.`);
    }
    const primaryMin = obj(props.workerConfig).minInstances;
    if (primaryMin !== undefined && Number(primaryMin) < 2)
      report("An autoscaling policy's workerConfig.minInstances must be at least 2 primary workers.");
  },

  noAutoscalingWhereGoogleRefusesIt(type: string, props: Props, report: ReportViolation): void {
    if (type !== "gcp:dataproc/cluster:Cluster") return;
    const config = obj(props.clusterConfig);
    if (obj(config.autoscalingConfig).policyUri === undefined) return;
    if (Number(obj(config.workerConfig).numInstances ?? 0) < 2) {
      report(
        "A single-node Dataproc cluster cannot autoscale: give it 2 or more primary workers, or remove clusterConfig.autoscalingConfig.",
      );
    }
    if (obj(props.labels).workload === "streaming") {
      report(
        "Dataproc autoscaling does not support Spark Structured Streaming: remove clusterConfig.autoscalingConfig from the streaming cluster.",
      );
    }
  },
};

export const scalingPolicies: ResourceValidationPolicy[] = [
  policy(
    "managed-kafka-capacity",
    "Managed Kafka clusters stay within Google's capacity limits, in a subnet of their region.",
    checks.managedKafkaCapacity,
  ),
  policy(
    "managed-kafka-topic-replicated",
    "Managed Kafka topics keep Google's recommended 3 replicas.",
    checks.managedKafkaTopicReplicated,
  ),
  policy(
    "autoscaling-within-google-bounds",
    "Dataproc autoscaling policies stay within the bounds Google accepts.",
    checks.autoscalingWithinGoogleBounds,
  ),
  policy(
    "no-autoscaling-where-google-refuses-it",
    "No autoscaling on a single-node cluster or on the Spark Structured Streaming cluster.",
    checks.noAutoscalingWhereGoogleRefusesIt,
  ),
];
