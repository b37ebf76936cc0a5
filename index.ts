// The clickstream pipeline on Google Cloud: composes the stack's components and exports where everything is.
import * as pulumi from "@pulumi/pulumi";
import { Artifacts } from "./stacks/artifacts";
import { loadStackConfig } from "./stacks/config";
import { settled } from "./stacks/consistency";
import { Hive } from "./stacks/hive";
import { Identity, jobSubmitterOn } from "./stacks/identity";
import { KafkaCredentials } from "./stacks/kafkaCredentials";
import { HIVEQL_DAG_FOLDER, HOURLY_STAGING_FOLDER, rawLayout } from "./stacks/layout";
import { Loader } from "./stacks/loader";
import { ManagedKafka } from "./stacks/managedKafka";
import { Monitoring } from "./stacks/monitoring";
import { Network } from "./stacks/network";
import { Orchestration } from "./stacks/orchestration";
import { after } from "./stacks/ordering";
import { apisFor, ProjectServices } from "./stacks/services";
import { Storage } from "./stacks/storage";
import { Streaming } from "./stacks/streaming";
import { Warehouse } from "./stacks/warehouse";

// First, before any resource: a bad setting stops here with one sentence.
const config = loadStackConfig();

const services = new ProjectServices("apis", { project: config.project, apis: apisFor(config) });
// Every resource of every component waits for the APIs to answer (a component's dependsOn alone would not reach them).
const apisReady = settled("apis-ready", "apiEnablement", services.enabled);
const afterApis = after([apisReady]);

const network = new Network(
  "network",
  {
    namePrefix: config.namePrefix,
    region: config.region,
    subnetCidr: config.subnetCidr,
    kafka: config.kafka,
    allowIapSsh: config.allowIapSsh,
  },
  afterApis,
);
const storage = new Storage(
  "storage",
  {
    namePrefix: config.namePrefix,
    project: config.project,
    region: config.region,
    forceDestroy: config.forceDestroy,
    rawRetentionDays: config.rawRetentionDays,
  },
  afterApis,
);
const identity = new Identity(
  "identity",
  {
    namePrefix: config.namePrefix,
    project: config.project,
    region: config.region,
    kafka: config.kafka,
    storage,
  },
  afterApis,
);
const artifacts = new Artifacts("artifacts", { bucket: storage.artifacts }, afterApis);
const raw = rawLayout(storage.raw.name);

const warehouse = new Warehouse(
  "warehouse",
  {
    project: config.project,
    region: config.region,
    bigqueryDataset: config.bigqueryDataset,
    forceDestroy: config.forceDestroy,
    rawBucket: storage.raw,
    loaderServiceAccount: identity.loader,
    composerServiceAccount: identity.composer,
  },
  afterApis,
);

// Otherwise the broker on the streaming master authenticates each client with its password from Secret Manager.
const kafkaCredentials =
  config.kafka === "dataproc"
    ? new KafkaCredentials(
        "kafka-credentials",
        {
          namePrefix: config.namePrefix,
          project: config.project,
          streamClusterAccount: identity.streamCluster,
        },
        afterApis,
      )
    : undefined;

// Clusters, the environment and the function start only once every grant had time to reach every service.
const grantsPropagated = settled("iam-grants-propagated", "iamGrant", [
  ...identity.grants,
  ...warehouse.grants,
  ...(kafkaCredentials?.grants ?? []),
]);

// Only with `kafka: managed`; otherwise the broker runs on the streaming master.
const managedKafka =
  config.kafka === "managed"
    ? new ManagedKafka(
        "kafka",
        {
          namePrefix: config.namePrefix,
          project: config.project,
          region: config.region,
          managedKafkaVcpus: config.managedKafkaVcpus,
          managedKafkaMemoryGib: config.managedKafkaMemoryGib,
          kafkaTopic: config.kafkaTopic,
          kafkaPartitions: config.kafkaPartitions,
          subnetName: network.subnet.name,
        },
        after([apisReady, network.subnet]),
      )
    : undefined;

const streaming = new Streaming(
  "streaming",
  {
    settings: {
      namePrefix: config.namePrefix,
      region: config.region,
      diskSizeGb: config.diskSizeGb,
      streamMachineType: config.streamMachineType,
      streamWorkers: config.streamWorkers,
      streamWorkerMachineType: config.streamWorkerMachineType,
      hiveMachineType: config.hiveMachineType,
      hiveMaxWorkers: config.hiveMaxWorkers,
      kafka: config.kafka,
      kafkaTopic: config.kafkaTopic,
      kafkaPartitions: config.kafkaPartitions,
      demoTraffic: config.demoTraffic,
      generatorRate: config.generatorRate,
      inputFormat: config.inputFormat,
      accessLog: config.accessLog,
      maxEventAgeDays: config.maxEventAgeDays,
    },
    subnetwork: network.subnet.id,
    serviceAccountEmail: identity.streamCluster.email,
    stagingBucket: storage.dataproc.name,
    tempBucket: storage.dataprocTemp.name,
    raw,
    artifacts: artifacts.uploaded,
    managedKafka,
    kafkaCredentials,
  },
  after([apisReady, grantsPropagated, ...(network.nat ? [network.nat] : [])]),
);

