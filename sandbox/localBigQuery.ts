// Reads the hourly table from the local BigQuery-API server with the official client, as an analyst's
// tool would (the client's apiEndpoint pointed at 127.0.0.1; no credentials are involved).
import { BigQuery } from "@google-cloud/bigquery";
import { hourKey, HourlyActivityRow } from "./hourlyActivity";
import { BQ_LOCATION as LOCATION } from "./parts";

export function localClient(endpoint: string, project: string): BigQuery {
  return new BigQuery({ projectId: project, location: LOCATION, apiEndpoint: endpoint });
}

export async function queryRows(client: BigQuery, sql: string): Promise<Record<string, unknown>[]> {
  const [rows] = await client.query({ query: sql, location: LOCATION });
  return rows as Record<string, unknown>[];
}

/** TIMESTAMP values come back as BigQueryTimestamp objects ({ value: ISO string }). */
function hourOfValue(v: unknown): string {
  return hourKey(typeof v === "object" && v !== null && "value" in v ? String((v as { value: unknown }).value) : String(v));
}

/** The rows of the latest run of every hour: the table analysts read. */
export async function latestHourlyActivity(client: BigQuery, table: string): Promise<HourlyActivityRow[]> {
  const rows = await queryRows(client, `SELECT hour, product_id, visits, cart_adds FROM \`${table}\``);
  return rows.map((r) => ({ hour: hourOfValue(r.hour), product_id: String(r.product_id), visits: Number(r.visits), cart_adds: Number(r.cart_adds) }));
}

/** Groups of rows in the base table that share (hour, product_id, run_id): an object loaded twice. */
export async function rowsLoadedTwice(client: BigQuery, table: string): Promise<number> {
  const rows = await queryRows(
    client,
    `SELECT COUNT(*) AS n FROM (SELECT hour, product_id, run_id FROM \`${table}\` GROUP BY hour, product_id, run_id HAVING COUNT(*) > 1) AS d`,
  );
  return Number(rows[0]?.n ?? 0);
}
