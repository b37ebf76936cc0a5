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
    expect([
      durationSeconds("1.25m"),
      durationSeconds("x2m"),
      durationSeconds("2mx"),
      durationSeconds(undefined),
    ]).toEqual([75, NaN, NaN, NaN]);
  });

  it("leave a resource they do not govern alone, whatever fields it carries", () => {
    const everything = {
      capacityConfig: { vcpuCount: "1", memoryBytes: "1" },
      replicationFactor: 1,
      basicAlgorithm: { cooldownPeriod: "1s" },
      clusterConfig: { autoscalingConfig: { policyUri: "p" } },
      labels: { workload: "streaming" },
    };
    for (const p of scalingPolicies) expect(violations(p, "gcp:storage/bucket:Bucket", everything)).toEqual([]);
  });

  it("read what each rule's bounds and defaults are", () => {
    const scaling = policy("autoscaling-within-google-bounds");
    const policyType = "gcp:dataproc/autoscalingPolicy:AutoscalingPolicy";
    const withoutCooldown: Record<string, unknown> = { ...autoscaling("2m", "1h").basicAlgorithm };
    delete withoutCooldown.cooldownPeriod;
    expect(violations(scaling, policyType, { basicAlgorithm: withoutCooldown })).toEqual([]);
    expect(violations(scaling, policyType, autoscaling("2d", "1h"))).toEqual([
      "An autoscaling policy's basicAlgorithm.cooldownPeriod must be from 2m to 1d.",
    ]);
    expect(violations(scaling, policyType, autoscaling("2m", "1d"))).toEqual([]);
    expect(violations(scaling, policyType, autoscaling("2m", "1h", 1, -0.5))).toEqual([
      "An autoscaling policy's yarnConfig.scaleDownFactor must be from 0 to 1.",
    ]);
    const kafka = policy("managed-kafka-capacity");
    const kafkaType = "gcp:managedkafka/cluster:Cluster";
    expect(
      violations(
        kafka,
        kafkaType,
        kafkaCluster("3", 12, "projects/my-project/regions/us-central1/subnetworks/pipeline"),
      ),
    ).toEqual([]);
    for (const subnet of [
      "x/projects/p/regions/us-central1/subnetworks/s",
      "projects/p/regions/us-central1/subnetworks/s/x",
    ]) {
      expect(violations(kafka, kafkaType, kafkaCluster("3", 12, subnet))).toHaveLength(1);
    }
    expect(violations(kafka, kafkaType, { ...kafkaCluster("3", 12), gcpConfig: {} })).toEqual([
      "A Managed Kafka cluster must name a subnet in gcpConfig.accessConfig.networkConfigs.",
    ]);
    // A network config that names no subnet is refused as one whose subnet has the wrong shape.
    const noSubnet = { ...kafkaCluster("3", 12), gcpConfig: { accessConfig: { networkConfigs: [{}] } } };
    expect(violations(kafka, kafkaType, noSubnet)).toEqual(violations(kafka, kafkaType, kafkaCluster("3", 12, "")));
    expect(violations(kafka, kafkaType, noSubnet)).toHaveLength(1);
    const refuses = policy("no-autoscaling-where-google-refuses-it");
    const noAutoscaling = { labels: { workload: "streaming" }, clusterConfig: {} };
    expect(violations(refuses, "gcp:dataproc/cluster:Cluster", noAutoscaling)).toEqual([]);
  });
});
