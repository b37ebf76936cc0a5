// The pipeline's buckets: raw events, hourly staging, curated hourly output, deployable artifacts, Dataproc staging.
import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { StackConfig } from "./config";

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
  /** Dataproc's staging and temp bucket, so Dataproc does not create unmanaged ones. */
  readonly dataproc: gcp.storage.Bucket;
  /** Composer's environment bucket: Composer leaves the one it creates behind on delete, this one goes. */
  readonly composer: gcp.storage.Bucket;

  constructor(name: string, args: { config: StackConfig }, opts?: pulumi.ComponentResourceOptions) {
    super("clickstream:stack:Storage", name, {}, opts);
    const { config } = args;
    // Bucket names are global: a random suffix keeps two stacks (or a re-created one) from colliding.
    const suffix = new random.RandomId(`${name}-suffix`, { byteLength: 3 }, { parent: this });

    const bucket = (role: string, extra: Partial<gcp.storage.BucketArgs> = {}) =>
      new gcp.storage.Bucket(`${name}-${role}`, {
        name: pulumi.interpolate`${config.namePrefix}-${role}-${config.project}-${suffix.hex}`,
        location: config.region.toUpperCase(),
        storageClass: "STANDARD",
        uniformBucketLevelAccess: true,
        publicAccessPrevention: "enforced",
        forceDestroy: config.forceDestroy,
        // Deleted objects are not kept (and billed) for the default 7 days, except where replay matters.
        softDeletePolicy: { retentionDurationSeconds: 0 },
        ...extra,
      }, { parent: this });

    this.raw = bucket("raw", {
      lifecycleRules: [
        { condition: { age: config.rawRetentionDays }, action: { type: "Delete" } },
        // Parquet is written once; cheaper storage after a month unless it is deleted first.
        ...(config.rawRetentionDays > 30
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
      // A run cleans its own staging; what a failed run left is kept a week for a look, then goes.
      lifecycleRules: [{ condition: { age: 7 }, action: { type: "Delete" } }],
    });
    this.dataproc = bucket("dataproc", {
      lifecycleRules: [{ condition: { age: 30 }, action: { type: "Delete" } }],
    });
    this.composer = bucket("composer");

    this.registerOutputs({});
  }
}
