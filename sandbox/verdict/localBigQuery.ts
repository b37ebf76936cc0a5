// Reads the hourly table from the local BigQuery-API server with the official client, as an analyst's
// tool would (the client's apiEndpoint pointed at 127.0.0.1; no credentials are involved).
import { join } from "node:path";
import { classifyObjectName } from "../../functions/loader/src/publishedObject";
import { folderGeneration } from "../../functions/loader/src/storedObjects";
import { objectNames } from "../schedule/notifier";
import { BigQuery } from "@google-cloud/bigquery";
import { LineageLoad } from "./health";
import { hourKey, HourlyActivityRow } from "./hourlyActivity";
import { BQ_LOCATION as LOCATION } from "../processes/parts";

export function localClient(endpoint: string, project: string): BigQuery {
  // The local BigQuery server needs no credentials: skip the client library's probe of a GCE metadata server.
  process.env.METADATA_SERVER_DETECTION ??= "none";
  return new BigQuery({ projectId: project, location: LOCATION, apiEndpoint: endpoint });
}

export async function queryRows(client: BigQuery, sql: string): Promise<Record<string, unknown>[]> {
  const [rows] = await client.query({ query: sql, location: LOCATION });
  return rows as Record<string, unknown>[];
}

/** One query's rows keyed by column: the official client in the sandbox, BigQuery's REST API in tests. */
export type RunQuery = (sql: string) => Promise<Record<string, unknown>[]>;

export const clientQuery =
  (client: BigQuery): RunQuery =>
  (sql) =>
    queryRows(client, sql);

/** TIMESTAMP values come back as BigQueryTimestamp objects ({ value: ISO string }). */
function hourOfValue(v: unknown): string {
  return hourKey(
    typeof v === "object" && v !== null && "value" in v ? String((v as { value: unknown }).value) : String(v),
  );
}

/** The rows of the latest run of every hour: the table analysts read. */
export async function latestHourlyActivity(client: BigQuery, table: string): Promise<HourlyActivityRow[]> {
  const rows = await queryRows(client, `SELECT hour, product_id, visits, cart_adds FROM \`${table}\``);
  return rows.map((r) => ({
    hour: hourOfValue(r.hour),
    product_id: String(r.product_id),
    visits: Number(r.visits),
    cart_adds: Number(r.cart_adds),
  }));
}

/**
 * Groups of rows in the base table that share (hour, product_id, run_id): an object loaded twice. The
 * latest-run view folds such copies, so this reads the table itself.
 */
export async function rowsLoadedTwice(query: RunQuery, table: string): Promise<number> {
  const rows = await query(
    `SELECT COUNT(*) AS n FROM (SELECT hour, product_id, run_id FROM \`${table}\` GROUP BY hour, product_id, run_id HAVING COUNT(*) > 1) AS d`,
  );
  return Number(rows[0]?.n ?? 0);
}

/** One loaded object as the lineage table records it; more than one load job means its rows are in twice. */
export interface ObjectLoads {
  object: string;
  /** "YYYY-MM-DDTHH" (UTC) */
  hour: string;
  runId: string;
  loadJobs: number;
}

export async function loadsPerObject(query: RunQuery, loadLogTable: string): Promise<ObjectLoads[]> {
  const rows = await query(
    `SELECT object, FORMAT_TIMESTAMP('%Y-%m-%dT%H', hour) AS hour, run_id, COUNT(DISTINCT load_job_id) AS load_jobs FROM \`${loadLogTable}\` GROUP BY object, hour, run_id ORDER BY object`,
  );
  return rows.map((r) => ({
    object: String(r.object),
    hour: String(r.hour),
    runId: String(r.run_id),
    loadJobs: Number(r.load_jobs),
  }));
}

/** Every lineage row: the hour it loaded, the rows it added and when it was written (for the health figures). */
export async function loadLineage(query: RunQuery, loadLogTable: string): Promise<LineageLoad[]> {
  const rows = await query(
    `SELECT FORMAT_TIMESTAMP('%Y-%m-%dT%H', hour) AS hour, output_rows, UNIX_MILLIS(loaded_at) AS loaded_at_ms FROM \`${loadLogTable}\` ORDER BY loaded_at`,
  );
  return rows.map((r) => ({
    hour: String(r.hour),
    outputRows: Number(r.output_rows),
    loadedAtMs: Number(r.loaded_at_ms),
  }));
}

/**
 * The reconciliation of published objects with the lineage: objects in the curated bucket's folder named as
 * published hourly files whose live generation has no lineage row (never loaded, or rejected by the loader).
 */
export async function curatedObjectsWithoutLineage(
  query: RunQuery,
  loadLogTable: string,
  bucketFolder: string,
): Promise<string[]> {
  const loaded = new Set(
    (await query(`SELECT object, generation FROM \`${loadLogTable}\``)).map(
      (r) => `${String(r.object)}#${String(r.generation)}`,
    ),
  );
  return objectNames(bucketFolder).filter(
    (name) =>
      classifyObjectName(name).published && !loaded.has(`${name}#${folderGeneration(join(bucketFolder, name))}`),
  );
}
