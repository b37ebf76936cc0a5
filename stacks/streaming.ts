// The streaming cluster: the live generator on the master, with Kafka (KRaft) beside it or on Managed Kafka,
// and the Spark streaming job, whose executors run on the workers when the cluster has any.
import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import { streamingJobInputArgs } from "../contract/accessLogSettings";
import { gsUri, UploadedArtifacts } from "./artifacts";
import { StackConfig, vcpusOf } from "./config";
import { memoryPlan, MemoryPlanSettings, PARTS_MIB } from "./memoryBudget";
import { dataprocCluster, gatewayUrlsOf } from "./dataprocCluster";
import { RawLayout } from "./layout";
import { KafkaCredentials } from "./kafkaCredentials";
import { ManagedKafka, TOPIC_RETENTION_HOURS } from "./managedKafka";
import { KAFKA_RELEASE, NODE_RELEASE, SPARK_KAFKA_JARS } from "./releases";

export { KAFKA_VERSION } from "./releases";
export const KAFKA_PORT = 9092;
/** Google's login callback handler for Managed Kafka's SASL/OAUTHBEARER (Maven Central). */
export const MANAGED_KAFKA_AUTH_PACKAGE = "com.google.cloud.hosted.kafka:managed-kafka-auth-login-handler:1.0.6";
/**
 * Left out when Spark resolves the handler: it depends on Confluent's schema-registry client, which is not on
 * Maven Central and which the login handler never loads (it serves the handler's schema-registry credentials only).
 */
export const MANAGED_KAFKA_AUTH_EXCLUDES = "io.confluent:kafka-schema-registry-client";

/** The Kafka client settings Google documents for Managed Kafka: TLS, SASL/OAUTHBEARER, the VM's own account. */
export const MANAGED_KAFKA_CLIENT_SETTINGS: Record<string, string> = {
  "security.protocol": "SASL_SSL",
  "sasl.mechanism": "OAUTHBEARER",
  "sasl.login.callback.handler.class": "com.google.cloud.hosted.kafka.auth.GcpLoginCallbackHandler",
  "sasl.jaas.config": "org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required;",
};

/** The stack broker's client settings for the streaming job; the password is read by the job from Secret Manager. */
export const STACK_KAFKA_CLIENT_SETTINGS: Record<string, string> = {
  "security.protocol": "SASL_PLAINTEXT",
  "sasl.mechanism": "SCRAM-SHA-512",
};
/** The Kafka principal the streaming job reads as (its ACL: read the topic, nothing else). */
export const STREAM_KAFKA_USER = "stream";

/** The job's micro-batch interval in the cloud (its default): the unit of maxOffsetsPerTrigger below. */
export const TRIGGER_SECONDS = 60;
/** Entries one executor core judges and writes in one trigger with room to spare (about 1,700 a second). */
export const ENTRIES_PER_CORE_PER_TRIGGER = 100_000;

/** The executor cores the streaming job has: Dataproc gives the single node's one executor half its vCPUs. */
export function streamingCores(
  config: Pick<StackConfig, "streamMachineType" | "streamWorkers" | "streamWorkerMachineType">,
): number {
  return config.streamWorkers === 0
    ? vcpusOf(config.streamMachineType) / 2
    : config.streamWorkers * vcpusOf(config.streamWorkerMachineType);
}

/**
 * The most entries one micro-batch takes: what the cores judge in one trigger, and never less than three
 * triggers of the generator's rate, so a backlog (a stopped job, a replay) drains in bounded, cached batches.
 */
export function maxOffsetsPerTrigger(
  config: Pick<StackConfig, "streamMachineType" | "streamWorkers" | "streamWorkerMachineType" | "generatorRate">,
): number {
  return Math.max(streamingCores(config) * ENTRIES_PER_CORE_PER_TRIGGER, config.generatorRate * TRIGGER_SECONDS * 3);
}

/**
 * Executors on the workers: two per worker, each with half its vCPUs (Dataproc sizes its default executor
 * memory for that share), so the cores in all equal workers x vCPUs, the topic's default partition count.
 */
export function executorSettings(config: StreamingSettings): Record<string, string> {
  // Sized by the node's memory budget, so the executors never take what Kafka and the generator need.
  const memory = {
    "spark.executor.memory": `${memoryPlan(config).executorMib}m`,
    "spark.driver.memory": `${PARTS_MIB.sparkDriver}m`,
    "spark.yarn.am.memory": `${PARTS_MIB.sparkAppMaster}m`,
  };
  if (config.streamWorkers === 0) {
    // Leaves room on the single node for Kafka and the generator.
    return { "spark.executor.instances": "1", ...memory };
  }
  const vcpus = vcpusOf(config.streamWorkerMachineType);
  return {
    "spark.executor.instances": String(config.streamWorkers * 2),
    "spark.executor.cores": String(Math.max(1, Math.floor(vcpus / 2))),
    ...memory,
  };
}

