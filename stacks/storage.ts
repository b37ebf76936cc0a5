// The pipeline's buckets: raw events, hourly staging, curated hourly output, deployable artifacts, Dataproc staging.
import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { StackConfig } from "./config";

/** Days the DAG's leftover staged hours are kept (a run cleans its own; this only catches an interrupted one). */
export const HOURLY_STAGING_DAYS = 30;
/** Google's own default for a Dataproc temp bucket: Spark and YARN history, job scratch. */
export const DATAPROC_TEMP_DAYS = 90;

export interface StorageArgs {
  /** Bucket names are `<namePrefix>-<role>-<project>-<random suffix>`. */
  namePrefix: StackConfig["namePrefix"];
  project: pulumi.Input<string>;
  /** The buckets' location (upper-cased, as Cloud Storage reports it). */
  region: StackConfig["region"];
  forceDestroy: StackConfig["forceDestroy"];
  rawRetentionDays: StackConfig["rawRetentionDays"];
}

export class Storage extends pulumi.ComponentResource {
  /** Parquet written by the streaming job (events/, quarantine/, checkpoints). */
  readonly raw: gcp.storage.Bucket;
  /** Hourly aggregates published by the DAG; the loader's trigger watches it. */
  readonly curated: gcp.storage.Bucket;
  /** Init actions, the generator bundle, Spark job, HiveQL and the function archive. */
  readonly artifacts: gcp.storage.Bucket;
  /**
   * Where each hourly run stages the output its checks read, before publish copies exactly that: written only
   * by the Hive cluster and Composer (not in the Dataproc bucket, which the streaming cluster writes too).
   */
  readonly hourlyStaging: gcp.storage.Bucket;
  /** Dataproc's staging bucket (cluster config and dependency files): kept as long as the cluster. */
  readonly dataproc: gcp.storage.Bucket;
  /** Dataproc's temp bucket (job history, scratch), expiring like the one Dataproc would create. */
  readonly dataprocTemp: gcp.storage.Bucket;
  /** Composer's environment bucket: Composer leaves the one it creates behind on delete, this one goes. */
  readonly composer: gcp.storage.Bucket;

  constructor(name: string, args: StorageArgs, opts?: pulumi.ComponentResourceOptions) {
    super("clickstream:stack:Storage", name, {}, opts);
    // Bucket names are global: a random suffix keeps two stacks (or a re-created one) from colliding.
    const suffix = new random.RandomId(`${name}-suffix`, { byteLength: 3 }, { parent: this });

    const bucket = (role: string, extra: Partial<gcp.storage.BucketArgs> = {}) =>
      new gcp.storage.Bucket(
        `${name}-${role}`,
        {
          name: pulumi.interpolate`${args.namePrefix}-${role}-${args.project}-${suffix.hex}`,
          location: args.region.toUpperCase(),
          storageClass: "STANDARD",
          uniformBucketLevelAccess: true,
          publicAccessPrevention: "enforced",
          forceDestroy: args.forceDestroy,
          // Deleted objects are not kept (and billed) for the default 7 days, except where replay matters.
          softDeletePolicy: { retentionDurationSeconds: 0 },
          ...extra,
        },
        { parent: this },
      );

    this.raw = bucket("raw", {
      lifecycleRules: [
        { condition: { age: args.rawRetentionDays }, action: { type: "Delete" } },
        // Parquet is written once; cheaper storage after a month unless it is deleted first.
        ...(args.rawRetentionDays > 30
          ? [{ condition: { age: 30 }, action: { type: "SetStorageClass", storageClass: "NEARLINE" } }]
          : []),
        { condition: { age: 1 }, action: { type: "AbortIncompleteMultipartUpload" } },
      ],
    });
    this.curated = bucket("curated", {
      // A rerun deletes the previous run's objects; keep them a week in case a load must be replayed.
      softDeletePolicy: { retentionDurationSeconds: 7 * 24 * 3600 },
    });
    this.artifacts = bucket("artifacts", {
      // Content-addressed objects replace each other on every deploy; old ones are not needed.
      versioning: { enabled: false },
    });
    this.hourlyStaging = bucket("hourly", {
      // A run cleans its own staging; what an interrupted run left goes after HOURLY_STAGING_DAYS.
      lifecycleRules: [{ condition: { age: HOURLY_STAGING_DAYS }, action: { type: "Delete" } }],
    });
    // Google documents that the staging bucket has no TTL: repaired and autoscaled nodes read the cluster's files from it.
    this.dataproc = bucket("dataproc");
    this.dataprocTemp = bucket("dataproc-temp", {
      lifecycleRules: [{ condition: { age: DATAPROC_TEMP_DAYS }, action: { type: "Delete" } }],
    });
    this.composer = bucket("composer");

    // Each bucket's name, by its role: what the jobs, the DAG's settings and the stack's outputs refer to.
    this.registerOutputs({
      raw: this.raw.name,
      curated: this.curated.name,
      artifacts: this.artifacts.name,
      hourlyStaging: this.hourlyStaging.name,
      dataproc: this.dataproc.name,
      dataprocTemp: this.dataprocTemp.name,
      composer: this.composer.name,
    });
  }
}
