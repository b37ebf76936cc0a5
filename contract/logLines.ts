// The log lines the pipeline's alerts depend on: one definition, read by the monitoring stack and by the
// tests of the components that write them, so a reworded line fails a test instead of silencing an alert.
import lines from "./log-lines.json";

export interface LogLine {
  /** The LogEntry field the pattern is matched against. */
  field: string;
  /** An RE2 pattern (also valid in JavaScript and Python), found anywhere in the field. */
  pattern: string;
}

export const DAG_ID: string = lines.dagId;

/** The DAG's failure callback, in Composer's task log: "weblog_hourly failed: task=<id> hour=<hour> try=<n>". */
export const DAG_TASK_FAILED: LogLine & { task: string } = lines.dagTaskFailed;

/** The loader's structured line for an hourly file it loaded; it carries the rows loaded. */
export const HOUR_LOADED: LogLine & { rowsField: string } = lines.hourLoaded;

/** The loader's structured line for a file it gave up on (severity ERROR). */
export const FILE_REJECTED: LogLine = lines.fileRejected;

/** The streaming job's line for each hour it marks complete: "hour complete: {json}" with rows and quarantined. */
export const HOUR_COMPLETE: LogLine & { rows: string; quarantined: string } = lines.hourComplete;

/** The streaming job's line for offsets Kafka no longer held: "offsets lost: {json}" with the partition and count. */
export const OFFSETS_LOST: LogLine & { lost: string } = lines.offsetsLost;

/** The hourly DAG's reconcile_lineage line for a published object whose live generation has no lineage row:
 * "published object not loaded: {json}" with its bucket, object, generation and when it was published. */
export const NOT_LOADED: LogLine = lines.notLoaded;

/** Whether a line's field value matches, as Cloud Logging's `=~` would (RE2 search, not a full match). */
export const matches = (line: LogLine, value: string): boolean => new RegExp(line.pattern).test(value);