/**
 * The settings the streaming cluster and job are named, sized and configured by (the memory plan, which sizes the
 * YARN share of the master, weighs the Hive cluster's settings too).
 */
export type StreamingSettings = MemoryPlanSettings &
  Pick<
    StackConfig,
    | "namePrefix"
    | "region"
    | "diskSizeGb"
    | "kafkaTopic"
    | "kafkaPartitions"
    | "inputFormat"
    | "accessLog"
    | "maxEventAgeDays"
  >;

export interface StreamingArgs {
  settings: StreamingSettings;
  subnetwork: pulumi.Input<string>;
  serviceAccountEmail: pulumi.Input<string>;
  stagingBucket: pulumi.Input<string>;
  tempBucket: pulumi.Input<string>;
  raw: RawLayout;
  artifacts: UploadedArtifacts;
  /** Set when `kafka` is managed: the topic lives there and no broker runs on the master. */
  managedKafka?: ManagedKafka;
  /** Set when `kafka` is dataproc: the broker's SCRAM principals in Secret Manager. */
  kafkaCredentials?: KafkaCredentials;
}

/** The streaming job's Kafka client arguments: Google's IAM login on Managed Kafka, else SCRAM as `stream`. */
function kafkaClientArgs(managedKafka?: ManagedKafka, credentials?: KafkaCredentials): pulumi.Input<string>[] {
  const options = (settings: Record<string, string>) =>
    Object.entries(settings).flatMap(([k, v]) => ["--kafka-option", `kafka.${k}=${v}`]);
  if (managedKafka) return options(MANAGED_KAFKA_CLIENT_SETTINGS);
  if (!credentials) throw new Error("the stack broker needs its Kafka credentials");
  return [
    ...options(STACK_KAFKA_CLIENT_SETTINGS),
    "--kafka-sasl-user",
    STREAM_KAFKA_USER,
    "--kafka-password-secret",
    credentials.secretNames.stream,
  ];
}

export class Streaming extends pulumi.ComponentResource {
  readonly cluster: gcp.dataproc.Cluster;
  readonly job: gcp.dataproc.Job;
  readonly kafkaBootstrapServers: pulumi.Output<string>;
  readonly gatewayUrls: pulumi.Output<Record<string, string>>;

