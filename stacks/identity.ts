// One service account per component, each granted only what its stage reads and writes; and the Google
// service agents the pipeline relies on, created before anything is granted to them.
import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { settled } from "./consistency";
import { StackConfig } from "./config";
import { HIVEQL_DAG_FOLDER } from "./layout";
import { Storage } from "./storage";

/**
 * What the DAG needs to run Hive jobs, at project scope: submitting a job needs dataproc.jobs.create there, and
 * dataproc.clusters.use on the cluster it runs on (CLUSTER_USER_PERMISSIONS, granted on the Hive cluster alone).
 */
export const JOB_SUBMITTER_PERMISSIONS = [
  "dataproc.jobs.cancel",
  "dataproc.jobs.create",
  "dataproc.jobs.get",
  "dataproc.operations.get",
];

/** Using one existing cluster, granted on that cluster only: no create, update or delete. */
export const CLUSTER_USER_PERMISSIONS = ["dataproc.clusters.get", "dataproc.clusters.use"];

/** Lets `who` submit jobs to this cluster and no other (Dataproc's granular IAM, on the cluster resource). */
export function jobSubmitterOn(
  name: string,
  config: Pick<StackConfig, "project" | "region">,
  cluster: gcp.dataproc.Cluster,
  who: gcp.serviceaccount.Account,
  role: gcp.projects.IAMCustomRole,
  opts?: pulumi.CustomResourceOptions,
): gcp.dataproc.ClusterIAMMember {
  return new gcp.dataproc.ClusterIAMMember(
    name,
    {
      project: config.project,
      region: config.region,
      cluster: cluster.name,
      role: role.name,
      member: pulumi.interpolate`serviceAccount:${who.email}`,
    },
    opts,
  );
}

/**
 * roles/dataproc.worker without its project-wide storage.buckets.get and storage.objects.*: the node agent's
 * permissions, which Dataproc checks at cluster create. Logs and metrics come from logWriter and metricWriter.
 */
export const DATAPROC_NODE_PERMISSIONS = [
  "dataproc.agents.create",
  "dataproc.agents.delete",
  "dataproc.agents.get",
  "dataproc.agents.list",
  "dataproc.agents.update",
  "dataproc.tasks.lease",
  "dataproc.tasks.listInvalidatedLeases",
  "dataproc.tasks.reportStatus",
];

/** One custom role: its id suffix, title, description and exact permissions; the code and the table of docs/access.md both read this. */
export interface CustomRole {
  id: string;
  roleName: string;
  title: string;
  description: string;
  permissions: string[];
}

/** Every custom role the stack creates, each with its permissions listed in full. */
export const CUSTOM_ROLES = {
  dataprocNode: {
    id: "dataproc-node",
    roleName: "DataprocNode",
    title: "Clickstream Dataproc node",
    description:
      "Dataproc's node agent on the cluster's own account; no storage permission (buckets are granted one by one).",
    permissions: DATAPROC_NODE_PERMISSIONS,
  },
  jobSubmitter: {
    id: "job-submitter",
    roleName: "JobSubmitter",
    title: "Clickstream Dataproc job submitter",
    description: "Submit and follow Dataproc jobs; which cluster they may run on is granted on that cluster.",
    permissions: JOB_SUBMITTER_PERMISSIONS,
  },
  clusterUser: {
    id: "cluster-user",
    roleName: "ClusterUser",
    title: "Clickstream Dataproc cluster user",
    description: "Use one existing Dataproc cluster (granted on the cluster); cannot create, update or delete it.",
    permissions: CLUSTER_USER_PERMISSIONS,
  },
} satisfies Record<string, CustomRole>;

