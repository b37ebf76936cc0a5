// `npm start -- query "SQL"`: one query over the local warehouse with the official BigQuery client, printed
// as a table, CSV or JSON lines, its timestamps as ISO times (the API's own form is microseconds).
import type { QueryOutput } from "./usage";

export type Cell = string | number | boolean | null;

/** A value as a person reads it: a TIMESTAMP, DATE or DATETIME as its ISO text, a NUMERIC as its digits. */
export function readableValue(v: unknown): Cell {
  if (v === null || v === undefined) return null;
  if (typeof v === "string" || typeof v === "number" || typeof v === "boolean") return v;
  if (typeof v === "object" && "value" in v) return String((v as { value: unknown }).value);
  if (Buffer.isBuffer(v)) return v.toString("base64");
  if (typeof v === "bigint" || (typeof v === "object" && typeof (v as { toFixed?: unknown }).toFixed === "function"))
    return String(v);
  return JSON.stringify(v);
}

export function readableRows(rows: Record<string, unknown>[]): Record<string, Cell>[] {
  return rows.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, readableValue(v)])));
}

function csvField(c: Cell): string {
  const text = c === null ? "" : String(c);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** The rows as text in the chosen form; the columns are the first row's, in the query's order. */
export function formatRows(rows: Record<string, Cell>[], output: QueryOutput): string {
  if (output === "json") return rows.map((r) => JSON.stringify(r)).join("\n");
  const columns = rows.length ? Object.keys(rows[0]) : [];
  if (output === "csv")
    return [columns, ...rows.map((r) => columns.map((c) => r[c]))]
      .map((line) => line.map(csvField).join(","))
      .join("\n");
  if (!rows.length) return "(no rows)";
  const text = (c: Cell) => (c === null ? "NULL" : String(c));
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => text(r[c]).length)));
  const numeric = columns.map((c) =>
    rows.every((r) => r[c] === null || typeof r[c] === "number" || /^-?\d+(\.\d+)?$/.test(String(r[c]))),
  );
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (numeric[i] ? cell.padStart(widths[i]) : cell.padEnd(widths[i])))
      .join("  ")
      .trimEnd();
  return [
    line(columns),
    line(widths.map((w) => "-".repeat(w))),
    ...rows.map((r) => line(columns.map((c) => text(r[c])))),
  ].join("\n");
}