  constructor(name: string, args: StreamingArgs, opts?: pulumi.ComponentResourceOptions) {
    super("clickstream:stack:Streaming", name, {}, opts);
    const { settings, artifacts, raw, managedKafka, kafkaCredentials } = args;
    const clusterName = `${settings.namePrefix}-stream`;
    // Dataproc names the master "<cluster>-m"; the VPC's internal DNS resolves it.
    const bootstrap = managedKafka?.bootstrapServers ?? pulumi.output(`${clusterName}-m:${KAFKA_PORT}`);
    const brokerInit = { script: gsUri(artifacts.initActions["kafka-broker.sh"]), timeoutSec: 600 };
    const generatorInit = { script: gsUri(artifacts.initActions["weblog-generator.sh"]), timeoutSec: 600 };

    this.cluster = dataprocCluster(
      `${name}-cluster`,
      {
        region: settings.region,
        diskSizeGb: settings.diskSizeGb,
        clusterName,
        machineType: settings.streamMachineType,
        serviceAccountEmail: args.serviceAccountEmail,
        subnetwork: args.subnetwork,
        stagingBucket: args.stagingBucket,
        tempBucket: args.tempBucket,
        networkTag: clusterName,
        // Google's autoscaling does not support Spark Structured Streaming: the label lets the policy pack hold to it.
        labels: { workload: "streaming" },
        workers:
          settings.streamWorkers > 0
            ? { count: settings.streamWorkers, machineType: settings.streamWorkerMachineType }
            : undefined,
        // The job's driver output reaches Cloud Logging only with this set: the raw-intake and quarantine
        // alerts read its "hour complete" lines (stacks/monitoring.ts).
        properties: {
          "dataproc:dataproc.logging.stackdriver.job.driver.enable": "true",
          // YARN gets what the memory budget leaves it, not Dataproc's share of the whole machine (Kafka runs outside YARN).
          "yarn:yarn.nodemanager.resource.memory-mb": String(memoryPlan(settings).streamYarnMib),
        },
        metadata: {
          "kafka-release-uri": gsUri(artifacts.releases[KAFKA_RELEASE.file].object),
          "kafka-release-sha256": artifacts.releases[KAFKA_RELEASE.file].sha256,
          "kafka-port": String(KAFKA_PORT),
          "kafka-topic": settings.kafkaTopic,
          "kafka-partitions": String(settings.kafkaPartitions),
          "kafka-retention-hours": String(TOPIC_RETENTION_HOURS),
          // dataproc: the generator sends to the broker beside it; managed: to the bootstrap address, with Google's auth.
          "kafka-mode": settings.kafka,
          "kafka-bootstrap": bootstrap,
          "node-release-uri": gsUri(artifacts.releases[NODE_RELEASE.file].object),
          "node-release-sha256": artifacts.releases[NODE_RELEASE.file].sha256,
          "generator-bundle-uri": gsUri(artifacts.generatorBundle),
          "generator-topic": settings.kafkaTopic,
          "generator-rate": String(settings.generatorRate),
          // The demo traffic in the topic's own format, so that it is read, not quarantined.
          "generator-format": settings.inputFormat,
          // Secret names only: the init actions read each password from Secret Manager when a process starts.
          ...(kafkaCredentials
            ? Object.fromEntries(Object.entries(kafkaCredentials.secretNames).map(([p, n]) => [`kafka-${p}-secret`, n]))
            : {}),
        },
        // Order matters: the generator's service requires kafka.service when the broker is local. No generator
        // without demoTraffic: a shop's real logs must not be counted together with generated ones.
        initializationActions: [
          ...(managedKafka ? [] : [brokerInit]),
          ...(settings.demoTraffic ? [generatorInit] : []),
        ],
      },
      {
        parent: this,
        dependsOn: [
          artifacts.generatorBundle,
          ...Object.values(artifacts.releases).map((r) => r.object),
          ...(managedKafka ? [managedKafka.topic] : []),
          ...(kafkaCredentials ? [...kafkaCredentials.versions, ...kafkaCredentials.grants] : []),
        ],
      },
    );
    // Deliberately no lifecycleConfig.idleDeleteTtl: Kafka and the generator are not YARN jobs, so
    // Dataproc would count the cluster idle and delete it under a running broker.

    // A managed job rather than a DAG task: it runs forever, so it belongs to the deployment, not to an
    // hourly schedule. Its label carries the script's hash: new code replaces the job, which resumes
    // from the same checkpoint; deleteBeforeReplace stops the old query before the new one starts.
    this.job = new gcp.dataproc.Job(
      `${name}-spark-job`,
      {
        region: settings.region,
        forceDelete: true,
        placement: { clusterName: this.cluster.name },
        labels: { component: "streaming", "source-sha256": artifacts.streamingJobSha256.slice(0, 32) },
        scheduling: { maxFailuresPerHour: 5, maxFailuresTotal: 50 },
        pysparkConfig: {
          mainPythonFileUri: gsUri(artifacts.streamingJob),
          pythonFileUris: [gsUri(artifacts.jobsPackage)],
          // Spark's Kafka connector from the artifacts bucket (nothing is resolved from Maven Central when the job
          // starts), and the contract's compiled judge.
          jarFileUris: [
            ...SPARK_KAFKA_JARS.map((jar) => gsUri(artifacts.releases[jar.file].object)),
            gsUri(artifacts.judgeJar),
          ],
          // Trigger (1 minute) and grace (10 minutes) are the job's own defaults for the cloud.
          args: [
            "--bootstrap-servers",
            bootstrap,
            "--topic",
            settings.kafkaTopic,
            "--raw",
            raw.events,
            "--quarantine",
            raw.quarantine,
            "--checkpoint",
            raw.checkpoint,
            "--markers",
            raw.markers,
            "--contract",
            gsUri(artifacts.contract),
            "--max-past-seconds",
            String(settings.maxEventAgeDays * 86_400),
            ...kafkaClientArgs(managedKafka, kafkaCredentials),
            // Bounded batches: a backlog never becomes one cached batch on the node that also runs the broker.
            "--max-offsets-per-trigger",
            String(maxOffsetsPerTrigger(settings)),
            ...streamingJobInputArgs(settings.inputFormat, settings.accessLog),
          ],
          properties: {
            // Managed Kafka only: Google's login handler and its dependencies, still resolved from Maven Central (through the NAT).
            // The staged kafka-clients stays the one on the classpath.
            ...(managedKafka
              ? {
                  "spark.jars.packages": MANAGED_KAFKA_AUTH_PACKAGE,
                  "spark.jars.excludes": `${MANAGED_KAFKA_AUTH_EXCLUDES},org.apache.kafka:kafka-clients`,
                }
              : {}),
            ...executorSettings(settings),
            // A streaming query keeps its executors: Google documents dynamic allocation as unfit for streaming.
            "spark.dynamicAllocation.enabled": "false",
            "spark.sql.session.timeZone": "UTC",
          },
        },
      },
      { parent: this, deleteBeforeReplace: true },
    );

    this.kafkaBootstrapServers = bootstrap;
    this.gatewayUrls = gatewayUrlsOf(this.cluster);
    this.registerOutputs({ kafkaBootstrapServers: this.kafkaBootstrapServers });
  }
}