/** The README's table of custom roles, rendered from CUSTOM_ROLES. */
export function customRolesTable(roles: CustomRole[] = Object.values(CUSTOM_ROLES)): string {
  const rows = roles.map((r) => `| ${r.roleName} | ${r.permissions.map((p) => `\`${p}\``).join(", ")} |`);
  return ["| custom role | permissions (all of them) |", "| --- | --- |", ...rows].join("\n");
}

/** What a Managed Kafka client needs, per Google's authentication guide: the connect permission, nothing more. */
export const MANAGED_KAFKA_CLIENT_ROLE = "roles/managedkafka.client";

/** Google requires this role on a Composer environment's own account; see the access table of docs/access.md for what it reaches. */
export const COMPOSER_REQUIRED_ROLE = "roles/composer.worker";

/** The bucket Cloud Functions (2nd gen) creates per region and copies each deployed source archive into. */
export function functionSourcesBucket(projectNumber: pulumi.Input<string>, region: string): pulumi.Output<string> {
  return pulumi.interpolate`gcf-v2-sources-${projectNumber}-${region}`;
}

export interface IdentityArgs {
  /** Service accounts are `<namePrefix>-<workload>`; custom roles are named after it too. */
  namePrefix: StackConfig["namePrefix"];
  project: StackConfig["project"];
  /** The region of the function's sources bucket the loader's build reads. */
  region: StackConfig["region"];
  /** `managed`: the streaming cluster's account becomes a Managed Kafka client. */
  kafka: StackConfig["kafka"];
  storage: Storage;
}

export class Identity extends pulumi.ComponentResource {
  readonly streamCluster: gcp.serviceaccount.Account;
  readonly hiveCluster: gcp.serviceaccount.Account;
  readonly composer: gcp.serviceaccount.Account;
  readonly loader: gcp.serviceaccount.Account;
  readonly loaderBuild: gcp.serviceaccount.Account;
  readonly eventTrigger: gcp.serviceaccount.Account;
  /** The custom role of CLUSTER_USER_PERMISSIONS, for jobSubmitterOn. */
  readonly clusterUser: gcp.projects.IAMCustomRole;
  /** Every grant made here; a consumer waits for their propagation (stacks/consistency.ts), not only their creation. */
  readonly grants: pulumi.CustomResource[] = [];

  constructor(name: string, args: IdentityArgs, opts?: pulumi.ComponentResourceOptions) {
    super("clickstream:stack:Identity", name, {}, opts);
    const { storage } = args;
    const child = { parent: this };
    const project = args.project;

    const account = (role: string, displayName: string) =>
      new gcp.serviceaccount.Account(
        `${name}-${role}`,
        {
          accountId: `${args.namePrefix}-${role}`,
          displayName,
          project,
        },
        child,
      );
    const member = (sa: gcp.serviceaccount.Account) => pulumi.interpolate`serviceAccount:${sa.email}`;
    const granted = <T extends pulumi.CustomResource>(grant: T): T => {
      this.grants.push(grant);
      return grant;
    };
    const onProject = (
      id: string,
      who: gcp.serviceaccount.Account | pulumi.Output<string>,
      role: pulumi.Input<string>,
      condition?: gcp.types.input.projects.IAMMemberCondition,
      opts: pulumi.CustomResourceOptions = child,
    ) =>
      granted(
        new gcp.projects.IAMMember(
          `${name}-${id}`,
          {
            project,
            role,
            member: who instanceof gcp.serviceaccount.Account ? member(who) : who,
            condition,
          },
          opts,
        ),
      );
    const onBucket = (
      id: string,
      bucket: gcp.storage.Bucket,
      sa: gcp.serviceaccount.Account,
      role: string,
      condition?: gcp.types.input.storage.BucketIAMMemberCondition,
    ) =>
      granted(
        new gcp.storage.BucketIAMMember(
          `${name}-${id}`,
          { bucket: bucket.name, role, member: member(sa), condition },
          child,
        ),
      );
    const onAccount = (
      id: string,
      sa: gcp.serviceaccount.Account,
      who: pulumi.Output<string>,
      role: string,
      opts: pulumi.CustomResourceOptions,
    ) =>
      granted(
        new gcp.serviceaccount.IAMMember(`${name}-${id}`, { serviceAccountId: sa.name, role, member: who }, opts),
      );

    this.streamCluster = account("stream", "Streaming Dataproc cluster (Kafka, generator, Spark streaming)");
    this.hiveCluster = account("hive", "Hive Dataproc cluster (hourly HiveQL)");
    this.composer = account("composer", "Composer environment (hourly DAG)");
    this.loader = account("loader", "Loader function (BigQuery loads)");
    this.loaderBuild = account("loader-build", "Cloud Build of the loader function");
    this.eventTrigger = account("trigger", "Eventarc trigger delivering curated-bucket events to the loader");

    // A custom role id cannot be reused for 7 days after deletion: the suffix lets destroy + up work at once.
    const roleSuffix = new random.RandomId(`${name}-role-suffix`, { byteLength: 2 }, child);
    const customRole = ({ id, roleName, title, description, permissions }: CustomRole) =>
      new gcp.projects.IAMCustomRole(
        `${name}-${id}`,
        {
          project,
          // Role ids take no hyphen.
          roleId: pulumi.interpolate`${args.namePrefix.replace(/-/g, "_")}${roleName}${roleSuffix.hex}`,
          title,
          description,
          permissions,
        },
        child,
      );
    const dataprocNode = customRole(CUSTOM_ROLES.dataprocNode);
    const jobSubmitter = customRole(CUSTOM_ROLES.jobSubmitter);
    this.clusterUser = customRole(CUSTOM_ROLES.clusterUser);

    // Project scope only where the permission exists nowhere narrower; none but composer.worker carries a storage permission.
    for (const [who, sa] of [
      ["stream", this.streamCluster],
      ["hive", this.hiveCluster],
    ] as const) {
      onProject(`${who}-dataproc-node`, sa, dataprocNode.name);
      onProject(`${who}-log-writer`, sa, "roles/logging.logWriter");
      onProject(`${who}-metric-writer`, sa, "roles/monitoring.metricWriter");
    }
    // The one exception: Composer requires roles/composer.worker on the environment's account (an environment
    // without it fails to create, ~30 minutes in), and that role carries storage.objects.* on every bucket.
    onProject("composer-worker", this.composer, COMPOSER_REQUIRED_ROLE);
    onProject("composer-job-submitter", this.composer, jobSubmitter.name);
    onProject("composer-log-writer", this.composer, "roles/logging.logWriter");
    onProject("composer-metric-writer", this.composer, "roles/monitoring.metricWriter");
    // The DAG's reconcile task queries the lineage table (bigquery.jobs.create exists at project scope only).
    onProject("composer-bigquery-job-user", this.composer, "roles/bigquery.jobUser");
    // Managed Kafka admits a client only with managedkafka.clusters.connect, which Google grants through this role
    // on the cluster's project; the generator and the Spark job on the streaming cluster are its only clients.
    if (args.kafka === "managed") onProject("stream-kafka-client", this.streamCluster, MANAGED_KAFKA_CLIENT_ROLE);
    onProject("loader-bigquery-job-user", this.loader, "roles/bigquery.jobUser");
    onProject("loader-build-log-writer", this.loaderBuild, "roles/logging.logWriter");
    onProject("trigger-event-receiver", this.eventTrigger, "roles/eventarc.eventReceiver");

    // Bucket scope: each account sees only the buckets of its stage; objectAdmin, never storage.admin
    // (which adds bucket delete and setIamPolicy); legacyBucketReader adds the bucket metadata Spark and Dataproc read.
    onBucket("stream-raw-writer", storage.raw, this.streamCluster, "roles/storage.objectAdmin");
    onBucket("stream-raw-bucket-reader", storage.raw, this.streamCluster, "roles/storage.legacyBucketReader");
    onBucket("stream-artifacts-reader", storage.artifacts, this.streamCluster, "roles/storage.objectViewer");
    onBucket("stream-dataproc-writer", storage.dataproc, this.streamCluster, "roles/storage.objectAdmin");
    onBucket("stream-dataproc-bucket-reader", storage.dataproc, this.streamCluster, "roles/storage.legacyBucketReader");
    onBucket("stream-dataproc-temp-writer", storage.dataprocTemp, this.streamCluster, "roles/storage.objectAdmin");
    onBucket(
      "stream-dataproc-temp-bucket-reader",
      storage.dataprocTemp,
      this.streamCluster,
      "roles/storage.legacyBucketReader",
    );
    onBucket("hive-raw-reader", storage.raw, this.hiveCluster, "roles/storage.objectViewer");
    onBucket("hive-raw-bucket-reader", storage.raw, this.hiveCluster, "roles/storage.legacyBucketReader");
    // The DAG's Hive jobs read their HiveQL from the Composer bucket's dags/hql/, and nothing else there.
    onBucket("hive-hiveql-reader", storage.composer, this.hiveCluster, "roles/storage.objectViewer", {
      title: "hiveql-only",
      description: "Only the HiveQL scripts the hourly DAG submits",
      expression: pulumi.interpolate`resource.name.startsWith("projects/_/buckets/${storage.composer.name}/objects/${HIVEQL_DAG_FOLDER}/")`,
    });
    // Dataproc's own staging lives in the Dataproc bucket; the hour's staged output in the hourly bucket, which
    // only the Hive cluster (it writes the output the checks read) and Composer (it publishes and cleans) write.
    onBucket("hive-dataproc-writer", storage.dataproc, this.hiveCluster, "roles/storage.objectAdmin");
    onBucket("hive-dataproc-bucket-reader", storage.dataproc, this.hiveCluster, "roles/storage.legacyBucketReader");
    onBucket("hive-dataproc-temp-writer", storage.dataprocTemp, this.hiveCluster, "roles/storage.objectAdmin");
    onBucket(
      "hive-dataproc-temp-bucket-reader",
      storage.dataprocTemp,
      this.hiveCluster,
      "roles/storage.legacyBucketReader",
    );
    onBucket("hive-hourly-staging-writer", storage.hourlyStaging, this.hiveCluster, "roles/storage.objectAdmin");
    onBucket(
      "hive-hourly-staging-bucket-reader",
      storage.hourlyStaging,
      this.hiveCluster,
      "roles/storage.legacyBucketReader",
    );
    onBucket("composer-raw-reader", storage.raw, this.composer, "roles/storage.objectViewer");
    onBucket("composer-curated-writer", storage.curated, this.composer, "roles/storage.objectAdmin");
    onBucket("composer-environment-bucket", storage.composer, this.composer, "roles/storage.objectAdmin");
    onBucket("composer-environment-bucket-reader", storage.composer, this.composer, "roles/storage.legacyBucketReader");
    // The DAG lists each hour's staged output, copies the checked generations to curated and cleans up.
    onBucket("composer-staging", storage.hourlyStaging, this.composer, "roles/storage.objectAdmin");
    onBucket("loader-curated-reader", storage.curated, this.loader, "roles/storage.objectViewer");
    onBucket("loader-build-artifacts-reader", storage.artifacts, this.loaderBuild, "roles/storage.objectViewer");
    // Cloud Functions copies the archive into a bucket of its own before the build fetches it from there;
    // that bucket appears with the first deployment, so the grant names it in a condition, not by resource.
    const projectNumber = gcp.organizations.getProjectOutput({ projectId: project }, child).number;
    onProject("loader-build-sources-reader", this.loaderBuild, "roles/storage.objectViewer", {
      title: "function-sources-only",
      description: "Only the bucket Cloud Functions stages function sources in",
      expression: pulumi.interpolate`resource.name.startsWith("projects/_/buckets/${functionSourcesBucket(projectNumber, args.region)}/")`,
    });

    // Service agents are created lazily by Google; each one granted here is created first, so the grant
    // never names an account that does not exist yet.
    const agent = (id: string, service: string) =>
      new gcp.projects.ServiceIdentity(`${name}-${id}-agent`, { project, service }, child);
    const composerAgent = agent("composer", "composer.googleapis.com");
    const eventarcAgent = agent("eventarc", "eventarc.googleapis.com");
    const pubsubAgent = agent("pubsub", "pubsub.googleapis.com");
    // The getter creates the Cloud Storage agent if it does not exist yet.
    const storageAgent = gcp.storage.getProjectServiceAccountOutput({ project }, child);
    // A grant to an agent created moments ago can be refused as naming an account that does not exist yet.
    const agentsReady = settled(
      `${name}-service-agents-ready`,
      "serviceAgent",
      [composerAgent, eventarcAgent, pubsubAgent],
      child,
    );
    const afterAgents = { parent: this, dependsOn: [agentsReady] };
    // Named apart from the agents themselves (same name, another type), keeping their state through the alias.
    const renamedFrom = (old: string) => ({ ...afterAgents, aliases: [{ name: `${name}-${old}` }] });

    // An agent created through ServiceIdentity may lack its default role, and Composer refuses to create
    // an environment without it; granted explicitly, like Eventarc's below.
    onProject(
      "composer-agent-role",
      composerAgent.member,
      "roles/composer.serviceAgent",
      undefined,
      renamedFrom("composer-agent"),
    );
    // Composer's agent binds the environment's own account to its workloads (on that account only).
    onAccount(
      "composer-agent-ext",
      this.composer,
      composerAgent.member,
      "roles/composer.ServiceAgentV2Ext",
      afterAgents,
    );
    // Eventarc validates and runs the trigger as its agent; the role is granted explicitly, not assumed.
    onProject(
      "eventarc-agent-role",
      eventarcAgent.member,
      "roles/eventarc.serviceAgent",
      undefined,
      renamedFrom("eventarc-agent"),
    );
    // Pub/Sub's agent signs the trigger's push requests with the trigger's account, and no other.
    onAccount(
      "pubsub-agent-token-creator",
      this.eventTrigger,
      pubsubAgent.member,
      "roles/iam.serviceAccountTokenCreator",
      afterAgents,
    );
    // The Cloud Storage agent publishes the curated bucket's events to Eventarc's Pub/Sub topic.
    onProject(
      "storage-agent-publisher",
      pulumi.interpolate`serviceAccount:${storageAgent.emailAddress}`,
      "roles/pubsub.publisher",
    );

    // Each workload's service account email: what an operator grants further access to, or looks up in logs.
    this.registerOutputs({
      streamCluster: this.streamCluster.email,
      hiveCluster: this.hiveCluster.email,
      composer: this.composer.email,
      loader: this.loader.email,
      loaderBuild: this.loaderBuild.email,
      eventTrigger: this.eventTrigger.email,
      clusterUserRole: this.clusterUser.name,
    });
  }
}

// `npx tsx stacks/identity.ts` prints the custom roles' table of docs/access.md.
if (require.main === module) console.log(customRolesTable());
