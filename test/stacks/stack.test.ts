import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { readLoaderConfig } from "../../functions/loader/src/loaderConfig";
import { DELAYS } from "../../stacks/consistency";
import { DAG_START_ENV } from "../../stacks/orchestration";
import { kafkaVersion } from "../../sandbox/processes/kafkaFiles";
import {
  byName,
  byType,
  DeclaredResource,
  DEFAULT_GRAPH,
  ProgramRun,
  PROJECT_NUMBER,
  REPO_ROOT,
  runProgram,
  STORAGE_AGENT,
  stackFileConfig,
} from "./pulumiProgram";
import { securityPolicies } from "../../policy/securityPolicies";
import { violations } from "../policy/violations";

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
    .map(
      (r) =>
        `${r.type.split(":").pop()} ${r.inputs.bucket ?? r.inputs.datasetId ?? r.inputs.name ?? r.inputs.serviceAccountId ?? r.inputs.project} ${r.inputs.role}`,
    )
    .sort();

/** The archive's content hash worked out a second way: `find` lists the files, C-locale `sort` orders them. */
function loaderFolderHash(): string {
  const folder = path.join(REPO_ROOT, "dist/loader");
  const listed = execFileSync("find", [".", "-type", "f"], { cwd: folder, encoding: "utf8" });
  const files = execFileSync("sort", [], { input: listed, encoding: "utf8", env: { ...process.env, LC_ALL: "C" } })
    .split("\n")
    .filter(Boolean)
    .map((f) => f.replace(/^\.\//, ""));
  expect(files).toContain("index.js");
  const hash = createHash("sha256");
  for (const f of files)
    hash
      .update(`${f}\0`)
      .update(readFileSync(path.join(folder, f)))
      .update("\0");
  return hash.digest("hex");
}

/** Who can read and write what, as the access table (docs/access.md) says it, worked out from the grants in the graph. */
function accessTable(graph: ProgramRun): string[] {
  const bucketRole = new Map(
    byType(graph, "gcp:storage/bucket:Bucket").map((b) => [b.inputs.name, b.name.replace(/^storage-/, "")]),
  );
  const label = (member: string) => {
    const m = /^serviceAccount:(.+)@(.+)\.iam\.gserviceaccount\.com$/.exec(member)!;
    return m[1].startsWith("service-") ? `${m[2]} agent` : m[1];
  };
  const role = (r: string) =>
    r.replace(/^roles\//, "").replace(/^projects\/[^/]+\/roles\/clickstream(.+)a1b2c3$/, "$1 (custom)");
  const rows = new Map<string, { reads: Set<string>; writes: Set<string>; also: Set<string> }>();
  for (const g of graph.resources.filter((r) => /IAMMember|IamMember/.test(r.type))) {
    const who = label(g.inputs.member);
    const row = rows.get(who) ?? { reads: new Set(), writes: new Set(), also: new Set() };
    rows.set(who, row);
    const { bucket, condition } = g.inputs;
    if (g.type === "gcp:storage/bucketIAMMember:BucketIAMMember") {
      const name = `${bucketRole.get(bucket)}${condition ? " (dags/hql/ only)" : ""}`;
      (g.inputs.role === "roles/storage.objectAdmin" ? row.writes : row.reads).add(name);
    } else if (g.type === "gcp:projects/iAMMember:IAMMember" && condition) {
      const onlyBucket = /buckets\/([^/]+)\//.exec(condition.expression)![1];
      row.reads.add(onlyBucket.replace(PROJECT_NUMBER, "PROJECT_NUMBER").replace("us-central1", "REGION"));
    } else if (g.type === "gcp:projects/iAMMember:IAMMember") row.also.add(`project: ${role(g.inputs.role)}`);
    else if (g.type === "gcp:bigquery/iamMember:IamMember")
      row.also.add(`table ${g.inputs.tableId}: ${role(g.inputs.role)}`);
    else if (g.type === "gcp:bigquery/datasetIamMember:DatasetIamMember")
      row.also.add(`dataset ${g.inputs.datasetId}: ${role(g.inputs.role)}`);
    else if (g.type === "gcp:cloudrunv2/serviceIamMember:ServiceIamMember")
      row.also.add(`function ${g.inputs.name}: ${role(g.inputs.role)}`);
    else if (g.type === "gcp:artifactregistry/repositoryIamMember:RepositoryIamMember")
      row.also.add(`repository ${g.inputs.repository}: ${role(g.inputs.role)}`);
    else if (g.type === "gcp:secretmanager/secretIamMember:SecretIamMember")
      row.also.add(`secret ${g.inputs.secretId}: ${role(g.inputs.role)}`);
    else if (g.type === "gcp:dataproc/clusterIAMMember:ClusterIAMMember")
      row.also.add(`cluster ${g.inputs.cluster}: ${role(g.inputs.role)}`);
    else if (g.type === "gcp:serviceaccount/iAMMember:IAMMember")
      row.also.add(`account ${g.inputs.serviceAccountId.replace(/^.*\/(.+)@.*$/, "$1")}: ${role(g.inputs.role)}`);
    else throw new Error(`a grant of an unknown kind: ${g.type}`);
  }
  for (const row of rows.values()) for (const written of row.writes) row.reads.delete(written);
  const cell = (items: Set<string>) => [...items].sort().join(", ") || "-";
  return [...rows.entries()]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([who, r]) => `| ${who} | ${cell(r.reads)} | ${cell(r.writes)} | ${cell(r.also)} |`);
}

describe("the deployed graph (dev stack, Pulumi mocks)", () => {
  it("lists the whole graph: every kind of resource, each as many times as the pipeline needs it", () => {
    const counts: Record<string, number> = {};
    for (const r of run.resources) counts[r.type] = (counts[r.type] ?? 0) + 1;
    expect(counts).toEqual(DEFAULT_GRAPH);
    const tables = byType(run, "gcp:bigquery/table:Table");
    expect(tables.map((t) => t.name).sort()).toEqual([
      "warehouse-hourly-activity",
      "warehouse-load-log",
      "warehouse-raw-entries",
      "warehouse-view-hourly-activity-latest",
      "warehouse-view-hourly-totals",
    ]);
    // The dev stack sets forceDestroy, so nothing is protected; warehouseStack.test.ts covers the default.
    expect(Object.fromEntries(tables.map((t) => [t.name, t.inputs.deletionProtection]))).toEqual({
      "warehouse-hourly-activity": false,
      "warehouse-load-log": false,
      "warehouse-raw-entries": false,
      "warehouse-view-hourly-activity-latest": false,
      "warehouse-view-hourly-totals": false,
    });
  });

  it("enables every API the pipeline calls and leaves them enabled on destroy", () => {
    const services = byType(run, "gcp:projects/service:Service");
    expect(services.map((s) => s.inputs.service).sort()).toEqual([
      "artifactregistry.googleapis.com",
      "bigquery.googleapis.com",
      "cloudbuild.googleapis.com",
      "cloudfunctions.googleapis.com",
      "composer.googleapis.com",
      "compute.googleapis.com",
      "dataproc.googleapis.com",
      "eventarc.googleapis.com",
      "iam.googleapis.com",
      "iap.googleapis.com",
      "logging.googleapis.com",
      "monitoring.googleapis.com",
      "pubsub.googleapis.com",
      "run.googleapis.com",
      "secretmanager.googleapis.com",
      "storage.googleapis.com",
    ]);
    expect(services.every((s) => s.inputs.disableOnDestroy === false && s.inputs.project === PROJECT)).toBe(true);
  });

  it("declares every Google resource to wait for the APIs, even those inside components", () => {
    const apis = byType(run, "gcp:projects/service:Service").map((s) => s.name);
    const waiting = run.resources.filter((r) => r.type.startsWith("gcp:") && r.type !== "gcp:projects/service:Service");
    expect(waiting.length).toBeGreaterThan(80);
    expect(byName(run, "apis-ready").dependsOn).toEqual(apis);
    expect(waiting.filter((r) => !r.dependsOn.includes("apis-ready")).map((r) => r.name)).toEqual([]);
  });

  it("builds a dedicated VPC whose subnet has Private Google Access, and no NAT: no node reaches outside Google", () => {
    const vpc = byName(run, "network-vpc");
    expect(vpc.inputs.autoCreateSubnetworks).toBe(false);
    const subnet = byName(run, "network-subnet");
    expect(subnet.inputs).toMatchObject({
      ipCidrRange: "10.20.0.0/24",
      privateIpGoogleAccess: true,
      region: "us-central1",
      network: "network-vpc-id",
    });
    expect(run.resources.filter((r) => /compute\/router/.test(r.type))).toEqual([]);
  });

  it("admits each cluster's nodes to each other, Kafka's port on the streaming master from the subnet alone, and SSH only from IAP's range when the stack allows it", () => {
    const rules = byType(run, "gcp:compute/firewall:Firewall");
    expect(
      rules.map((r) => [r.name, r.inputs.sourceRanges ?? r.inputs.sourceTags, r.inputs.targetTags]).sort(),
    ).toEqual([
      ["network-allow-iap-ssh", ["35.235.240.0/20"], undefined],
      ["network-allow-kafka", ["10.20.0.0/24"], ["clickstream-stream"]],
      ["network-allow-within-hive", ["clickstream-hive"], ["clickstream-hive"]],
      ["network-allow-within-stream", ["clickstream-stream"], ["clickstream-stream"]],
    ]);
    expect(byName(run, "network-allow-kafka").inputs.allows).toEqual([{ protocol: "tcp", ports: ["9092"] }]);
    // No rule admits a machine of the subnet to every port, nor anything to the controller's port (loopback only).
    expect(
      rules.filter((r) => r.inputs.sourceRanges?.includes("10.20.0.0/24") && r.name !== "network-allow-kafka"),
    ).toEqual([]);
    expect(
      rules
        .flatMap((r) => r.inputs.allows.flatMap((a: { ports?: string[] }) => a.ports ?? []))
        .filter((p: string) => p === "9093"),
    ).toEqual([]);
    // The tags are the ones the clusters' nodes carry.
    expect(byName(run, "streaming-cluster").inputs.clusterConfig.gceClusterConfig.tags).toEqual(["clickstream-stream"]);
    expect(byName(run, "hive-cluster").inputs.clusterConfig.gceClusterConfig.tags).toEqual(["clickstream-hive"]);
    expect(byName(run, "network-allow-iap-ssh").inputs.allows).toEqual([{ protocol: "tcp", ports: ["22"] }]);
    expect(rules.every((r) => r.inputs.direction === "INGRESS" && r.inputs.network === "network-vpc-id")).toBe(true);
  });

  it("uses no external IP address anywhere", () => {
    expect(byType(run, "gcp:compute/address:Address")).toEqual([]);
    expect(byType(run, "gcp:compute/instance:Instance")).toEqual([]);
    const clusters = byType(run, "gcp:dataproc/cluster:Cluster");
    expect(clusters).toHaveLength(2);
    for (const cluster of clusters) {
      expect(cluster.inputs.clusterConfig.gceClusterConfig).toMatchObject({
        internalIpOnly: true,
        subnetwork: "network-subnet-id",
      });
    }
    expect(byName(run, "orchestration-environment").inputs.config.enablePrivateEnvironment).toBe(true);
  });

  it("gives each component its own service account", () => {
    const accounts = byType(run, "gcp:serviceaccount/account:Account")
      .map((a) => a.inputs.accountId)
      .sort();
    expect(accounts).toEqual([
      "clickstream-composer",
      "clickstream-hive",
      "clickstream-loader",
      "clickstream-loader-build",
      "clickstream-stream",
      "clickstream-trigger",
    ]);
    expect(byName(run, "streaming-cluster").inputs.clusterConfig.gceClusterConfig.serviceAccount).toBe(email("stream"));
    expect(byName(run, "hive-cluster").inputs.clusterConfig.gceClusterConfig.serviceAccount).toBe(email("hive"));
    expect(byName(run, "orchestration-environment").inputs.config.nodeConfig.serviceAccount).toBe(email("composer"));
    const fn = byName(run, "loader-function").inputs;
    expect(fn.serviceConfig.serviceAccountEmail).toBe(email("loader"));
    expect(fn.buildConfig.serviceAccount).toBe(`projects/${PROJECT}/serviceAccounts/${email("loader-build")}`);
    expect(fn.eventTrigger.serviceAccountEmail).toBe(email("trigger"));
  });

  it("lets only the Hive cluster and Composer write the hourly staging place, not the streaming cluster that runs the broker", () => {
    const hourly = bucketName("hourly");
    const writers = byType(run, "gcp:storage/bucketIAMMember:BucketIAMMember")
      .filter((g) => g.inputs.bucket === hourly && g.inputs.role === "roles/storage.objectAdmin")
      .map((g) => g.inputs.member)
      .sort();
    expect(writers).toEqual([`serviceAccount:${email("composer")}`, `serviceAccount:${email("hive")}`]);
    const [staging] = byName(run, "orchestration-environment")
      .inputs.config.softwareConfig.envVariables.AIRFLOW_VAR_WEBLOG_STAGING_URI.match(/^gs:\/\/([^/]+)\//)
      .slice(1);
    expect(staging).toBe(hourly);
    expect(grantsTo(sa("stream")).filter((g) => g.includes(hourly))).toEqual([]);
  });

  it("grants each account only the roles of its stage, at bucket or dataset scope where one exists", () => {
    const raw = bucketName("raw"),
      curated = bucketName("curated"),
      artifacts = bucketName("artifacts"),
      dataproc = bucketName("dataproc"),
      composer = bucketName("composer");
    const temp = bucketName("dataproc-temp");
    const hourly = bucketName("hourly");
    const custom = (role: string) => `IAMMember ${PROJECT} projects/${PROJECT}/roles/clickstream${role}a1b2c3`;
    expect(grantsTo(sa("stream"))).toEqual(
      [
        `BucketIAMMember ${artifacts} roles/storage.objectViewer`,
        `BucketIAMMember ${dataproc} roles/storage.legacyBucketReader`,
        `BucketIAMMember ${dataproc} roles/storage.objectAdmin`,
        `BucketIAMMember ${temp} roles/storage.legacyBucketReader`,
        `BucketIAMMember ${temp} roles/storage.objectAdmin`,
        `BucketIAMMember ${raw} roles/storage.legacyBucketReader`,
        `BucketIAMMember ${raw} roles/storage.objectAdmin`,
        custom("DataprocNode"),
        `IAMMember ${PROJECT} roles/logging.logWriter`,
        `IAMMember ${PROJECT} roles/monitoring.metricWriter`,
        // The broker, the generator and the job on the master read their own Kafka passwords; the shipper's is not theirs.
        `SecretIamMember ${PROJECT} roles/secretmanager.secretAccessor`,
        `SecretIamMember ${PROJECT} roles/secretmanager.secretAccessor`,
        `SecretIamMember ${PROJECT} roles/secretmanager.secretAccessor`,
      ].sort(),
    );
    expect(
      byType(run, "gcp:secretmanager/secretIamMember:SecretIamMember")
        .map((g) => g.inputs.secretId)
        .sort(),
    ).toEqual(["clickstream-kafka-admin", "clickstream-kafka-generator", "clickstream-kafka-stream"]);
    expect(grantsTo(sa("hive"))).toEqual(
      [
        `BucketIAMMember ${composer} roles/storage.objectViewer`,
        `BucketIAMMember ${dataproc} roles/storage.legacyBucketReader`,
        `BucketIAMMember ${dataproc} roles/storage.objectAdmin`,
        `BucketIAMMember ${temp} roles/storage.legacyBucketReader`,
        `BucketIAMMember ${temp} roles/storage.objectAdmin`,
        `BucketIAMMember ${hourly} roles/storage.legacyBucketReader`,
        `BucketIAMMember ${hourly} roles/storage.objectAdmin`,
        `BucketIAMMember ${raw} roles/storage.legacyBucketReader`,
        `BucketIAMMember ${raw} roles/storage.objectViewer`,
        custom("DataprocNode"),
        `IAMMember ${PROJECT} roles/logging.logWriter`,
        `IAMMember ${PROJECT} roles/monitoring.metricWriter`,
      ].sort(),
    );
    expect(grantsTo(sa("composer"))).toEqual(
      [
        `BucketIAMMember ${composer} roles/storage.legacyBucketReader`,
        `BucketIAMMember ${composer} roles/storage.objectAdmin`,
        `BucketIAMMember ${curated} roles/storage.objectAdmin`,
        `BucketIAMMember ${hourly} roles/storage.objectAdmin`,
        `BucketIAMMember ${raw} roles/storage.objectViewer`,
        `IAMMember ${PROJECT} roles/composer.worker`,
        custom("JobSubmitter"),
        `ClusterIAMMember ${PROJECT} projects/${PROJECT}/roles/clickstreamClusterUsera1b2c3`,
        `IAMMember ${PROJECT} roles/logging.logWriter`,
        `IAMMember ${PROJECT} roles/monitoring.metricWriter`,
        // The reconcile task's query of the lineage table, and nothing else of the warehouse.
        `IAMMember ${PROJECT} roles/bigquery.jobUser`,
        "IamMember clickstream roles/bigquery.dataViewer",
      ].sort(),
    );
    expect(grantsTo(sa("loader"))).toEqual(
      [
        `BucketIAMMember ${curated} roles/storage.objectViewer`,
        "DatasetIamMember clickstream roles/bigquery.dataEditor",
        `IAMMember ${PROJECT} roles/bigquery.jobUser`,
      ].sort(),
    );
    expect(grantsTo(sa("loader-build"))).toEqual(
      [
        `BucketIAMMember ${artifacts} roles/storage.objectViewer`,
        `IAMMember ${PROJECT} roles/logging.logWriter`,
        `IAMMember ${PROJECT} roles/storage.objectViewer`,
        `RepositoryIamMember ${PROJECT} roles/artifactregistry.writer`,
      ].sort(),
    );
    // The build fetches the source from Cloud Functions' own copy, and may read nothing else at project scope.
    expect(byName(run, "identity-loader-build-sources-reader").inputs.condition.expression).toBe(
      `resource.name.startsWith("projects/_/buckets/gcf-v2-sources-${PROJECT_NUMBER}-us-central1/")`,
    );
    expect(byName(run, "loader-build-image-writer").inputs).toMatchObject({
      repository: "clickstream-loader-builds",
      location: "us-central1",
    });
    expect(grantsTo(sa("trigger"))).toEqual(
      [
        `IAMMember ${PROJECT} roles/eventarc.eventReceiver`,
        "ServiceIamMember clickstream-loader roles/run.invoker",
      ].sort(),
    );
    // The Hive cluster reads only the HiveQL folder of the Composer bucket.
    expect(byName(run, "identity-hive-hiveql-reader").inputs.condition.expression).toBe(
      `resource.name.startsWith("projects/_/buckets/${composer}/objects/dags/hql/")`,
    );
    // The custom role lets the DAG submit jobs but not create or delete clusters.
    const role = byName(run, "identity-job-submitter").inputs;
    expect(role.permissions).toContain("dataproc.jobs.create");
    expect(role.permissions.filter((p: string) => /clusters\.(create|delete|update)/.test(p))).toEqual([]);
  });

  it("lets Composer submit jobs to the Hive cluster only: no project grant carries the use of a cluster", () => {
    const customRoles = new Map(
      byType(run, "gcp:projects/iAMCustomRole:IAMCustomRole").map((r) => [
        `projects/${PROJECT}/roles/${r.inputs.roleId}`,
        r.inputs.permissions as string[],
      ]),
    );
    const projectPermissions = run.resources
      .filter((r) => r.type === "gcp:projects/iAMMember:IAMMember" && r.inputs.member === sa("composer"))
      .flatMap((r) => customRoles.get(r.inputs.role) ?? []);
    expect(projectPermissions).toContain("dataproc.jobs.create");
    expect(projectPermissions.filter((p) => p.startsWith("dataproc.clusters."))).toEqual([]);
    const onClusters = byType(run, "gcp:dataproc/clusterIAMMember:ClusterIAMMember");
    expect(onClusters.map((g) => [g.inputs.cluster, g.inputs.member, customRoles.get(g.inputs.role)])).toEqual([
      ["clickstream-hive", sa("composer"), ["dataproc.clusters.get", "dataproc.clusters.use"]],
    ]);
    expect(onClusters[0].inputs).toMatchObject({ project: PROJECT, region: "us-central1" });
  });

  it("grants no storage permission at project scope beyond one named bucket and Composer's required role, and no bucket admin anywhere", () => {
    const projectGrants = byType(run, "gcp:projects/iAMMember:IAMMember");
    const storageOnProject = projectGrants.filter((g) => g.inputs.role.startsWith("roles/storage."));
    expect(storageOnProject.map((g) => [g.name, g.inputs.condition?.expression])).toEqual([
      [
        "identity-loader-build-sources-reader",
        `resource.name.startsWith("projects/_/buckets/gcf-v2-sources-${PROJECT_NUMBER}-us-central1/")`,
      ],
    ]);
    // Composer requires roles/composer.worker on the environment's account, and on that account only.
    const composerWorker = projectGrants.filter((g) => g.inputs.role === "roles/composer.worker");
    expect(composerWorker.map((g) => g.inputs.member)).toEqual([
      `serviceAccount:clickstream-composer@${PROJECT}.iam.gserviceaccount.com`,
    ]);
    const ours = projectGrants.filter(
      (g) =>
        g.inputs.member.endsWith(`@${PROJECT}.iam.gserviceaccount.com`) &&
        !storageOnProject.includes(g) &&
        !composerWorker.includes(g),
    );
    const predefined = [
      ...new Set(ours.map((g) => g.inputs.role as string).filter((r) => r.startsWith("roles/"))),
    ].sort();
    // Checked against Google's role reference: none of these carries a storage.* permission.
    expect(predefined).toEqual([
      "roles/bigquery.jobUser",
      "roles/eventarc.eventReceiver",
      "roles/logging.logWriter",
      "roles/monitoring.metricWriter",
    ]);
    // Google's own agents get the roles Google designed for them, nothing more.
    const agents = projectGrants
      .filter((g) => /^serviceAccount:service-/.test(g.inputs.member))
      .map((g) => g.inputs.role)
      .sort();
    expect(agents).toEqual(["roles/composer.serviceAgent", "roles/eventarc.serviceAgent", "roles/pubsub.publisher"]);
    for (const role of byType(run, "gcp:projects/iAMCustomRole:IAMCustomRole")) {
      expect(role.inputs.permissions.filter((p: string) => p.startsWith("storage."))).toEqual([]);
    }
    // Each custom role's permissions in full: one more (a cluster delete, an actAs) fails here, not only a storage one.
    const customRoles = Object.fromEntries(
      byType(run, "gcp:projects/iAMCustomRole:IAMCustomRole").map((r) => [r.name, [...r.inputs.permissions].sort()]),
    );
    expect(customRoles).toEqual({
      // The permissions Dataproc checks on the cluster's account at create ("Dataproc Worker or all its permissions").
      "identity-dataproc-node": [
        "dataproc.agents.create",
        "dataproc.agents.delete",
        "dataproc.agents.get",
        "dataproc.agents.list",
        "dataproc.agents.update",
        "dataproc.tasks.lease",
        "dataproc.tasks.listInvalidatedLeases",
        "dataproc.tasks.reportStatus",
      ],
      "identity-job-submitter": [
        "dataproc.jobs.cancel",
        "dataproc.jobs.create",
        "dataproc.jobs.get",
        "dataproc.operations.get",
      ],
      "identity-cluster-user": ["dataproc.clusters.get", "dataproc.clusters.use"],
    });
    const bucketRoles = new Set(byType(run, "gcp:storage/bucketIAMMember:BucketIAMMember").map((g) => g.inputs.role));
    expect([...bucketRoles].sort()).toEqual([
      "roles/storage.legacyBucketReader",
      "roles/storage.objectAdmin",
      "roles/storage.objectViewer",
    ]);
  });

  it("grants exactly what the access table (docs/access.md) says each identity can read and write", () => {
    const access = readFileSync(path.join(REPO_ROOT, "docs", "access.md"), "utf8").split("\n");
    const header = access.indexOf("| identity | reads | reads and writes | and also |");
    expect(header).toBeGreaterThan(0);
    const documented = access
      .slice(header + 2)
      .filter((_, i, rows) => rows.slice(0, i + 1).every((r) => r.startsWith("|")));
    expect(documented).toEqual(accessTable(run));
  });

  it("creates each service agent before granting it anything", () => {
    const agents = byType(run, "gcp:projects/serviceIdentity:ServiceIdentity");
    expect(agents.map((a) => [a.name, a.inputs.service])).toEqual([
      ["identity-composer-agent", "composer.googleapis.com"],
      ["identity-eventarc-agent", "eventarc.googleapis.com"],
      ["identity-pubsub-agent", "pubsub.googleapis.com"],
    ]);
    const agent = (domain: string) => `serviceAccount:service-${PROJECT_NUMBER}@${domain}.iam.gserviceaccount.com`;
    // Each grant names the agent through the ServiceIdentity's own output, so it is declared after it.
    expect(grantsTo(agent("cloudcomposer-accounts"))).toEqual([
      `IAMMember ${PROJECT} roles/composer.serviceAgent`,
      `IAMMember projects/${PROJECT}/serviceAccounts/${email("composer")} roles/composer.ServiceAgentV2Ext`,
    ]);
    expect(byName(run, "identity-composer-agent-ext").inputs).toEqual({
      role: "roles/composer.ServiceAgentV2Ext",
      member: agent("cloudcomposer-accounts"),
      serviceAccountId: `projects/${PROJECT}/serviceAccounts/${email("composer")}`,
    });
    expect(grantsTo(agent("gcp-sa-eventarc"))).toEqual([`IAMMember ${PROJECT} roles/eventarc.serviceAgent`]);
    expect(byName(run, "identity-pubsub-agent-token-creator").inputs).toEqual({
      role: "roles/iam.serviceAccountTokenCreator",
      member: agent("gcp-sa-pubsub"),
      serviceAccountId: `projects/${PROJECT}/serviceAccounts/${email("trigger")}`,
    });
    // Cloud Storage's agent comes from the getter that creates it; it publishes the bucket's events.
    expect(grantsTo(`serviceAccount:${STORAGE_AGENT}`)).toEqual([`IAMMember ${PROJECT} roles/pubsub.publisher`]);
  });

  it("creates the loader and its Eventarc trigger only after every grant had time to propagate", () => {
    const wait = byName(run, "iam-grants-propagated");
    expect(wait.type).toBe("time:index/sleep:Sleep");
    expect(wait.inputs.createDuration).toBe(`${DELAYS.iamGrant.seconds}s`);
    const grants = run.resources
      .filter(
        (r) =>
          /IAMMember|IamMember/.test(r.type) &&
          !r.name.startsWith("loader-") &&
          r.name !== "hive-composer-job-submitter",
      )
      .map((r) => r.name);
    // Every grant but the loader's own two (its repository grant has a wait of its own, its invoker grant follows the
    // function) and Composer's on the Hive cluster, which its hourly runs use, long after the environment exists.
    expect(grants).toHaveLength(48);
    // It waits for each grant (dependsOn) and is replaced when any grant is (its triggers are their ids).
    expect([...wait.dependsOn].filter((n) => !n.startsWith("apis-")).sort()).toEqual([...grants].sort());
    expect(wait.inputs.triggers.waitsFor.split(",")).toEqual(grants.map((g) => `${g}-id`).sort());
    expect(byName(run, "loader-function").dependsOn).toEqual(
      expect.arrayContaining(["iam-grants-propagated", "loader-repository-grant-propagated"]),
    );
  });

  it("boots each cluster only after its grants propagated", () => {
    for (const cluster of ["streaming-cluster", "hive-cluster"]) {
      expect(byName(run, cluster).dependsOn).toContain("iam-grants-propagated");
    }
  });

  it("keeps every bucket private with uniform access, deletable by destroy in dev, raw data expiring", () => {
    const buckets = byType(run, "gcp:storage/bucket:Bucket");
    expect(buckets.map((b) => b.name).sort()).toEqual([
      "storage-artifacts",
      "storage-composer",
      "storage-curated",
      "storage-dataproc",
      "storage-dataproc-temp",
      "storage-hourly",
      "storage-raw",
    ]);
    for (const b of buckets) {
      expect(b.inputs).toMatchObject({
        uniformBucketLevelAccess: true,
        publicAccessPrevention: "enforced",
        forceDestroy: true,
        location: "US-CENTRAL1",
      });
    }
    expect(buckets.filter((b) => b.inputs.softDeletePolicy.retentionDurationSeconds > 0).map((b) => b.name)).toEqual([
      "storage-curated",
    ]);
    expect(byName(run, "storage-raw").inputs.lifecycleRules).toContainEqual({
      condition: expect.objectContaining({ age: 30 }),
      action: { type: "Delete" },
    });
  });

  it("never expires Dataproc's staging files: the DAG's hourly staging and the temp data expire, each in a bucket of its own", () => {
    // Google: the staging bucket has no TTL; repaired and autoscaled nodes read the cluster's files from it.
    expect(byName(run, "storage-dataproc").inputs.lifecycleRules).toBeUndefined();
    expect(byName(run, "storage-hourly").inputs.lifecycleRules).toEqual([
      { condition: { age: 30 }, action: { type: "Delete" } },
    ]);
    expect(byName(run, "storage-dataproc-temp").inputs.lifecycleRules).toEqual([
      { condition: { age: 90 }, action: { type: "Delete" } },
    ]);
    for (const cluster of ["streaming-cluster", "hive-cluster"]) {
      expect(byName(run, cluster).inputs.clusterConfig).toMatchObject({
        stagingBucket: bucketName("dataproc"),
        tempBucket: bucketName("dataproc-temp"),
      });
    }
  });

  it("runs the streaming cluster on Dataproc 2.2 with Kafka, then the generator, and no idle deletion", () => {
    const cluster = byName(run, "streaming-cluster").inputs.clusterConfig;
    const artifacts = bucketName("artifacts");
    expect(cluster.softwareConfig.imageVersion).toBe("2.2-debian12");
    expect(cluster.softwareConfig.overrideProperties["dataproc:dataproc.allow.zero.workers"]).toBe("true");
    // The alerts on raw intake and quarantine read the job's driver output in Cloud Logging.
    expect(cluster.softwareConfig.overrideProperties["dataproc:dataproc.logging.stackdriver.job.driver.enable"]).toBe(
      "true",
    );
    expect(cluster.masterConfig).toMatchObject({ numInstances: 1, machineType: "e2-standard-4" });
    expect(cluster.lifecycleConfig).toBeUndefined();
    expect(cluster.endpointConfig.enableHttpPortAccess).toBe(true);
    expect(cluster.stagingBucket).toBe(bucketName("dataproc"));
    expect(cluster.initializationActions.map((a: { script: string }) => a.script)).toEqual([
      `gs://${artifacts}/init/kafka-broker.sh`,
      `gs://${artifacts}/init/weblog-generator.sh`,
    ]);
    expect(cluster.gceClusterConfig.metadata).toMatchObject({
      // The release the local broker (sandbox/processes/kafka/pom.xml) runs every test against, staged in the artifacts bucket.
      "kafka-release-uri": `gs://${artifacts}/releases/kafka_2.13-${kafkaVersion()}.tgz`,
      "kafka-release-sha256": expect.stringMatching(/^[0-9a-f]{64}$/),
      "node-release-uri": expect.stringMatching(
        new RegExp(`^gs://${artifacts}/releases/node-v22\\.\\d+\\.\\d+-linux-x64\\.tar\\.xz$`),
      ),
      "kafka-topic": "weblogs",
      "kafka-partitions": "3",
      "generator-bundle-uri": `gs://${artifacts}/generator/generator.cjs`,
      "generator-topic": "weblogs",
      "generator-format": "json",
    });
    expect(run.outputs.kafkaBootstrapServers).toBe("clickstream-stream-m:9092");
    // kafka: dataproc, the default: the generator sends to the broker beside it, and no Managed Kafka exists.
    expect(cluster.gceClusterConfig.metadata).toMatchObject({
      "kafka-mode": "dataproc",
      "kafka-bootstrap": "clickstream-stream-m:9092",
    });
    expect(run.resources.filter((r) => r.type.startsWith("gcp:managedkafka/"))).toEqual([]);
    expect(cluster.workerConfig).toBeUndefined();
  });

  it("gives the init actions every metadata key they read, and they parse as bash", () => {
    const metadata = byName(run, "streaming-cluster").inputs.clusterConfig.gceClusterConfig.metadata;
    for (const script of ["kafka-broker.sh", "weblog-generator.sh"]) {
      const file = path.join(REPO_ROOT, "stacks/init", script);
      execFileSync("bash", ["-n", file]);
      const read = [...readFileSync(file, "utf8").matchAll(/\$\((?:checked_)?metadata ([a-z0-9-]+)[ )]/g)]
        .map((m) => m[1])
        .filter((k) => k !== "dataproc-role");
      expect(read.length).toBeGreaterThan(0);
      for (const key of read) expect(Object.keys(metadata)).toContain(key);
    }
  });

  it("submits the Spark streaming job to the streaming cluster with the job's own arguments", () => {
    const job = byName(run, "streaming-spark-job").inputs;
    const raw = bucketName("raw"),
      artifacts = bucketName("artifacts");
    expect(job.placement.clusterName).toBe("clickstream-stream");
    expect(job.pysparkConfig.mainPythonFileUri).toBe(`gs://${artifacts}/spark/weblog_stream.py`);
    expect(job.pysparkConfig.pythonFileUris).toEqual([`gs://${artifacts}/spark/jobs.zip`]);
    // The connector and its dependencies from the artifacts bucket (nothing resolved from Maven Central at job
    // start), and the contract's compiled judge, which the job's rules run in.
    expect(job.pysparkConfig.jarFileUris).toEqual([
      ...[
        "spark-sql-kafka-0-10_2.12-3.5.3.jar",
        "spark-token-provider-kafka-0-10_2.12-3.5.3.jar",
        "kafka-clients-3.4.1.jar",
        "commons-pool2-2.11.1.jar",
      ].map((jar) => `gs://${artifacts}/releases/${jar}`),
      `gs://${artifacts}/spark/weblog-judge.jar`,
    ]);
    expect(job.pysparkConfig.properties["spark.jars.packages"]).toBeUndefined();
    // One executor on the single node, beside Kafka and the generator; no Managed Kafka authentication.
    expect(job.pysparkConfig.properties).toMatchObject({
      "spark.executor.instances": "1",
      "spark.dynamicAllocation.enabled": "false",
    });
    expect(job.pysparkConfig.properties["spark.jars.excludes"]).toBeUndefined();
    expect(job.pysparkConfig.args).toEqual([
      "--bootstrap-servers",
      "clickstream-stream-m:9092",
      "--topic",
      "weblogs",
      "--raw",
      `gs://${raw}/events`,
      "--quarantine",
      `gs://${raw}/quarantine`,
      "--checkpoint",
      `gs://${raw}/_checkpoints`,
      "--markers",
      `gs://${raw}/_complete`,
      "--contract",
      `gs://${artifacts}/spark/weblog-entry.schema.json`,
      "--max-past-seconds",
      String(62 * 86_400),
      // SCRAM as the read-only principal; the job reads the password from Secret Manager, the arguments name it only.
      "--kafka-option",
      "kafka.security.protocol=SASL_PLAINTEXT",
      "--kafka-option",
      "kafka.sasl.mechanism=SCRAM-SHA-512",
      "--kafka-sasl-user",
      "stream",
      "--kafka-password-secret",
      `projects/${PROJECT}/secrets/clickstream-kafka-stream`,
      // One e2-standard-4 node: its one executor has 2 cores, 100,000 entries each per one-minute trigger.
      "--max-offsets-per-trigger",
      "200000",
      "--input-format",
      "json",
    ]);
    expect(job.labels["source-sha256"]).toMatch(/^[0-9a-f]{32}$/);
    expect(job.scheduling.maxFailuresPerHour).toBeGreaterThan(0);
  });

  it("runs the Hive cluster on Dataproc 2.2 and submits nothing to it at deploy time", () => {
    const hive = byName(run, "hive-cluster").inputs.clusterConfig;
    expect(hive.softwareConfig.imageVersion).toBe("2.2-debian12");
    expect(hive.masterConfig).toMatchObject({ numInstances: 1, machineType: "e2-standard-2" });
    // The hourly run's register step creates the tables (IF NOT EXISTS), so no deploy-time DDL job can fail silently.
    expect(byType(run, "gcp:dataproc/job:Job").map((j) => j.inputs.placement.clusterName)).toEqual([
      "clickstream-stream",
    ]);
  });

  it("runs Composer 3 with Airflow 2.10.5 at the smallest size, its bucket owned by the stack", () => {
    const env = byName(run, "orchestration-environment").inputs;
    expect(env.config.softwareConfig.imageVersion).toMatch(/^composer-3-airflow-2\.10\.5-build\.\d+$/);
    expect(env.config.environmentSize).toBe("ENVIRONMENT_SIZE_SMALL");
    // Only overrides Composer accepts (the policy pack checks them against Google's blocked list).
    expect(env.config.softwareConfig.airflowConfigOverrides).toEqual({ "scheduler-catchup_by_default": "False" });
    expect(env.storageConfig.bucket).toBe(bucketName("composer"));
    // Every Airflow variable dags/weblog_hourly.py reads, as Composer passes them: AIRFLOW_VAR_<NAME>.
    const dagSource = readFileSync(path.join(REPO_ROOT, "dags/weblog_hourly.py"), "utf8");
    const readByDag = [...dagSource.matchAll(/Variable\.get\(\s*["'](\w+)["']|var\.value\.(\w+)/g)].map((m) =>
      (m[1] ?? m[2]).toUpperCase(),
    );
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
      AIRFLOW_VAR_WEBLOG_STAGING_URI: `gs://${bucketName("hourly")}/hourly-staging`,
      AIRFLOW_VAR_WEBLOG_CURATED_BUCKET: bucketName("curated"),
      AIRFLOW_VAR_WEBLOG_LOAD_LOG_TABLE: `${PROJECT}.clickstream.hourly_activity_loads`,
      AIRFLOW_VAR_WEBLOG_BIGQUERY_LOCATION: "us-central1",
      AIRFLOW_VAR_WEBLOG_MAX_QUARANTINE_SHARE: "0.05",
      AIRFLOW_VAR_WEBLOG_MAX_DUPLICATE_SHARE: "0.5",
    });
  });

  it("uploads every DAG file and HiveQL script into the Composer DAG folder", () => {
    const uploaded = byType(run, "gcp:storage/bucketObject:BucketObject").filter(
      (o) => o.inputs.bucket === bucketName("composer"),
    );
    const expected = [
      ...readdirSync(path.join(REPO_ROOT, "dags"))
        .filter((f) => f.endsWith(".py"))
        .map((f) => `dags/${f}`),
      ...readdirSync(path.join(REPO_ROOT, "jobs"))
        .filter((f) => f.endsWith(".hql"))
        .map((f) => `dags/hql/${f}`),
    ].sort();
    expect(expected.length).toBeGreaterThan(0);
    expect(uploaded.map((o) => o.inputs.name).sort()).toEqual(expected);
  });

  it("declares the warehouse of the loader's design: monthly partitions on hour, clustering, views, raw external table", () => {
    const hourly = byName(run, "warehouse-hourly-activity").inputs;
    expect(hourly.timePartitioning).toEqual({ type: "MONTH", field: "hour" });
    expect(hourly.clusterings).toEqual(["hour", "product_id"]);
    expect(JSON.parse(hourly.schema).map((c: { name: string; type: string }) => `${c.name} ${c.type}`)).toEqual([
      "hour TIMESTAMP",
      "product_id STRING",
      "visits INT64",
      "cart_adds INT64",
      "run_id STRING",
    ]);
    expect(byName(run, "warehouse-dataset").inputs).toMatchObject({
      datasetId: "clickstream",
      location: "us-central1",
      deleteContentsOnDestroy: true,
    });
    for (const view of ["hourly-activity-latest", "hourly-totals"]) {
      const v = byName(run, `warehouse-view-${view}`).inputs.view;
      expect(v.useLegacySql).toBe(false);
      expect(v.query).toContain(`${PROJECT}.clickstream.`);
      expect(v.query).not.toContain("{{");
    }
    const external = byName(run, "warehouse-raw-entries").inputs.externalDataConfiguration;
    expect(external.sourceFormat).toBe("PARQUET");
    // An explicit schema: the table is created over an empty bucket, so nothing could be autodetected.
    expect(external.autodetect).toBe(false);
    expect(JSON.parse(external.schema).map((c: { name: string; type: string }) => `${c.name} ${c.type}`)).toEqual([
      "event_id STRING",
      "event_time TIMESTAMP",
      "session_id STRING",
      "ip STRING",
      "user_agent STRING",
      "method STRING",
      "url STRING",
      "status INT64",
      "product_id STRING",
      "pid STRING",
      "kafka_partition INT64",
      "kafka_offset INT64",
      "kafka_timestamp TIMESTAMP",
      "ingest_time TIMESTAMP",
    ]);
    expect(external.sourceUris).toEqual([`gs://${bucketName("raw")}/events/dt=*.parquet`]);
    expect(external.hivePartitioningOptions.sourceUriPrefix).toBe(
      `gs://${bucketName("raw")}/events/{dt:DATE}/{hr:INTEGER}`,
    );
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
      WAREHOUSE_PROJECT: PROJECT,
      WAREHOUSE_DATASET: "clickstream",
      HOURLY_TABLE: "hourly_activity",
      CURATED_BUCKET: bucketName("curated"),
    });
    expect(run.outputs.loaderFunction).toBe("clickstream-loader");
  });

  it("builds the loader into a repository the stack owns, whose old images expire, so destroy leaves none", () => {
    const repository = byName(run, "loader-build-images").inputs;
    expect(repository).toMatchObject({
      repositoryId: "clickstream-loader-builds",
      format: "DOCKER",
      location: "us-central1",
      cleanupPolicyDryRun: false,
    });
    expect(repository.cleanupPolicies).toEqual([
      { id: "keep-newest", action: "KEEP", mostRecentVersions: { keepCount: 2 } },
      { id: "expire-old", action: "DELETE", condition: { tagState: "ANY", olderThan: "604800s" } },
    ]);
    expect(byName(run, "loader-function").inputs.buildConfig.dockerRepository).toBe(
      `projects/${PROJECT}/locations/us-central1/repositories/clickstream-loader-builds`,
    );
  });

  it("sets an environment the loader's own cold-start check accepts", () => {
    const env = byName(run, "loader-function").inputs.serviceConfig.environmentVariables;
    expect(readLoaderConfig(env)).toMatchObject({
      project: PROJECT,
      dataset: "clickstream",
      location: "us-central1",
      hourlyTable: "hourly_activity",
      loadLogTable: "hourly_activity_loads",
      curatedBucket: bucketName("curated"),
      loadWaitSeconds: 300,
    });
    expect(env.BIGQUERY_API_ENDPOINT).toBeUndefined();
  });

  it("uploads the built artifacts from the repository, the function archive named by its content", async () => {
    const objects = byType(run, "gcp:storage/bucketObject:BucketObject").filter(
      (o) => o.inputs.bucket === bucketName("artifacts"),
    );
    expect(objects.map((o) => o.inputs.name).sort()).toEqual([
      expect.stringMatching(/^functions\/loader-[0-9a-f]{16}\.zip$/),
      "generator/generator.cjs",
      "init/kafka-broker.sh",
      "init/weblog-generator.sh",
      "releases/commons-pool2-2.11.1.jar",
      "releases/kafka-clients-3.4.1.jar",
      "releases/kafka_2.13-3.9.2.tgz",
      expect.stringMatching(/^releases\/node-v22\.\d+\.\d+-linux-x64\.tar\.xz$/),
      "releases/spark-sql-kafka-0-10_2.12-3.5.3.jar",
      "releases/spark-token-provider-kafka-0-10_2.12-3.5.3.jar",
      "spark/jobs.zip",
      "spark/weblog-entry.schema.json",
      "spark/weblog-judge.jar",
      "spark/weblog_stream.py",
    ]);
    // The judge uploaded is the one built from jobs/judge (npm run build:judge), its class inside.
    const judge: string = await byName(run, "artifacts-judge-jar").inputs.source.path;
    expect(judge).toBe(path.join(REPO_ROOT, "build/weblog-judge.jar"));
    expect(readFileSync(judge).includes("clickstream/judge/WeblogJudge.class")).toBe(true);
    const archive = byName(run, "artifacts-loader-archive").inputs.name as string;
    expect(archive).toBe(`functions/loader-${loaderFolderHash().slice(0, 16)}.zip`);
    // Assets and archives, never inline placeholder text.
    for (const o of objects) expect(o.inputs.source.__pulumiAsset || o.inputs.source.__pulumiArchive).toBe(true);
    expect(objects.every((o: DeclaredResource) => o.inputs.content === undefined)).toBe(true);
  });

  it("exports where everything is, named for what the user does next", () => {
    expect(Object.keys(run.outputs).sort()).toEqual([
      "airflowUrl",
      "artifactsBucket",
      "bigqueryHourlyActivityLatestView",
      "bigqueryHourlyTable",
      "bigqueryHourlyTotalsView",
      "bigqueryRawEntriesTable",
      "bqQueryCommand",
      "composerDagFolder",
      "curatedBucket",
      "dashboardUrl",
      "hiveClusterGatewayUrls",
      "kafkaBootstrapServers",
      "kafkaTopic",
      "loaderFunction",
      "rawBucket",
      "sshToStreamMaster",
      "streamClusterGatewayUrls",
      "streamingJobId",
    ]);
    expect(run.outputs.airflowUrl).toMatch(/^https:\/\//);
    // The views an analyst queries: the latest run of each hour, never every run.
    expect(run.outputs.bigqueryHourlyActivityLatestView).toBe(`${PROJECT}.clickstream.hourly_activity_latest`);
    expect(run.outputs.bigqueryHourlyTotalsView).toBe(`${PROJECT}.clickstream.hourly_totals`);
    expect(Object.keys(run.outputs.streamClusterGatewayUrls as object)).toContain("YARN ResourceManager");
    expect(run.outputs.bqQueryCommand).toBe(
      `bq query --project_id=${PROJECT} --use_legacy_sql=false 'SELECT * FROM \`${PROJECT}.clickstream.hourly_totals\` ORDER BY hour DESC LIMIT 24'`,
    );
  });

  it("finds zero violations in the default stack, having checked the resources each policy governs", () => {
    const found: string[] = [];
    for (const p of securityPolicies) {
      for (const r of run.resources.filter((res) => res.type.startsWith("gcp:"))) {
        for (const message of violations(p, r.type, r.inputs)) found.push(`${p.name} ${r.name}: ${message}`);
      }
    }
    expect(found).toEqual([]);
    // The policies had something to check: the graph holds each governed kind of resource.
    const types = new Set(run.resources.map((r) => r.type));
    for (const t of [
      "gcp:dataproc/cluster:Cluster",
      "gcp:storage/bucket:Bucket",
      "gcp:projects/iAMMember:IAMMember",
      "gcp:cloudfunctionsv2/function:Function",
      "gcp:compute/firewall:Firewall",
      "gcp:composer/environment:Environment",
      "gcp:bigquery/table:Table",
      "gcp:storage/bucketIAMMember:BucketIAMMember",
    ]) {
      expect(types.has(t)).toBe(true);
    }
  });
});
