import { durationSeconds, scalingPolicies } from "../../policy/scalingPolicies";
import { violations } from "./violations";

const policy = (name: string) => scalingPolicies.find((p) => p.name === name)!;
const GIB = 1024 ** 3;
const SUBNET = "projects/p/regions/us-central1/subnetworks/s";
const kafkaCluster = (vcpus: string, gib: number, subnet = SUBNET) => ({
  location: "us-central1",
  capacityConfig: { vcpuCount: vcpus, memoryBytes: String(gib * GIB) },
  gcpConfig: { accessConfig: { networkConfigs: [{ subnet }] } },
});
const autoscaling = (cooldown: string, decommission: string, up = 1, down = 1, primaryMin = 2) => ({
  workerConfig: { minInstances: primaryMin, maxInstances: 2 },
  basicAlgorithm: {
    cooldownPeriod: cooldown,
    yarnConfig: { gracefulDecommissionTimeout: decommission, scaleUpFactor: up, scaleDownFactor: down },
  },
});
const cluster = (workers: number, workload: string) => ({
  labels: { workload },
  clusterConfig: {
    workerConfig: workers ? { numInstances: workers } : undefined,
    autoscalingConfig: { policyUri: "projects/p/locations/r/autoscalingPolicies/a" },
  },
});

// [policy, resource type, passing inputs, failing inputs, the violation the failing one reports]
const cases: [string, string, Record<string, unknown>, Record<string, unknown>, string][] = [
  [
    "managed-kafka-capacity",
    "gcp:managedkafka/cluster:Cluster",
    kafkaCluster("3", 12),
    kafkaCluster("2", 8),
    "at least 3 vCPUs",
  ],
  [
    "managed-kafka-capacity",
    "gcp:managedkafka/cluster:Cluster",
    kafkaCluster("6", 6),
    kafkaCluster("6", 5),
    "1 to 8 GiB per vCPU",
  ],
  [
    "managed-kafka-capacity",
    "gcp:managedkafka/cluster:Cluster",
    kafkaCluster("3", 24),
    kafkaCluster("3", 25),
    "1 to 8 GiB per vCPU",
  ],
  [
    "managed-kafka-capacity",
    "gcp:managedkafka/cluster:Cluster",
    kafkaCluster("3", 12),
    kafkaCluster("3", 12, "projects/p/regions/europe-west1/subnetworks/s"),
    "in its region us-central1",
  ],
  [
    "managed-kafka-capacity",
    "gcp:managedkafka/cluster:Cluster",
    kafkaCluster("3", 12),
    kafkaCluster("3", 12, "network-subnet-id"),
    "projects/PROJECT/regions/REGION/subnetworks/NAME",
  ],
  [
    "managed-kafka-topic-replicated",
    "gcp:managedkafka/topic:Topic",
    { replicationFactor: 3, partitionCount: 8 },
    { replicationFactor: 1, partitionCount: 8 },
    "replicationFactor to 3",
  ],
  [
    "autoscaling-within-google-bounds",
    "gcp:dataproc/autoscalingPolicy:AutoscalingPolicy",
    autoscaling("120s", "3600s"),
    autoscaling("60s", "3600s"),
    "cooldownPeriod must be from 2m to 1d",
  ],
  [
    "autoscaling-within-google-bounds",
    "gcp:dataproc/autoscalingPolicy:AutoscalingPolicy",
    autoscaling("1d", "0s"),
    autoscaling("2m", "2d"),
    "gracefulDecommissionTimeout",
  ],
  [
    "autoscaling-within-google-bounds",
    "gcp:dataproc/autoscalingPolicy:AutoscalingPolicy",
    autoscaling("2m", "1h", 0, 0.5),
    autoscaling("2m", "1h", 1.5),
    "scaleUpFactor must be from 0 to 1",
  ],
  [
    "autoscaling-within-google-bounds",
    "gcp:dataproc/autoscalingPolicy:AutoscalingPolicy",
    autoscaling("2m", "1h"),
    autoscaling("2m", "1h", 1, 1, 1),
    "at least 2 primary workers",
  ],
  [
    "no-autoscaling-where-google-refuses-it",
    "gcp:dataproc/cluster:Cluster",
    cluster(2, "hourly"),
    cluster(0, "hourly"),
    "single-node Dataproc cluster cannot autoscale",
  ],
  [
    "no-autoscaling-where-google-refuses-it",
    "gcp:dataproc/cluster:Cluster",
    cluster(2, "hourly"),
    cluster(4, "streaming"),
    "does not support Spark Structured Streaming",
  ],
];

describe("the scaling policies", () => {
  it("are mandatory, each with a passing and a failing resource", () => {
    expect(scalingPolicies.every((p) => p.enforcementLevel === "mandatory")).toBe(true);
    expect(new Set(cases.map(([name]) => name))).toEqual(new Set(scalingPolicies.map((p) => p.name)));
  });

  it.each(cases)("%s passes a compliant %s and rejects a violating one", (name, type, passing, failing, expected) => {
    expect(violations(policy(name), type, passing)).toEqual([]);
    const found = violations(policy(name), type, failing);
    expect(found).toHaveLength(1);
    expect(found[0]).toContain(expected);
  });

  it("reads durations the way the APIs write them", () => {
    expect([
      durationSeconds("120s"),
      durationSeconds("2m"),
      durationSeconds("1h"),
      durationSeconds("1d"),
      durationSeconds("soon"),
    ]).toEqual([120, 120, 3600, 86400, NaN]);
  });
});
