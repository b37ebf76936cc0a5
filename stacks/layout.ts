// Where each stage reads and writes in the buckets: one definition shared by the jobs, the DAG settings and BigQuery.
import * as pulumi from "@pulumi/pulumi";

export interface RawLayout {
  /** Valid entries as Parquet, `dt=YYYY-MM-DD/hr=HH/` partitions. */
  events: pulumi.Output<string>;
  /** Malformed entries with the raw value and the reason. */
  quarantine: pulumi.Output<string>;
  /** The streaming query's checkpoint, next to the data it protects. */
  checkpoint: pulumi.Output<string>;
  /** Per-hour completion markers the DAG waits for. */
  markers: pulumi.Output<string>;
}

export function rawLayout(bucketName: pulumi.Input<string>): RawLayout {
  return {
    events: pulumi.interpolate`gs://${bucketName}/events`,
    quarantine: pulumi.interpolate`gs://${bucketName}/quarantine`,
    checkpoint: pulumi.interpolate`gs://${bucketName}/_checkpoints`,
    markers: pulumi.interpolate`gs://${bucketName}/_complete`,
  };
}

/** Where the HiveQL goes in the Composer bucket; the Hive cluster reads it from there (query_file_uri). */
export const HIVEQL_DAG_FOLDER = "dags/hql";

/** Where the hourly DAG stages each run before publishing, in the hourly staging bucket (not curated: no trigger). */
export const HOURLY_STAGING_FOLDER = "hourly-staging";
