// One service account per component, each granted the narrowest roles that let it do its job.
import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { StackConfig } from "./config";
import { HIVEQL_DAG_FOLDER } from "./layout";
import { Storage } from "./storage";

/** Exactly what the DAG needs to run Hive jobs on an existing cluster: no cluster create or delete. */
export const JOB_SUBMITTER_PERMISSIONS = [
  "dataproc.clusters.get",
  "dataproc.clusters.use",
  "dataproc.jobs.cancel",
  "dataproc.jobs.create",
  "dataproc.jobs.get",
  "dataproc.operations.get",
];

export interface IdentityArgs {
  config: StackConfig;
  storage: Storage;
}

export class Identity extends pulumi.ComponentResource {
  readonly streamCluster: gcp.serviceaccount.Account;
  readonly hiveCluster: gcp.serviceaccount.Account;
  readonly composer: gcp.serviceaccount.Account;
  readonly loader: gcp.serviceaccount.Account;
  readonly loaderBuild: gcp.serviceaccount.Account;
  readonly eventTrigger: gcp.serviceaccount.Account;
  /** Grants a dependent must wait for (a cluster boots, a trigger subscribes, only once these exist). */
  readonly grants: pulumi.Resource[] = [];

  constructor(name: string, args: IdentityArgs, opts?: pulumi.ComponentResourceOptions) {
    super("clickstream:stack:Identity", name, {}, opts);
    const { config, storage } = args;
    const child = { parent: this };
    const project = config.project;

    const account = (role: string, displayName: string) =>
      new gcp.serviceaccount.Account(`${name}-${role}`, {
        accountId: `${config.namePrefix}-${role}`,
        displayName,
        project,
      }, child);
    const member = (sa: gcp.serviceaccount.Account) => pulumi.interpolate`serviceAccount:${sa.email}`;
    const onProject = (id: string, sa: gcp.serviceaccount.Account | pulumi.Output<string>, role: pulumi.Input<string>) => {
      const grant = new gcp.projects.IAMMember(`${name}-${id}`, {
        project,
        role,
        member: sa instanceof gcp.serviceaccount.Account ? member(sa) : sa,
      }, child);
      this.grants.push(grant);
      return grant;
    };
    const onBucket = (
      id: string,
      bucket: gcp.storage.Bucket,
      sa: gcp.serviceaccount.Account,
      role: string,
      condition?: gcp.types.input.storage.BucketIAMMemberCondition,
    ) => {
      const grant = new gcp.storage.BucketIAMMember(`${name}-${id}`, { bucket: bucket.name, role, member: member(sa), condition }, child);
      this.grants.push(grant);
      return grant;
    };

    this.streamCluster = account("stream", "Streaming Dataproc cluster (Kafka, generator, Spark streaming)");
    this.hiveCluster = account("hive", "Hive Dataproc cluster (hourly HiveQL)");
    this.composer = account("composer", "Composer environment (hourly DAG)");
    this.loader = account("loader", "Loader function (BigQuery loads)");
    this.loaderBuild = account("loader-build", "Cloud Build of the loader function");
    this.eventTrigger = account("trigger", "Eventarc trigger delivering curated-bucket events to the loader");

    // Project scope only where the permission exists nowhere narrower.
    onProject("stream-dataproc-worker", this.streamCluster, "roles/dataproc.worker");
    onProject("hive-dataproc-worker", this.hiveCluster, "roles/dataproc.worker");
    onProject("composer-worker", this.composer, "roles/composer.worker");
    onProject("loader-bigquery-job-user", this.loader, "roles/bigquery.jobUser");
    onProject("loader-build-builder", this.loaderBuild, "roles/cloudbuild.builds.builder");
    onProject("trigger-event-receiver", this.eventTrigger, "roles/eventarc.eventReceiver");

    // A custom role id cannot be reused for 7 days after deletion: the suffix lets destroy + up work at once.
    const roleSuffix = new random.RandomId(`${name}-role-suffix`, { byteLength: 2 }, child);
    const jobSubmitter = new gcp.projects.IAMCustomRole(`${name}-job-submitter`, {
      project,
      roleId: pulumi.interpolate`${config.namePrefix}JobSubmitter${roleSuffix.hex}`,
      title: "Clickstream Dataproc job submitter",
      description: "Submit and follow jobs on existing Dataproc clusters; cannot create or delete clusters.",
      permissions: JOB_SUBMITTER_PERMISSIONS,
    }, child);
    onProject("composer-job-submitter", this.composer, jobSubmitter.name);

    // The Cloud Storage service agent publishes the curated bucket's events to Pub/Sub for Eventarc.
    const storageAgent = gcp.storage.getProjectServiceAccountOutput({ project }, child);
    onProject("storage-agent-publisher", pulumi.interpolate`serviceAccount:${storageAgent.emailAddress}`, "roles/pubsub.publisher");

    // Composer's service agent acts as the environment's own account (granted on that account only).
    const projectInfo = gcp.organizations.getProjectOutput({ projectId: project }, child);
    this.grants.push(new gcp.serviceaccount.IAMMember(`${name}-composer-agent-ext`, {
      serviceAccountId: this.composer.name,
      role: "roles/composer.ServiceAgentV2Ext",
      member: pulumi.interpolate`serviceAccount:service-${projectInfo.number}@cloudcomposer-accounts.iam.gserviceaccount.com`,
    }, child));

    // Bucket scope: each account sees only the buckets of its stage.
    onBucket("stream-raw-writer", storage.raw, this.streamCluster, "roles/storage.objectAdmin");
    onBucket("stream-raw-bucket-reader", storage.raw, this.streamCluster, "roles/storage.legacyBucketReader");
    onBucket("stream-artifacts-reader", storage.artifacts, this.streamCluster, "roles/storage.objectViewer");
    onBucket("stream-dataproc-admin", storage.dataproc, this.streamCluster, "roles/storage.admin");
    onBucket("hive-raw-reader", storage.raw, this.hiveCluster, "roles/storage.objectViewer");
    onBucket("hive-raw-bucket-reader", storage.raw, this.hiveCluster, "roles/storage.legacyBucketReader");
    onBucket("hive-artifacts-reader", storage.artifacts, this.hiveCluster, "roles/storage.objectViewer");
    // The DAG's Hive jobs read their HiveQL from the Composer bucket's dags/hql/, and nothing else there.
    onBucket("hive-hiveql-reader", storage.composer, this.hiveCluster, "roles/storage.objectViewer", {
      title: "hiveql-only",
      description: "Only the HiveQL scripts the hourly DAG submits",
      expression: pulumi.interpolate`resource.name.startsWith("projects/_/buckets/${storage.composer.name}/objects/${HIVEQL_DAG_FOLDER}/")`,
    });
    onBucket("hive-dataproc-admin", storage.dataproc, this.hiveCluster, "roles/storage.admin");
    onBucket("composer-raw-reader", storage.raw, this.composer, "roles/storage.objectViewer");
    onBucket("composer-curated-writer", storage.curated, this.composer, "roles/storage.objectAdmin");
    onBucket("composer-environment-bucket", storage.composer, this.composer, "roles/storage.objectAdmin");
    // The DAG stages each hour in the Dataproc bucket (hourly-staging/), then copies it to curated and cleans up.
    onBucket("composer-staging", storage.dataproc, this.composer, "roles/storage.objectAdmin");
    onBucket("loader-curated-reader", storage.curated, this.loader, "roles/storage.objectViewer");
    onBucket("loader-build-artifacts-reader", storage.artifacts, this.loaderBuild, "roles/storage.objectViewer");

    this.registerOutputs({});
  }
}