const hive = new Hive(
  "hive",
  {
    namePrefix: config.namePrefix,
    region: config.region,
    hiveMachineType: config.hiveMachineType,
    hiveMaxWorkers: config.hiveMaxWorkers,
    diskSizeGb: config.diskSizeGb,
    subnetwork: network.subnet.id,
    serviceAccountEmail: identity.hiveCluster.email,
    stagingBucket: storage.dataproc.name,
    tempBucket: storage.dataprocTemp.name,
  },
  after([apisReady, grantsPropagated]),
);

// The DAG submits its Hive jobs to the Hive cluster, and may use no other cluster.
jobSubmitterOn("hive-composer-job-submitter", config, hive.cluster, identity.composer, identity.clusterUser, afterApis);

const orchestration = new Orchestration(
  "orchestration",
  {
    namePrefix: config.namePrefix,
    region: config.region,
    composerImageVersion: config.composerImageVersion,
    serviceAccount: identity.composer,
    bucket: storage.composer,
    // The Airflow variables dags/weblog_hourly.py reads when its tasks run.
    dagSettings: {
      weblog_project_id: config.project,
      weblog_region: config.region,
      weblog_hive_cluster: hive.cluster.name,
      weblog_scripts_uri: pulumi.interpolate`gs://${storage.composer.name}/${HIVEQL_DAG_FOLDER}`,
      weblog_raw_bucket: storage.raw.name,
      weblog_staging_uri: pulumi.interpolate`gs://${storage.hourlyStaging.name}/${HOURLY_STAGING_FOLDER}`,
      weblog_curated_bucket: storage.curated.name,
      weblog_load_log_table: warehouse.loadLogTableId,
      weblog_bigquery_location: warehouse.loaderSettings.location,
      weblog_max_quarantine_share: String(config.quarantineMaxShare),
      weblog_max_duplicate_share: String(config.duplicateMaxShare),
    },
  },
  after([apisReady, grantsPropagated]),
);

const loader = new Loader(
  "loader",
  {
    namePrefix: config.namePrefix,
    project: config.project,
    region: config.region,
    archive: artifacts.uploaded.loaderArchive,
    curatedBucket: storage.curated,
    loaderServiceAccount: identity.loader,
    buildServiceAccount: identity.loaderBuild,
    triggerServiceAccount: identity.eventTrigger,
    warehouse: warehouse.loaderSettings,
    grantsPropagated,
  },
  afterApis,
);

// Alerts and the health dashboard watch the components above through their logs and Google's metrics.
const monitoring = new Monitoring(
  "monitoring",
  {
    namePrefix: config.namePrefix,
    project: config.project,
    region: config.region,
    alertEmail: config.alertEmail,
    freshnessMinutes: config.freshnessMinutes,
    quarantineMaxShare: config.quarantineMaxShare,
    streamClusterName: streaming.cluster.name,
    rawBucketName: storage.raw.name,
    composerEnvironmentName: orchestration.environment.name,
    loaderServiceName: loader.function.name,
  },
  afterApis,
);

export const kafkaBootstrapServers = streaming.kafkaBootstrapServers;
export const kafkaTopic = config.kafkaTopic;
export const airflowUrl = orchestration.airflowUrl;
export const composerDagFolder = pulumi.interpolate`gs://${orchestration.bucket.name}/dags`;
export const streamClusterGatewayUrls = streaming.gatewayUrls;
export const hiveClusterGatewayUrls = hive.gatewayUrls;
export const streamingJobId = streaming.job.reference.apply((r) => r.jobId);
export const rawBucket = storage.raw.name;
export const curatedBucket = storage.curated.name;
export const artifactsBucket = storage.artifacts.name;
export const bigqueryHourlyTable = warehouse.hourlyTableId;
// The tables an analyst queries: one row per product and hour of the latest run, and the hourly totals (README: "Outputs").
export const bigqueryHourlyActivityLatestView = pulumi.interpolate`${config.project}.${warehouse.views["hourly_activity_latest"].datasetId}.${warehouse.views["hourly_activity_latest"].tableId}`;
export const bigqueryHourlyTotalsView = warehouse.totalsViewId;
export const bigqueryRawEntriesTable = warehouse.rawEntriesTableId;
export const loaderFunction = loader.function.name;
// Only when the firewall admits IAP: SSH to the master is how one watches Kafka and the generator.
export const sshToStreamMaster = config.allowIapSsh
  ? pulumi.interpolate`gcloud compute ssh ${streaming.cluster.name}-m --tunnel-through-iap --project ${config.project} --zone ${streaming.cluster.clusterConfig.apply((c) => c.gceClusterConfig?.zone ?? "")}`
  : undefined;
export const bqQueryCommand = pulumi.interpolate`bq query --project_id=${config.project} --use_legacy_sql=false 'SELECT * FROM \`${warehouse.totalsViewId}\` ORDER BY hour DESC LIMIT 24'`;
export const dashboardUrl = monitoring.dashboardUrl;
