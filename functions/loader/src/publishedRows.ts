// What a published file's rows must say about themselves: the hour and run its name gives. A row of
// another hour or run (a file written beside the checked output, or by hand) rejects the whole file.
import { HOURLY_ACTIVITY_FIELDS } from "./hourlySchema";
import { PublishedHourlyFile } from "./publishedObject";

const HEADER = HOURLY_ACTIVITY_FIELDS.map((f) => f.name).join(",");
const HOUR_COLUMN = HOURLY_ACTIVITY_FIELDS.findIndex((f) => f.name === "hour");
const RUN_ID_COLUMN = HOURLY_ACTIVITY_FIELDS.findIndex((f) => f.name === "run_id");

/** The hour as the published CSV writes it: 'YYYY-MM-DD HH:00:00'. */
export function csvHour(file: PublishedHourlyFile): string {
  return file.hour.replace("T", " ").replace("Z", "");
}

/** A quiet hour's file: no line, or only the column names. */
export function hasNoRows(content: string): boolean {
  const lines = content.replace(/\n$/, "");
  return lines === "" || lines === HEADER;
}

/**
 * Why the file's rows do not belong to the file, or undefined when every row names its hour and run.
 * A file with no rows (a quiet hour), or only the column names, belongs. Rows are split on every comma:
 * a quoted comma gives a row the wrong number of columns, which is refused too.
 */
export function rowsNotOfFile(content: string, file: PublishedHourlyFile): string | undefined {
  const hour = csvHour(file);
  const lines = content.split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  for (const [i, line] of lines.entries()) {
    if (i === 0 && line === HEADER) continue;
    const fields = line.split(",");
    const row = `row ${i + 1}`;
    if (fields.length !== HOURLY_ACTIVITY_FIELDS.length) {
      return `${row} has ${fields.length} columns, not the contract's ${HOURLY_ACTIVITY_FIELDS.length}`;
    }
    if (fields[HOUR_COLUMN] !== hour) {
      return `${row} is of hour ${JSON.stringify(fields[HOUR_COLUMN].slice(0, 40))}, not the object name's ${hour}`;
    }
    if (fields[RUN_ID_COLUMN] !== file.runId) {
      return `${row} is of run ${JSON.stringify(fields[RUN_ID_COLUMN].slice(0, 40))}, not the object name's ${file.runId}`;
    }
  }
  return undefined;
}
