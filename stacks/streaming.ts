// The streaming cluster: Kafka (KRaft) and the live generator on the master, and the Spark streaming job.
import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import { gsUri, UploadedArtifacts } from "./artifacts";
import { streamingJobInputArgs } from "../contract/accessLogSettings";
import { StackConfig } from "./config";
import { gatewayUrlsOf, singleNodeCluster } from "./dataprocCluster";
import { RawLayout } from "./layout";

export const KAFKA_VERSION = "3.9.2";
export const KAFKA_PORT = 9092;
export const NODE_MAJOR = "22";
/** Spark's Kafka source for Spark 3.5.x / Scala 2.12, fetched from Maven Central when the job starts. */
export const SPARK_KAFKA_PACKAGE = "org.apache.spark:spark-sql-kafka-0-10_2.12:3.5.3";

export interface StreamingArgs {
  config: StackConfig;
  subnetwork: pulumi.Input<string>;
  serviceAccountEmail: pulumi.Input<string>;
  stagingBucket: pulumi.Input<string>;
  raw: RawLayout;
  artifacts: UploadedArtifacts;
}

export class Streaming extends pulumi.ComponentResource {
  readonly cluster: gcp.dataproc.Cluster;
  readonly job: gcp.dataproc.Job;
  readonly kafkaBootstrapServers: pulumi.Output<string>;
  readonly gatewayUrls: pulumi.Output<Record<string, string>>;

  constructor(name: string, args: StreamingArgs, opts?: pulumi.ComponentResourceOptions) {
    super("clickstream:stack:Streaming", name, {}, opts);
    const { config, artifacts, raw } = args;
    const clusterName = `${config.namePrefix}-stream`;
    // Dataproc names the single node "<cluster>-m"; the VPC's internal DNS resolves it.
    const bootstrap = `${clusterName}-m:${KAFKA_PORT}`;

    this.cluster = singleNodeCluster(`${name}-cluster`, {
      config,
      clusterName,
      machineType: config.streamMachineType,
      serviceAccountEmail: args.serviceAccountEmail,
      subnetwork: args.subnetwork,
      stagingBucket: args.stagingBucket,
      networkTag: clusterName,
      // The job's driver output reaches Cloud Logging only with this set: the raw-intake and quarantine
      // alerts read its "hour complete" lines (stacks/monitoring.ts).
      properties: { "dataproc:dataproc.logging.stackdriver.job.driver.enable": "true" },
      metadata: {
        "kafka-version": KAFKA_VERSION,
        "kafka-port": String(KAFKA_PORT),
        "kafka-topic": config.kafkaTopic,
        "kafka-partitions": String(config.kafkaPartitions),
        "kafka-retention-hours": "72",
        "node-major": NODE_MAJOR,
        "generator-bundle-uri": gsUri(artifacts.generatorBundle),
        "generator-topic": config.kafkaTopic,
        "generator-rate": String(config.generatorRate),
        // The demo traffic in the topic's own format, so that it is read, not quarantined.
        "generator-format": config.inputFormat,
      },
      // Order matters: the generator's service requires kafka.service.
      initializationActions: [
        { script: gsUri(artifacts.initActions["kafka-broker.sh"]), timeoutSec: 600 },
        { script: gsUri(artifacts.initActions["weblog-generator.sh"]), timeoutSec: 600 },
      ],
    }, { parent: this, dependsOn: [artifacts.generatorBundle] });
    // Deliberately no lifecycleConfig.idleDeleteTtl: Kafka and the generator are not YARN jobs, so
    // Dataproc would count the cluster idle and delete it under a running broker.

    // A managed job rather than a DAG task: it runs forever, so it belongs to the deployment, not to an
    // hourly schedule. Its label carries the script's hash: new code replaces the job, which resumes
    // from the same checkpoint; deleteBeforeReplace stops the old query before the new one starts.
    this.job = new gcp.dataproc.Job(`${name}-spark-job`, {
      region: config.region,
      forceDelete: true,
      placement: { clusterName: this.cluster.name },
      labels: { component: "streaming", "source-sha256": artifacts.streamingJobSha256.slice(0, 32) },
      scheduling: { maxFailuresPerHour: 5, maxFailuresTotal: 50 },
      pysparkConfig: {
        mainPythonFileUri: gsUri(artifacts.streamingJob),
        pythonFileUris: [gsUri(artifacts.jobsPackage)],
        // Trigger (1 minute) and grace (10 minutes) are the job's own defaults for the cloud.
        args: [
          "--bootstrap-servers", bootstrap,
          "--topic", config.kafkaTopic,
          "--raw", raw.events,
          "--quarantine", raw.quarantine,
          "--checkpoint", raw.checkpoint,
          "--markers", raw.markers,
          "--contract", gsUri(artifacts.contract),
          ...streamingJobInputArgs(config.inputFormat, config.accessLog),
        ],
        properties: {
          "spark.jars.packages": SPARK_KAFKA_PACKAGE,
          // Leaves room on the single node for Kafka and the generator.
          "spark.executor.instances": "1",
          "spark.dynamicAllocation.enabled": "false",
          "spark.sql.session.timeZone": "UTC",
        },
      },
    }, { parent: this, deleteBeforeReplace: true });

    this.kafkaBootstrapServers = pulumi.output(bootstrap);
    this.gatewayUrls = gatewayUrlsOf(this.cluster);
    this.registerOutputs({ kafkaBootstrapServers: this.kafkaBootstrapServers });
  }
}
