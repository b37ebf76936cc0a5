// The warehouse the loader writes into, declared once here for the stack (Pulumi) and the tests:
// tables with their partitioning and clustering, the views' SQL, and the raw external table.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import hourlyActivityColumns from "../../../contract/hourly-activity.schema.json";
import weblogEntryContract from "../../../contract/weblog-entry.schema.json";
import loadLogColumns from "./hourly_activity_loads.schema.json";

export interface WarehouseRef {
  project: string;
  dataset: string;
}

export interface WarehouseColumn {
  name: string;
  type: string;
  mode: string;
  description: string;
}

export interface WarehouseTable {
  tableId: string;
  description: string;
  schema: ReadonlyArray<WarehouseColumn>;
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
  description:
    "Lineage: one row per loaded object (job id, object, generation, hour, run, rows). Join on (hour, run_id).",
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

/** The columns the streaming job adds after the contract's fields (jobs/weblog_parse.py KAFKA_COLUMNS). */
const KAFKA_METADATA_COLUMNS: WarehouseColumn[] = [
  { name: "kafka_partition", type: "INT64", mode: "NULLABLE", description: "Kafka partition the entry was read from" },
  { name: "kafka_offset", type: "INT64", mode: "NULLABLE", description: "offset of the entry in its Kafka partition" },
  { name: "kafka_timestamp", type: "TIMESTAMP", mode: "NULLABLE", description: "when Kafka received the entry" },
  { name: "ingest_time", type: "TIMESTAMP", mode: "NULLABLE", description: "when the streaming job wrote the entry" },
];

type ContractProperty = { type: string | string[]; format?: string; description: string };

/** A contract field as the Parquet the streaming job writes holds it: event_time parsed to a timestamp. */
function rawColumnOf(name: string, property: ContractProperty): WarehouseColumn {
  const types = Array.isArray(property.type) ? property.type : [property.type];
  const type = property.format === "date-time" ? "TIMESTAMP" : types.includes("integer") ? "INT64" : "STRING";
  // Spark writes every Parquet column as optional, so BigQuery must read each as NULLABLE.
  return { name, type, mode: "NULLABLE", description: property.description };
}

/**
 * The raw Parquet's columns, in the order the streaming job writes them: the contract's fields, then the
 * Kafka metadata. dt and hr are not here: BigQuery adds them from the hive-partitioned path.
 */
export const rawEntryColumns: readonly WarehouseColumn[] = [
  ...Object.entries(weblogEntryContract.properties as Record<string, ContractProperty>).map(([name, property]) =>
    rawColumnOf(name, property),
  ),
  ...KAFKA_METADATA_COLUMNS,
];

/**
 * The external table over the raw Parquet the streaming job writes (raw bucket,
 * events/dt=YYYY-MM-DD/hr=HH/*.parquet): an explicit schema, so it can be created over an empty bucket
 * (autodetect would need files to read) and says what each column means; dt and hr from the path.
 * In the shape of gcp.bigquery.Table's externalDataConfiguration (the schema still to be serialised).
 */
export function rawEntriesExternalTable(rawBucket: string) {
  return {
    tableId: RAW_ENTRIES_TABLE_ID,
    description:
      "Raw web-log entries as the streaming job wrote them (Parquet, Hive-partitioned by dt and hr), queried in place.",
    externalDataConfiguration: {
      sourceFormat: "PARQUET",
      autodetect: false,
      // The provider sends it as the table's schema (without a connection, it belongs here).
      schema: rawEntryColumns,
      // Only the Parquet files of the partition folders: BigQuery's one `*` spans '/', and events/ also holds
      // each hour's empty _PRESENT marker (and, from the job's earlier file-sink version, its _spark_metadata/
      // log of JSON files), which a Parquet read fails on.
      sourceUris: [`gs://${rawBucket}/events/dt=*.parquet`],
      hivePartitioningOptions: {
        mode: "CUSTOM",
        sourceUriPrefix: `gs://${rawBucket}/events/{dt:DATE}/{hr:INTEGER}`,
        requirePartitionFilter: false,
      },
    },
  };
}
