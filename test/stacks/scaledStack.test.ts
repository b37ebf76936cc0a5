import { byName, byType, DEFAULT_GRAPH, ProgramRun, runProgram, SCALED_CONFIG } from "./pulumiProgram";
import { scalingPolicies } from "../../policy/scalingPolicies";
import { securityPolicies } from "../../policy/securityPolicies";
import { violations } from "../policy/violations";

// The dev stack grown by configuration: the topic on Managed Kafka, executors on two workers, an autoscaled
// Hive cluster. Run once against Pulumi's mocks (the default graph is stack.test.ts's).
const PROJECT = "my-clickstream-dev";
const BOOTSTRAP = `bootstrap.clickstream-kafka.us-central1.managedkafka.${PROJECT}.cloud.goog:9092`;

let run: ProgramRun;
beforeAll(async () => {
  const result = await runProgram(SCALED_CONFIG);
  if (result.error) throw result.error;
  run = result;
}, 60_000);

describe("the stack grown by configuration (kafka managed, workers, Hive autoscaling; Pulumi mocks)", () => {
  it("adds exactly the Managed Kafka cluster and topic, its API and client grant, the NAT its login handler needs, and the Hive autoscaling policy, in place of the broker's passwords and port", () => {
    const counts: Record<string, number> = {};
    for (const r of run.resources) counts[r.type] = (counts[r.type] ?? 0) + 1;
    const withoutBrokerCredentials = Object.fromEntries(
      Object.entries(DEFAULT_GRAPH).filter(([type]) => !/secretmanager|randomPassword|KafkaCredentials/.test(type)),
    );
    expect(counts).toEqual({
      ...withoutBrokerCredentials,
      // Managed Kafka lives outside the VPC's firewall: no rule for a broker's port
      "gcp:compute/firewall:Firewall": DEFAULT_GRAPH["gcp:compute/firewall:Firewall"] - 1,
      "clickstream:stack:ManagedKafka": 1,
      "gcp:managedkafka/cluster:Cluster": 1,
      "gcp:managedkafka/topic:Topic": 1,
      // managedkafka.googleapis.com instead of secretmanager.googleapis.com
      "gcp:projects/service:Service": DEFAULT_GRAPH["gcp:projects/service:Service"],
      // roles/managedkafka.client for the streaming cluster's account
      "gcp:projects/iAMMember:IAMMember": DEFAULT_GRAPH["gcp:projects/iAMMember:IAMMember"] + 1,
      "gcp:dataproc/autoscalingPolicy:AutoscalingPolicy": 1,
      "gcp:compute/router:Router": 1,
      "gcp:compute/routerNat:RouterNat": 1,
    });
  });

  it("creates the Managed Kafka cluster in the stack's subnet and region, at Google's smallest size, after its API", () => {
    expect(byType(run, "gcp:projects/service:Service").map((s) => s.inputs.service)).toContain(
      "managedkafka.googleapis.com",
    );
    const cluster = byName(run, "kafka-cluster");
    expect(cluster.inputs).toMatchObject({
      clusterId: "clickstream-kafka",
      location: "us-central1",
      // 3 vCPUs, Google's minimum, with the recommended 4 GiB each.
      capacityConfig: { vcpuCount: "3", memoryBytes: String(12 * 1024 ** 3) },
      gcpConfig: {
        accessConfig: {
          networkConfigs: [{ subnet: `projects/${PROJECT}/regions/us-central1/subnetworks/clickstream-subnet` }],
        },
      },
    });
    expect(cluster.dependsOn).toEqual(expect.arrayContaining(["apis-ready", "network-subnet"]));
    expect(byName(run, "apis-ready").dependsOn).toContain("apis-managedkafka");
  });

  it("declares the topic replicated three times, one partition per executor core, kept as long as the local broker keeps it", () => {
    const topic = byName(run, "kafka-topic").inputs;
    expect(topic).toMatchObject({
      topicId: "weblogs",
      cluster: "clickstream-kafka",
      location: "us-central1",
      replicationFactor: 3,
      partitionCount: 8,
    });
    // "Received" is the broker's clock there too.
    expect(topic.configs).toEqual({
      "retention.ms": String(72 * 3600 * 1000),
      "message.timestamp.type": "LogAppendTime",
    });
    const job = byName(run, "streaming-spark-job").inputs.pysparkConfig.properties;
    expect(Number(job["spark.executor.instances"]) * Number(job["spark.executor.cores"])).toBe(topic.partitionCount);
  });

  it("lets the streaming cluster's account connect to Managed Kafka, and grants that role to no one else", () => {
    const clients = byType(run, "gcp:projects/iAMMember:IAMMember").filter(
      (g) => g.inputs.role === "roles/managedkafka.client",
    );
    expect(clients.map((g) => g.inputs.member)).toEqual([
      `serviceAccount:clickstream-stream@${PROJECT}.iam.gserviceaccount.com`,
    ]);
    expect(clients[0].inputs.project).toBe(PROJECT);
  });

  it("starts no broker on the streaming master and points the generator at the managed bootstrap address", () => {
    const cluster = byName(run, "streaming-cluster");
    const config = cluster.inputs.clusterConfig;
    expect(config.initializationActions.map((a: { script: string }) => a.script.split("/").pop())).toEqual([
      "weblog-generator.sh",
    ]);
    expect(config.gceClusterConfig.metadata).toMatchObject({ "kafka-mode": "managed", "kafka-bootstrap": BOOTSTRAP });
    // The generator's first send waits for the topic.
    expect(cluster.dependsOn).toContain("kafka-topic");
    expect(run.outputs.kafkaBootstrapServers).toBe(BOOTSTRAP);
  });

  it("runs the Spark executors on two workers, never autoscaled, without dynamic allocation", () => {
    const config = byName(run, "streaming-cluster").inputs.clusterConfig;
    expect(config.workerConfig).toMatchObject({ numInstances: 2, machineType: "e2-standard-4" });
    expect(config.softwareConfig.overrideProperties["dataproc:dataproc.allow.zero.workers"]).toBeUndefined();
    expect(config.autoscalingConfig).toBeUndefined();
    expect(byName(run, "streaming-cluster").inputs.labels).toEqual({ workload: "streaming" });
    const properties = byName(run, "streaming-spark-job").inputs.pysparkConfig.properties;
    expect(properties).toMatchObject({
      "spark.executor.instances": "4",
      "spark.executor.cores": "2",
      "spark.dynamicAllocation.enabled": "false",
    });
  });

  it("bounds each micro-batch by the executors' cores: 8 cores take 800,000 entries a trigger, the password secret named by nothing", () => {
    const args: string[] = byName(run, "streaming-spark-job").inputs.pysparkConfig.args;
    expect(args[args.indexOf("--max-offsets-per-trigger") + 1]).toBe("800000");
    // Managed Kafka logs in with Google's IAM: no SCRAM user, no secret.
    expect(args).not.toContain("--kafka-sasl-user");
    expect(args).not.toContain("--kafka-password-secret");
  });

  it("authenticates the Spark job as Google documents: TLS, SASL/OAUTHBEARER, Google's login handler from Maven Central", () => {
    const job = byName(run, "streaming-spark-job").inputs.pysparkConfig;
    const args: string[] = job.args;
    expect(args.slice(0, 2)).toEqual(["--bootstrap-servers", BOOTSTRAP]);
    const options = args.flatMap((a, i) => (args[i - 1] === "--kafka-option" ? [a] : []));
    expect(options).toEqual([
      "kafka.security.protocol=SASL_SSL",
      "kafka.sasl.mechanism=OAUTHBEARER",
      "kafka.sasl.login.callback.handler.class=com.google.cloud.hosted.kafka.auth.GcpLoginCallbackHandler",
      "kafka.sasl.jaas.config=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required;",
    ]);
    expect(job.properties["spark.jars.packages"].split(",")).toEqual([
      "com.google.cloud.hosted.kafka:managed-kafka-auth-login-handler:1.0.6",
    ]);
    // The staged connector's kafka-clients stays the one on the classpath.
    expect(job.properties["spark.jars.excludes"]).toBe(
      "io.confluent:kafka-schema-registry-client,org.apache.kafka:kafka-clients",
    );
    expect(job.jarFileUris).toHaveLength(5);
    // That resolution is the one fetch from outside Google, and the only reason this stack has a NAT.
    expect(byName(run, "network-nat").inputs.subnetworks).toEqual([
      { name: "network-subnet-id", sourceIpRangesToNats: ["ALL_IP_RANGES"] },
    ]);
    expect(byName(run, "streaming-cluster").dependsOn).toContain("network-nat");
  });

  it("autoscales the Hive cluster with secondary workers only, within Google's bounds", () => {
    const policy = byName(run, "hive-autoscaling").inputs;
    expect(policy).toMatchObject({
      policyId: "clickstream-hive-autoscaling",
      location: "us-central1",
      workerConfig: { minInstances: 2, maxInstances: 2 },
      secondaryWorkerConfig: { minInstances: 0, maxInstances: 4 },
      basicAlgorithm: {
        cooldownPeriod: "120s",
        yarnConfig: { gracefulDecommissionTimeout: "3600s", scaleUpFactor: 1, scaleDownFactor: 1 },
      },
    });
    const hive = byName(run, "hive-cluster").inputs.clusterConfig;
    expect(hive.workerConfig).toMatchObject({ numInstances: 2, machineType: "e2-standard-2" });
    expect(hive.secondaryWorkerConfig).toEqual({ numInstances: 0, preemptibility: "NON_PREEMPTIBLE" });
    expect(hive.autoscalingConfig.policyUri).toBe(
      `projects/${PROJECT}/locations/us-central1/autoscalingPolicies/clickstream-hive-autoscaling`,
    );
  });

  it("finds zero violations, security rules included, in the stack grown to Managed Kafka, workers and Hive autoscaling", () => {
    const found: string[] = [];
    for (const p of [...securityPolicies, ...scalingPolicies]) {
      for (const r of run.resources.filter((res) => res.type.startsWith("gcp:"))) {
        for (const message of violations(p, r.type, r.inputs)) found.push(`${p.name} ${r.name}: ${message}`);
      }
    }
    expect(found).toEqual([]);
    const types = new Set(run.resources.map((r) => r.type));
    for (const t of [
      "gcp:managedkafka/cluster:Cluster",
      "gcp:managedkafka/topic:Topic",
      "gcp:dataproc/autoscalingPolicy:AutoscalingPolicy",
      "gcp:dataproc/cluster:Cluster",
    ]) {
      expect(types.has(t)).toBe(true);
    }
  });
});
