import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { readLoaderConfig } from "../../functions/loader/src/loaderConfig";
import { folderSha256 } from "../../stacks/artifacts";
import { createStatements } from "../../stacks/hive";
import { REQUIRED_APIS } from "../../stacks/services";
import { DAG_START_ENV } from "../../stacks/orchestration";
import { kafkaVersion } from "../../sandbox/kafkaBroker";
import { byName, byType, DeclaredResource, ProgramRun, PROJECT_NUMBER, REPO_ROOT, runProgram, STORAGE_AGENT, stackFileConfig } from "./pulumiProgram";

// The dev stack of the repository, run once against Pulumi's mocks; every test reads the same graph.
let run: ProgramRun;
beforeAll(async () => {
  const result = await runProgram(stackFileConfig("Pulumi.dev.yaml"));
  if (result.error) throw result.error;
  run = result;
}, 60_000);

const PROJECT = "my-clickstream-dev";
const email = (role: string) => `clickstream-${role}@${PROJECT}.iam.gserviceaccount.com`;
const sa = (role: string) => `serviceAccount:${email(role)}`;
const bucketName = (role: string) => byName(run, `storage-${role}`).inputs.name as string;
const grantsTo = (member: string) =>
  run.resources
    .filter((r) => /IAMMember|IamMember/.test(r.type) && r.inputs.member === member)
    .map((r) => `${r.type.split(":").pop()} ${r.inputs.bucket ?? r.inputs.datasetId ?? r.inputs.name ?? r.inputs.serviceAccountId ?? r.inputs.project} ${r.inputs.role}`)
    .sort();

