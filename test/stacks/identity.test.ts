// The identity component alone under Pulumi's mocks, declared in each test: every account, custom role and
// grant it makes, pinned exactly. stack.test.ts judges the same grants in the whole program (what each identity
// can reach, as docs/access.md says it); here a changed grant fails a test that runs in about a second.
import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import { CUSTOM_ROLES, customRolesTable, functionSourcesBucket, Identity, jobSubmitterOn } from "../../stacks/identity";
import { Storage } from "../../stacks/storage";
import { DELAYS } from "../../stacks/consistency";
import {
  byName,
  byType,
  declareUnderMocks,
  DeclaredResource,
  DeclaredRun,
  PROJECT_NUMBER,
  ProgramRun,
} from "./pulumiProgram";

const PROJECT = "my-project";
const PREFIX = "cs-x-y"; // with hyphens, which role ids cannot hold
const REGION = "europe-west1";

async function declared(kafka: "dataproc" | "managed"): Promise<DeclaredRun & { identity: Identity }> {
  let identity: Identity | undefined;
  const run = await declareUnderMocks({ "gcp:project": PROJECT }, () => {
    const storage = new Storage("storage", {
      namePrefix: PREFIX,
      project: PROJECT,
      region: REGION,
      forceDestroy: true,
      rawRetentionDays: 7,
    });
    identity = new Identity("identity", { namePrefix: PREFIX, project: PROJECT, region: REGION, kafka, storage });
  });
  if (run.error) throw run.error;
  return { ...run, identity: identity! };
}

const GRANT_TYPES = /IAMMember$/;

