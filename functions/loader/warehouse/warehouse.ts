// The warehouse the loader writes into, declared once here for the stack (Pulumi) and the tests:
// tables with their partitioning and clustering, the views' SQL, and the raw external table.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import hourlyActivityColumns from "../../../contract/hourly-activity.schema.json";
import loadLogColumns from "./hourly_activity_loads.schema.json";

export interface WarehouseRef {
  project: string;
  dataset: string;
}

export interface WarehouseTable {
  tableId: string;
  description: string;
  schema: ReadonlyArray<{ name: string; type: string; mode: string; description: string }>;
  /**
   * Monthly partitions on the hour: 1,200 per century, far under BigQuery's 10,000-partition limit
   * (daily would be 36,500 and hourly 876,000). Appends touch one partition; a month of hourly rows
   * is a sensible unit of pruning.
   */
  timePartitioning: { type: "MONTH"; field: string };
  clustering: string[];
}

export const hourlyActivityTable: WarehouseTable = {
  tableId: "hourly_activity",
  description:
    "Visits and cart additions per product and UTC hour, appended by the loader, one load job per published file; rows of every run (see hourly_activity_latest).",
  schema: hourlyActivityColumns,
  timePartitioning: { type: "MONTH", field: "hour" },
  // Queries filter by hour range and often by product; clustering on hour first also prunes within a month.
  clustering: ["hour", "product_id"],
};

export const loadLogTable: WarehouseTable = {
  tableId: "hourly_activity_loads",
  description: "Lineage: one row per loaded object (job id, object, generation, hour, run, rows). Join on (hour, run_id).",
  schema: loadLogColumns,
  timePartitioning: { type: "MONTH", field: "hour" },
  clustering: ["run_id"],
};

export type WarehouseViewName = "hourly_activity_latest" | "hourly_totals";

/** Views in the order they must be created (a view's dependencies first). */
export const WAREHOUSE_VIEWS: readonly WarehouseViewName[] = ["hourly_activity_latest", "hourly_totals"];

/** Standard SQL of a view, with the dataset's fully qualified name filled in. */
export function warehouseViewQuery(view: WarehouseViewName, ref: WarehouseRef): string {
  if (!/^[a-z0-9.:-]+$/.test(ref.project) || !/^[A-Za-z0-9_]+$/.test(ref.dataset)) {
    throw new Error(`warehouseViewQuery: ${ref.project}.${ref.dataset} is not a project and dataset id`);
  }
  return readFileSync(join(__dirname, `${view}.sql`), "utf8")
    .replaceAll("{{project}}", ref.project)
    .replaceAll("{{dataset}}", ref.dataset);
}

export const RAW_ENTRIES_TABLE_ID = "weblog_entries_raw";

/**
 * The external table over the raw Parquet the streaming job writes (raw bucket,
 * events/dt=YYYY-MM-DD/hr=HH/*.parquet): columns from the Parquet files, dt and hr from the path.
 * In the shape of gcp.bigquery.Table's externalDataConfiguration.
 */
export function rawEntriesExternalTable(rawBucket: string) {
  return {
    tableId: RAW_ENTRIES_TABLE_ID,
    description: "Raw web-log entries as the streaming job wrote them (Parquet, Hive-partitioned by dt and hr), queried in place.",
    externalDataConfiguration: {
      sourceFormat: "PARQUET",
      autodetect: true,
      // Only the partition folders: BigQuery's one `*` is a prefix match (it spans '/'), and events/
      // also holds the Spark file sink's _spark_metadata/ log (JSON), which a Parquet read fails on.
      sourceUris: [`gs://${rawBucket}/events/dt=*`],
      hivePartitioningOptions: {
        mode: "CUSTOM",
        sourceUriPrefix: `gs://${rawBucket}/events/{dt:DATE}/{hr:INTEGER}`,
        requirePartitionFilter: false,
      },
    },
  };
}