describe("the deployed graph (dev stack, Pulumi mocks)", () => {
  it("enables every API the pipeline calls and leaves them enabled on destroy", () => {
    const services = byType(run, "gcp:projects/service:Service");
    expect(services.map((s) => s.inputs.service).sort()).toEqual([...REQUIRED_APIS].sort());
    expect(services.every((s) => s.inputs.disableOnDestroy === false && s.inputs.project === PROJECT)).toBe(true);
  });

  it("builds a dedicated VPC whose subnet has Private Google Access and a NAT for it alone", () => {
    const vpc = byName(run, "network-vpc");
    expect(vpc.inputs.autoCreateSubnetworks).toBe(false);
    const subnet = byName(run, "network-subnet");
    expect(subnet.inputs).toMatchObject({ ipCidrRange: "10.20.0.0/24", privateIpGoogleAccess: true, region: "us-central1", network: "network-vpc-id" });
    const nat = byName(run, "network-nat");
    expect(nat.inputs).toMatchObject({ sourceSubnetworkIpRangesToNat: "LIST_OF_SUBNETWORKS", natIpAllocateOption: "AUTO_ONLY" });
    expect(nat.inputs.subnetworks).toEqual([{ name: "network-subnet-id", sourceIpRangesToNats: ["ALL_IP_RANGES"] }]);
  });

  it("admits intra-subnet traffic, and SSH only from IAP's range when the stack allows it", () => {
    const rules = byType(run, "gcp:compute/firewall:Firewall");
    expect(rules.map((r) => [r.name, r.inputs.sourceRanges]).sort()).toEqual([
      ["network-allow-iap-ssh", ["35.235.240.0/20"]],
      ["network-allow-intra-subnet", ["10.20.0.0/24"]],
    ]);
    expect(byName(run, "network-allow-iap-ssh").inputs.allows).toEqual([{ protocol: "tcp", ports: ["22"] }]);
    expect(rules.every((r) => r.inputs.direction === "INGRESS" && r.inputs.network === "network-vpc-id")).toBe(true);
  });

  it("uses no external IP address anywhere", () => {
    expect(byType(run, "gcp:compute/address:Address")).toEqual([]);
    expect(byType(run, "gcp:compute/instance:Instance")).toEqual([]);
    const clusters = byType(run, "gcp:dataproc/cluster:Cluster");
    expect(clusters).toHaveLength(2);
    for (const cluster of clusters) {
      expect(cluster.inputs.clusterConfig.gceClusterConfig).toMatchObject({ internalIpOnly: true, subnetwork: "network-subnet-id" });
    }
    expect(byName(run, "orchestration-environment").inputs.config.enablePrivateEnvironment).toBe(true);
  });

  it("gives each component its own service account", () => {
    const accounts = byType(run, "gcp:serviceaccount/account:Account").map((a) => a.inputs.accountId).sort();
    expect(accounts).toEqual(["clickstream-composer", "clickstream-hive", "clickstream-loader", "clickstream-loader-build", "clickstream-stream", "clickstream-trigger"]);
    expect(byName(run, "streaming-cluster").inputs.clusterConfig.gceClusterConfig.serviceAccount).toBe(email("stream"));
    expect(byName(run, "hive-cluster").inputs.clusterConfig.gceClusterConfig.serviceAccount).toBe(email("hive"));
    expect(byName(run, "orchestration-environment").inputs.config.nodeConfig.serviceAccount).toBe(email("composer"));
    const fn = byName(run, "loader-function").inputs;
    expect(fn.serviceConfig.serviceAccountEmail).toBe(email("loader"));
    expect(fn.buildConfig.serviceAccount).toBe(`projects/${PROJECT}/serviceAccounts/${email("loader-build")}`);
    expect(fn.eventTrigger.serviceAccountEmail).toBe(email("trigger"));
  });

  it("grants each account only the roles of its stage, at bucket or dataset scope where one exists", () => {
    const raw = bucketName("raw"), curated = bucketName("curated"), artifacts = bucketName("artifacts"), dataproc = bucketName("dataproc"), composer = bucketName("composer");
    expect(grantsTo(sa("stream"))).toEqual([
      `BucketIAMMember ${artifacts} roles/storage.objectViewer`,
      `BucketIAMMember ${dataproc} roles/storage.admin`,
      `BucketIAMMember ${raw} roles/storage.legacyBucketReader`,
      `BucketIAMMember ${raw} roles/storage.objectAdmin`,
      `IAMMember ${PROJECT} roles/dataproc.worker`,
    ].sort());
    expect(grantsTo(sa("hive"))).toEqual([
      `BucketIAMMember ${artifacts} roles/storage.objectViewer`,
      `BucketIAMMember ${composer} roles/storage.objectViewer`,
      `BucketIAMMember ${dataproc} roles/storage.admin`,
      `BucketIAMMember ${raw} roles/storage.legacyBucketReader`,
      `BucketIAMMember ${raw} roles/storage.objectViewer`,
      `IAMMember ${PROJECT} roles/dataproc.worker`,
    ].sort());
    expect(grantsTo(sa("composer"))).toEqual([
      `BucketIAMMember ${composer} roles/storage.objectAdmin`,
      `BucketIAMMember ${curated} roles/storage.objectAdmin`,
      `BucketIAMMember ${dataproc} roles/storage.objectAdmin`,
      `BucketIAMMember ${raw} roles/storage.objectViewer`,
      `IAMMember ${PROJECT} projects/${PROJECT}/roles/clickstreamJobSubmittera1b2c3`,
      `IAMMember ${PROJECT} roles/composer.worker`,
    ].sort());
    expect(grantsTo(sa("loader"))).toEqual([
      `BucketIAMMember ${curated} roles/storage.objectViewer`,
      "DatasetIamMember clickstream roles/bigquery.dataEditor",
      `IAMMember ${PROJECT} roles/bigquery.jobUser`,
    ].sort());
    expect(grantsTo(sa("trigger"))).toEqual([
      `IAMMember ${PROJECT} roles/eventarc.eventReceiver`,
      "ServiceIamMember clickstream-loader roles/run.invoker",
    ].sort());
    // The Hive cluster reads only the HiveQL folder of the Composer bucket.
    expect(byName(run, "identity-hive-hiveql-reader").inputs.condition.expression).toBe(
      `resource.name.startsWith("projects/_/buckets/${composer}/objects/dags/hql/")`,
    );
    // The custom role lets the DAG submit jobs but not create or delete clusters.
    const role = byName(run, "identity-job-submitter").inputs;
    expect(role.permissions).toContain("dataproc.jobs.create");
    expect(role.permissions.filter((p: string) => /clusters\.(create|delete|update)/.test(p))).toEqual([]);
  });

  it("wires the IAM a gen2 storage trigger needs", () => {
    expect(grantsTo(`serviceAccount:${STORAGE_AGENT}`)).toEqual([`IAMMember ${PROJECT} roles/pubsub.publisher`]);
    expect(byName(run, "identity-composer-agent-ext").inputs).toMatchObject({
      role: "roles/composer.ServiceAgentV2Ext",
      member: `serviceAccount:service-${PROJECT_NUMBER}@cloudcomposer-accounts.iam.gserviceaccount.com`,
      serviceAccountId: `projects/${PROJECT}/serviceAccounts/${email("composer")}`,
    });
  });

  it("keeps every bucket private with uniform access, deletable by destroy in dev, raw data expiring", () => {
    const buckets = byType(run, "gcp:storage/bucket:Bucket");
    expect(buckets.map((b) => b.name).sort()).toEqual(["storage-artifacts", "storage-composer", "storage-curated", "storage-dataproc", "storage-raw"]);
    for (const b of buckets) {
      expect(b.inputs).toMatchObject({ uniformBucketLevelAccess: true, publicAccessPrevention: "enforced", forceDestroy: true, location: "US-CENTRAL1" });
    }
    expect(buckets.filter((b) => b.inputs.softDeletePolicy.retentionDurationSeconds > 0).map((b) => b.name)).toEqual(["storage-curated"]);
    expect(byName(run, "storage-raw").inputs.lifecycleRules).toContainEqual({ condition: expect.objectContaining({ age: 30 }), action: { type: "Delete" } });
  });

  it("runs the streaming cluster on Dataproc 2.2 with Kafka, then the generator, and no idle deletion", () => {
    const cluster = byName(run, "streaming-cluster").inputs.clusterConfig;
    const artifacts = bucketName("artifacts");
    expect(cluster.softwareConfig.imageVersion).toBe("2.2-debian12");
    expect(cluster.softwareConfig.overrideProperties["dataproc:dataproc.allow.zero.workers"]).toBe("true");
    expect(cluster.masterConfig).toMatchObject({ numInstances: 1, machineType: "e2-standard-4" });
    expect(cluster.lifecycleConfig).toBeUndefined();
    expect(cluster.endpointConfig.enableHttpPortAccess).toBe(true);
    expect(cluster.stagingBucket).toBe(bucketName("dataproc"));
    expect(cluster.initializationActions.map((a: { script: string }) => a.script)).toEqual([
      `gs://${artifacts}/init/kafka-broker.sh`,
      `gs://${artifacts}/init/weblog-generator.sh`,
    ]);
    expect(cluster.gceClusterConfig.metadata).toMatchObject({
      // The release the local broker (sandbox/kafka/pom.xml) runs every test against.
      "kafka-version": kafkaVersion(),
      "kafka-topic": "weblogs",
      "kafka-partitions": "3",
      "generator-bundle-uri": `gs://${artifacts}/generator/generator.cjs`,
      "generator-topic": "weblogs",
    });
    expect(run.outputs.kafkaBootstrapServers).toBe("clickstream-stream-m:9092");
  });

  it("gives the init actions every metadata key they read, and they parse as bash", () => {
    const metadata = byName(run, "streaming-cluster").inputs.clusterConfig.gceClusterConfig.metadata;
    for (const script of ["kafka-broker.sh", "weblog-generator.sh"]) {
      const file = path.join(REPO_ROOT, "stacks/init", script);
      execFileSync("bash", ["-n", file]);
      const read = [...readFileSync(file, "utf8").matchAll(/\$\(metadata ([a-z0-9-]+)\)/g)].map((m) => m[1]).filter((k) => k !== "dataproc-role");
      expect(read.length).toBeGreaterThan(0);
      for (const key of read) expect(Object.keys(metadata)).toContain(key);
    }
  });

  it("submits the Spark streaming job to the streaming cluster with the job's own arguments", () => {
    const job = byName(run, "streaming-spark-job").inputs;
    const raw = bucketName("raw"), artifacts = bucketName("artifacts");
    expect(job.placement.clusterName).toBe("clickstream-stream");
    expect(job.pysparkConfig.mainPythonFileUri).toBe(`gs://${artifacts}/spark/weblog_stream.py`);
    expect(job.pysparkConfig.pythonFileUris).toEqual([`gs://${artifacts}/spark/jobs.zip`]);
    expect(job.pysparkConfig.properties["spark.jars.packages"]).toBe("org.apache.spark:spark-sql-kafka-0-10_2.12:3.5.3");
    expect(job.pysparkConfig.args).toEqual([
      "--bootstrap-servers", "clickstream-stream-m:9092", "--topic", "weblogs",
      "--raw", `gs://${raw}/events`, "--quarantine", `gs://${raw}/quarantine`,
      "--checkpoint", `gs://${raw}/_checkpoints`, "--markers", `gs://${raw}/_complete`,
      "--contract", `gs://${artifacts}/spark/weblog-entry.schema.json`,
    ]);
    expect(job.labels["source-sha256"]).toMatch(/^[0-9a-f]{32}$/);
    expect(job.scheduling.maxFailuresPerHour).toBeGreaterThan(0);
  });

  it("creates the external raw tables on the Hive cluster from the hourly script's own CREATE statements", () => {
    const hive = byName(run, "hive-cluster").inputs.clusterConfig;
    expect(hive.softwareConfig.imageVersion).toBe("2.2-debian12");
    const job = byName(run, "hive-create-raw-table").inputs;
    expect(job.placement.clusterName).toBe("clickstream-hive");
    expect(job.hiveConfig.queryLists.some((q: string) => /^CREATE EXTERNAL TABLE IF NOT EXISTS clickstream\.weblog_raw /.test(q))).toBe(true);
    expect(job.hiveConfig.queryLists.some((q: string) => /ALTER|DROP/i.test(q))).toBe(false);
    expect(job.hiveConfig.scriptVariables.RAW_LOCATION).toBe(`gs://${bucketName("raw")}/events`);
  });

  it("keeps only the CREATE statements of a HiveQL script, comments removed", () => {
    expect(createStatements("-- c;\nCREATE DATABASE x; -- y\nALTER TABLE t ADD PARTITION (a='1');\ncreate table t (a INT)\nSTORED AS PARQUET;")).toEqual([
      "CREATE DATABASE x",
      "create table t (a INT) STORED AS PARQUET",
    ]);
    expect(() => createStatements("ALTER TABLE t DROP PARTITION (a='1');")).toThrow("has no CREATE statement");
  });

  it("runs Composer 3 with Airflow 2.10.5 at the smallest size, its bucket owned by the stack", () => {
    const env = byName(run, "orchestration-environment").inputs;
    expect(env.config.softwareConfig.imageVersion).toMatch(/^composer-3-airflow-2\.10\.5-build\.\d+$/);
    expect(env.config.environmentSize).toBe("ENVIRONMENT_SIZE_SMALL");
    expect(env.storageConfig.bucket).toBe(bucketName("composer"));
    // Every Airflow variable dags/weblog_hourly.py reads, as Composer passes them: AIRFLOW_VAR_<NAME>.
    const dagSource = readFileSync(path.join(REPO_ROOT, "dags/weblog_hourly.py"), "utf8");
    const readByDag = [...dagSource.matchAll(/Variable\.get\(\s*["'](\w+)["']|var\.value\.(\w+)/g)].map((m) => (m[1] ?? m[2]).toUpperCase());
    expect(readByDag.length).toBeGreaterThan(0);
    const { [DAG_START_ENV]: startHour, ...airflowVariables } = env.config.softwareConfig.envVariables;
    expect(Object.keys(airflowVariables).sort()).toEqual([...new Set(readByDag)].map((v) => `AIRFLOW_VAR_${v}`).sort());
    // The DAG's catch-up starts at the hour of the first deployment, in the form the DAG parses.
    expect(dagSource).toContain(`os.environ.get("${DAG_START_ENV}"`);
    expect(startHour).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:00:00\+00:00$/);
    expect(airflowVariables).toEqual({
      AIRFLOW_VAR_WEBLOG_PROJECT_ID: PROJECT,
      AIRFLOW_VAR_WEBLOG_REGION: "us-central1",
      AIRFLOW_VAR_WEBLOG_HIVE_CLUSTER: "clickstream-hive",
      AIRFLOW_VAR_WEBLOG_SCRIPTS_URI: `gs://${bucketName("composer")}/dags/hql`,
      AIRFLOW_VAR_WEBLOG_RAW_BUCKET: bucketName("raw"),
      AIRFLOW_VAR_WEBLOG_STAGING_URI: `gs://${bucketName("dataproc")}/hourly-staging`,
      AIRFLOW_VAR_WEBLOG_CURATED_BUCKET: bucketName("curated"),
      AIRFLOW_VAR_WEBLOG_MAX_QUARANTINE_SHARE: "0.05",
    });
  });

  it("uploads every DAG file and HiveQL script into the Composer DAG folder", () => {
    const uploaded = byType(run, "gcp:storage/bucketObject:BucketObject").filter((o) => o.inputs.bucket === bucketName("composer"));
    const expected = [
      ...readdirSync(path.join(REPO_ROOT, "dags")).filter((f) => f.endsWith(".py")).map((f) => `dags/${f}`),
      ...readdirSync(path.join(REPO_ROOT, "jobs")).filter((f) => f.endsWith(".hql")).map((f) => `dags/hql/${f}`),
    ].sort();
    expect(expected.length).toBeGreaterThan(0);
    expect(uploaded.map((o) => o.inputs.name).sort()).toEqual(expected);
  });

  it("declares the warehouse of the loader's design: monthly partitions on hour, clustering, views, raw external table", () => {
    const hourly = byName(run, "warehouse-hourly-activity").inputs;
    expect(hourly.timePartitioning).toEqual({ type: "MONTH", field: "hour" });
    expect(hourly.clusterings).toEqual(["hour", "product_id"]);
    const contractColumns = JSON.parse(readFileSync(path.join(REPO_ROOT, "contract/hourly-activity.schema.json"), "utf8"));
    expect(JSON.parse(hourly.schema)).toEqual(contractColumns);
    expect(byName(run, "warehouse-dataset").inputs).toMatchObject({ datasetId: "clickstream", location: "us-central1", deleteContentsOnDestroy: true });
    for (const view of ["hourly-activity-latest", "hourly-totals"]) {
      const v = byName(run, `warehouse-view-${view}`).inputs.view;
      expect(v.useLegacySql).toBe(false);
      expect(v.query).toContain(`${PROJECT}.clickstream.`);
      expect(v.query).not.toContain("{{");
    }
    const external = byName(run, "warehouse-raw-entries").inputs.externalDataConfiguration;
    expect(external.sourceFormat).toBe("PARQUET");
    expect(external.sourceUris).toEqual([`gs://${bucketName("raw")}/events/dt=*`]);
    expect(external.hivePartitioningOptions.sourceUriPrefix).toBe(`gs://${bucketName("raw")}/events/{dt:DATE}/{hr:INTEGER}`);
    expect(external.hivePartitioningOptions.mode).toBe("CUSTOM");
    expect(run.outputs.bigqueryHourlyTable).toBe(`${PROJECT}.clickstream.hourly_activity`);
  });

  it("deploys the loader as a gen2 nodejs22 function, internal only, retried, triggered by curated objects", () => {
    const fn = byName(run, "loader-function").inputs;
    const archive = byName(run, "artifacts-loader-archive").inputs;
    expect(fn.buildConfig).toMatchObject({ runtime: "nodejs22", entryPoint: "loadHourlyActivity" });
    expect(fn.buildConfig.source.storageSource).toEqual({ bucket: bucketName("artifacts"), object: archive.name });
    expect(fn.serviceConfig.ingressSettings).toBe("ALLOW_INTERNAL_ONLY");
    expect(fn.eventTrigger).toMatchObject({
      eventType: "google.cloud.storage.object.v1.finalized",
      retryPolicy: "RETRY_POLICY_RETRY",
      eventFilters: [{ attribute: "bucket", value: bucketName("curated") }],
    });
    expect(fn.serviceConfig.environmentVariables).toMatchObject({
      WAREHOUSE_PROJECT: PROJECT, WAREHOUSE_DATASET: "clickstream", HOURLY_TABLE: "hourly_activity", CURATED_BUCKET: bucketName("curated"),
    });
    expect(run.outputs.loaderFunction).toBe("clickstream-loader");
  });

  it("sets an environment the loader's own cold-start check accepts", () => {
    const env = byName(run, "loader-function").inputs.serviceConfig.environmentVariables;
    expect(readLoaderConfig(env)).toMatchObject({
      project: PROJECT, dataset: "clickstream", location: "us-central1", hourlyTable: "hourly_activity",
      loadLogTable: "hourly_activity_loads", curatedBucket: bucketName("curated"), loadWaitSeconds: 300,
    });
    expect(env.BIGQUERY_API_ENDPOINT).toBeUndefined();
  });

  it("uploads the built artifacts from the repository, the function archive named by its content", () => {
    const objects = byType(run, "gcp:storage/bucketObject:BucketObject").filter((o) => o.inputs.bucket === bucketName("artifacts"));
    expect(objects.map((o) => o.inputs.name).sort()).toEqual([
      expect.stringMatching(/^functions\/loader-[0-9a-f]{16}\.zip$/),
      "generator/generator.cjs",
      "init/kafka-broker.sh",
      "init/weblog-generator.sh",
      "spark/jobs.zip",
      "spark/weblog-entry.schema.json",
      "spark/weblog_stream.py",
    ]);
    const archive = byName(run, "artifacts-loader-archive").inputs.name as string;
    expect(archive).toBe(`functions/loader-${folderSha256(path.join(REPO_ROOT, "dist/loader")).slice(0, 16)}.zip`);
    // Assets and archives, never inline placeholder text.
    for (const o of objects) expect(o.inputs.source.__pulumiAsset || o.inputs.source.__pulumiArchive).toBe(true);
    expect(objects.every((o: DeclaredResource) => o.inputs.content === undefined)).toBe(true);
  });

  it("exports where everything is, named for what the user does next", () => {
    expect(Object.keys(run.outputs).sort()).toEqual([
      "airflowUrl", "artifactsBucket", "bigqueryHourlyTable", "bigqueryHourlyTotalsView", "bigqueryRawEntriesTable",
      "bqQueryCommand", "composerDagFolder", "curatedBucket", "hiveClusterGatewayUrls", "kafkaBootstrapServers", "kafkaTopic",
      "loaderFunction", "rawBucket", "sshToStreamMaster", "streamClusterGatewayUrls", "streamingJobId",
    ]);
    expect(run.outputs.airflowUrl).toMatch(/^https:\/\//);
    expect(Object.keys(run.outputs.streamClusterGatewayUrls as object)).toContain("YARN ResourceManager");
    expect(run.outputs.bqQueryCommand).toBe(
      `bq query --project_id=${PROJECT} --use_legacy_sql=false 'SELECT * FROM \`${PROJECT}.clickstream.hourly_totals\` ORDER BY hour DESC LIMIT 24'`,
    );
  });
});