/** A grant as one line: `<scope> <role> <who>`, the scope a bucket's role in the stack, an account, or the project. */
function grantLine(run: ProgramRun, g: DeclaredResource): string {
  const bucketRole = new Map(
    byType(run, "gcp:storage/bucket:Bucket").map((b) => [b.inputs.name, b.name.replace(/^storage-/, "")]),
  );
  const who = (member: string) =>
    member
      .replace(new RegExp(`^serviceAccount:${PREFIX}-(.+)@${PROJECT}\\.iam\\.gserviceaccount\\.com$`), "$1")
      .replace(new RegExp(`^serviceAccount:service-${PROJECT_NUMBER}@(.+)\\.iam\\.gserviceaccount\\.com$`), "agent $1");
  const scope =
    g.type === "gcp:storage/bucketIAMMember:BucketIAMMember"
      ? `bucket ${bucketRole.get(g.inputs.bucket)}`
      : g.type === "gcp:serviceaccount/iAMMember:IAMMember"
        ? `account ${who(`serviceAccount:${g.inputs.serviceAccountId.replace(/^.*\//, "")}`)}`
        : `project ${g.inputs.project}`;
  const role = String(g.inputs.role).replace(`projects/${PROJECT}/roles/`, "custom ");
  return `${scope} ${role} ${who(g.inputs.member)}${g.inputs.condition ? ` if ${g.inputs.condition.title}` : ""}`;
}

const grants = (run: ProgramRun) => run.resources.filter((r) => GRANT_TYPES.test(r.type));

describe("the identity component", () => {
  it("gives each workload an account of its own, named after the stack's prefix", async () => {
    const run = await declared("dataproc");
    const accounts = byType(run, "gcp:serviceaccount/account:Account");
    expect(accounts.map((a) => [a.name, a.inputs.accountId, a.inputs.project])).toEqual(
      ["stream", "hive", "composer", "loader", "loader-build", "trigger"].map((w) => [
        `identity-${w}`,
        `${PREFIX}-${w}`,
        PROJECT,
      ]),
    );
    const names = accounts.map((a) => a.inputs.displayName as string);
    expect(new Set(names).size).toBe(accounts.length);
    for (const n of names) expect(n.length).toBeGreaterThan(10);
  });

  it("declares everything it makes as its own children, under its own type, reading its own project's data", async () => {
    const run = await declared("dataproc");
    expect(byName(run, "identity").type).toBe("clickstream:stack:Identity");
    const own = run.resources.filter((r) => r.name.startsWith("identity-"));
    expect(own.length).toBeGreaterThan(50);
    expect(own.filter((r) => r.parent !== "identity").map((r) => r.name)).toEqual([]);
    expect(run.calls.map((c) => [c.token, c.inputs])).toEqual(
      expect.arrayContaining([
        ["gcp:organizations/getProject:getProject", { projectId: PROJECT }],
        ["gcp:storage/getProjectServiceAccount:getProjectServiceAccount", { project: PROJECT }],
      ]),
    );
    expect(run.calls).toHaveLength(2);
  });

  it("creates the custom roles with exactly their listed permissions, ids without hyphens and fresh per deployment", async () => {
    const run = await declared("dataproc");
    const hex = byName(run, "identity-role-suffix");
    expect(hex.inputs).toEqual({ byteLength: 2 });
    expect(byType(run, "gcp:projects/iAMCustomRole:IAMCustomRole").map((r) => [r.name, r.inputs])).toEqual(
      Object.values(CUSTOM_ROLES).map((role) => [
        `identity-${role.id}`,
        {
          project: PROJECT,
          roleId: `cs_x_y${role.roleName}${hex.state.hex}`,
          title: role.title,
          description: role.description,
          permissions: role.permissions,
        },
      ]),
    );
  });

  it("grants exactly these roles, each at the narrowest scope Google offers for it", async () => {
    const run = await declared("dataproc");
    expect(
      grants(run)
        .map((g) => grantLine(run, g))
        .sort(),
    ).toEqual(
      [
        "account composer roles/composer.ServiceAgentV2Ext agent cloudcomposer-accounts",
        "account trigger roles/iam.serviceAccountTokenCreator agent gcp-sa-pubsub",
        "bucket artifacts roles/storage.objectViewer loader-build",
        "bucket artifacts roles/storage.objectViewer stream",
        "bucket composer roles/storage.legacyBucketReader composer",
        "bucket composer roles/storage.objectAdmin composer",
        "bucket composer roles/storage.objectViewer hive if hiveql-only",
        "bucket curated roles/storage.objectAdmin composer",
        "bucket curated roles/storage.objectViewer loader",
        "bucket dataproc roles/storage.legacyBucketReader hive",
        "bucket dataproc roles/storage.legacyBucketReader stream",
        "bucket dataproc roles/storage.objectAdmin hive",
        "bucket dataproc roles/storage.objectAdmin stream",
        "bucket dataproc-temp roles/storage.legacyBucketReader hive",
        "bucket dataproc-temp roles/storage.legacyBucketReader stream",
        "bucket dataproc-temp roles/storage.objectAdmin hive",
        "bucket dataproc-temp roles/storage.objectAdmin stream",
        "bucket hourly roles/storage.legacyBucketReader hive",
        "bucket hourly roles/storage.objectAdmin composer",
        "bucket hourly roles/storage.objectAdmin hive",
        "bucket raw roles/storage.legacyBucketReader hive",
        "bucket raw roles/storage.legacyBucketReader stream",
        "bucket raw roles/storage.objectAdmin stream",
        "bucket raw roles/storage.objectViewer composer",
        "bucket raw roles/storage.objectViewer hive",
        `project ${PROJECT} custom cs_x_yDataprocNodea1b2c3 hive`,
        `project ${PROJECT} custom cs_x_yDataprocNodea1b2c3 stream`,
        `project ${PROJECT} custom cs_x_yJobSubmittera1b2c3 composer`,
        `project ${PROJECT} roles/bigquery.jobUser composer`,
        `project ${PROJECT} roles/bigquery.jobUser loader`,
        `project ${PROJECT} roles/composer.serviceAgent agent cloudcomposer-accounts`,
        `project ${PROJECT} roles/composer.worker composer`,
        `project ${PROJECT} roles/eventarc.eventReceiver trigger`,
        `project ${PROJECT} roles/eventarc.serviceAgent agent gcp-sa-eventarc`,
        `project ${PROJECT} roles/logging.logWriter composer`,
        `project ${PROJECT} roles/logging.logWriter hive`,
        `project ${PROJECT} roles/logging.logWriter loader-build`,
        `project ${PROJECT} roles/logging.logWriter stream`,
        `project ${PROJECT} roles/monitoring.metricWriter composer`,
        `project ${PROJECT} roles/monitoring.metricWriter hive`,
        `project ${PROJECT} roles/monitoring.metricWriter stream`,
        `project ${PROJECT} roles/pubsub.publisher agent gs-project-accounts`,
        `project ${PROJECT} roles/storage.objectViewer loader-build if function-sources-only`,
      ].sort(),
    );
  });

  it("names each grant after what it grants, once", async () => {
    const run = await declared("managed");
    const names = grants(run).map((g) => g.name);
    expect(new Set(names).size).toBe(names.length);
    for (const name of names) expect(name).toMatch(/^identity-[a-z]+(-[a-z]+)+$/);
  });

  it("limits the two conditional grants to the HiveQL folder and to the function sources' bucket", async () => {
    const run = await declared("dataproc");
    const composerBucket = byName(run, "storage-composer").inputs.name;
    expect(byName(run, "identity-hive-hiveql-reader").inputs.condition).toEqual({
      title: "hiveql-only",
      description: "Only the HiveQL scripts the hourly DAG submits",
      expression: `resource.name.startsWith("projects/_/buckets/${composerBucket}/objects/dags/hql/")`,
    });
    expect(byName(run, "identity-loader-build-sources-reader").inputs.condition).toEqual({
      title: "function-sources-only",
      description: "Only the bucket Cloud Functions stages function sources in",
      expression: `resource.name.startsWith("projects/_/buckets/gcf-v2-sources-${PROJECT_NUMBER}-${REGION}/")`,
    });
  });

  it("makes the streaming cluster's account a Managed Kafka client with managed Kafka, and only then", async () => {
    const managed = await declared("managed");
    const local = await declared("dataproc");
    const localGrants = grants(local).map((g) => grantLine(local, g));
    const added = grants(managed)
      .map((g) => grantLine(managed, g))
      .filter((line) => !localGrants.includes(line));
    expect(added).toEqual([`project ${PROJECT} roles/managedkafka.client stream`]);
    expect(grants(managed)).toHaveLength(localGrants.length + 1);
  });

  it("creates each service agent, waits for it to exist, then grants it its roles, keeping the grants' former names", async () => {
    const run = await declared("dataproc");
    expect(byType(run, "gcp:projects/serviceIdentity:ServiceIdentity").map((a) => [a.name, a.inputs])).toEqual(
      ["composer", "eventarc", "pubsub"].map((s) => [
        `identity-${s}-agent`,
        { project: PROJECT, service: `${s}.googleapis.com` },
      ]),
    );
    const ready = byName(run, "identity-service-agents-ready");
    expect(ready.inputs.createDuration).toBe(`${DELAYS.serviceAgent.seconds}s`);
    expect(ready.dependsOn).toEqual(["identity-composer-agent", "identity-eventarc-agent", "identity-pubsub-agent"]);
    const toAgents = grants(run).filter((g) => g.inputs.member.includes(`service-${PROJECT_NUMBER}@`));
    expect(toAgents.map((g) => [g.name, g.dependsOn, g.aliases]).sort()).toEqual([
      ["identity-composer-agent-ext", ["identity-service-agents-ready"], []],
      ["identity-composer-agent-role", ["identity-service-agents-ready"], ["identity-composer-agent"]],
      ["identity-eventarc-agent-role", ["identity-service-agents-ready"], ["identity-eventarc-agent"]],
      ["identity-pubsub-agent-token-creator", ["identity-service-agents-ready"], []],
      // Cloud Storage's agent comes from a getter that creates it before it answers.
      ["identity-storage-agent-publisher", [], []],
    ]);
    // Every other grant names an account the stack itself creates: nothing to wait for.
    for (const g of grants(run).filter((r) => !toAgents.includes(r))) expect(g.dependsOn).toEqual([]);
  });

  it("hands every grant it made to its consumers, which wait for their propagation", async () => {
    const run = await declared("managed");
    expect(run.identity.grants.every((g) => g instanceof pulumi.CustomResource)).toBe(true);
    const names = run.identity.grants.map((g) => (g as unknown as { __name: string }).__name);
    expect(names.sort()).toStrictEqual(
      grants(run)
        .map((g) => g.name)
        .sort(),
    );
  });

  it("registers each account's email and the cluster-user role as its outputs", async () => {
    const register = jest.spyOn(
      pulumi.ComponentResource.prototype as unknown as { registerOutputs(o?: unknown): void },
      "registerOutputs",
    );
    try {
      const run = await declared("dataproc");
      const call = register.mock.calls.find(
        (c, i) => c[0] !== undefined && register.mock.instances[i] === (run.identity as unknown),
      );
      const values = await resolved(call![0]);
      expect(values).toEqual({
        streamCluster: `${PREFIX}-stream@${PROJECT}.iam.gserviceaccount.com`,
        hiveCluster: `${PREFIX}-hive@${PROJECT}.iam.gserviceaccount.com`,
        composer: `${PREFIX}-composer@${PROJECT}.iam.gserviceaccount.com`,
        loader: `${PREFIX}-loader@${PROJECT}.iam.gserviceaccount.com`,
        loaderBuild: `${PREFIX}-loader-build@${PROJECT}.iam.gserviceaccount.com`,
        eventTrigger: `${PREFIX}-trigger@${PROJECT}.iam.gserviceaccount.com`,
        clusterUserRole: `projects/${PROJECT}/roles/cs_x_yClusterUsera1b2c3`,
      });
    } finally {
      register.mockRestore();
    }
  });

  it("lets one account submit jobs to one cluster, through the cluster-user role granted on that cluster", async () => {
    const run = await declareUnderMocks({ "gcp:project": PROJECT }, () => {
      const storage = new Storage("storage", {
        namePrefix: PREFIX,
        project: PROJECT,
        region: REGION,
        forceDestroy: true,
        rawRetentionDays: 7,
      });
      const identity = new Identity("identity", {
        namePrefix: PREFIX,
        project: PROJECT,
        region: REGION,
        kafka: "dataproc",
        storage,
      });
      const cluster = new gcp.dataproc.Cluster("hive-cluster", { name: "cs-x-y-hive", region: REGION });
      jobSubmitterOn(
        "hive-job-submitter",
        { project: PROJECT, region: REGION },
        cluster,
        identity.composer,
        identity.clusterUser,
        {
          dependsOn: [cluster],
        },
      );
    });
    const grant = byName(run, "hive-job-submitter");
    expect(grant.type).toBe("gcp:dataproc/clusterIAMMember:ClusterIAMMember");
    expect(grant.inputs).toEqual({
      project: PROJECT,
      region: REGION,
      cluster: "cs-x-y-hive",
      role: `projects/${PROJECT}/roles/cs_x_yClusterUsera1b2c3`,
      member: `serviceAccount:${PREFIX}-composer@${PROJECT}.iam.gserviceaccount.com`,
    });
    expect(grant.dependsOn).toEqual(["hive-cluster"]);
  });
});

describe("the custom roles' table", () => {
  it("lists each role with every permission, as docs/access.md shows it", () => {
    const table = customRolesTable([{ ...CUSTOM_ROLES.clusterUser }]).split("\n");
    expect(table).toEqual([
      "| custom role | permissions (all of them) |",
      "| --- | --- |",
      "| ClusterUser | `dataproc.clusters.get`, `dataproc.clusters.use` |",
    ]);
    expect(customRolesTable().split("\n")).toHaveLength(2 + Object.keys(CUSTOM_ROLES).length);
  });

  it("names the bucket Cloud Functions copies sources into after the project number and region", async () => {
    expect(await resolved(functionSourcesBucket("42", "asia-east1"))).toBe("gcf-v2-sources-42-asia-east1");
  });
});

/** What an output (or a structure of them) resolves to under the mocks. */
function resolved(value: unknown): Promise<unknown> {
  return new Promise((resolve) =>
    (pulumi.output(value as pulumi.Input<object>) as pulumi.Output<unknown>).apply((v) => resolve(v)),
  );
}
