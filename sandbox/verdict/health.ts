// The pipeline's health figures, computed as the deployed dashboard and alerts compute them, from what a
// sandbox run records: the streaming job's "hour complete" lines, the hourly runner's results, the load
// lineage table and the loader's log lines (matched with the patterns of contract/log-lines.json).
import { FILE_REJECTED, HOUR_COMPLETE, HOUR_LOADED, LogLine, matches } from "../../contract/logLines";

/** One invocation of the hourly runner: when it started and ended, and the per-hour results it printed. */
export interface HourlyRunnerInvocation {
  startedAtMs: number;
  endedAtMs: number;
  results: { hour: string; run_id: string; ok: boolean }[];
}

/** One row of the load lineage table (hourly_activity_loads): one load job of one hourly file. */
export interface LineageLoad {
  /** "YYYY-MM-DDTHH" (UTC) */
  hour: string;
  outputRows: number;
  loadedAtMs: number;
}

export interface HealthInput {
  /** the hours the run sent traffic for, "YYYY-MM-DDTHH" */
  hours: string[];
  /** the streaming job's output, one string per line */
  streamLog: string[];
  runnerInvocations: HourlyRunnerInvocation[];
  loads: LineageLoad[];
  /** the loader's output, one string per line (its structured lines are JSON) */
  loaderLog: string[];
  /** storage events delivered to the loader: its invocations */
  loaderInvocations: number;
  /** the quarantine share the hourly data-quality check and the alert allow */
  maxQuarantineShare: number;
  /** per hour, when the loader first accepted one of its files, on the sandbox clock (epoch ms); freshness
   * runs to it, so that it is in sandbox time on an accelerated clock (else to the first lineage row) */
  firstAcceptedClockMs?: ReadonlyMap<string, number>;
}

export interface HourHealth {
  hour: string;
  /** from the hour's "hour complete" line; null while the hour is not marked complete */
  rows: number | null;
  quarantined: number | null;
  /** quarantined / (rows + quarantined), the alert's share; null without entries */
  quarantineShare: number | null;
  /** the share is over the threshold: the deployed "quarantine share over" alert would fire */
  quarantineAlert: boolean;
  /** runs of the hour's steps, and how long each took (null when its run id carries no start time) */
  runs: { runId: string; ok: boolean; seconds: number | null }[];
  /** hourly files loaded (lineage rows) and the rows they added */
  filesLoaded: number;
  rowsLoaded: number;
  /** from the hour's end to its first load, in sandbox time; negative when loaded before the hour ended */
  freshnessSeconds: number | null;
}

export interface Health {
  maxQuarantineShare: number;
  hours: HourHealth[];
  /** Spark start-up of each runner invocation, before its first hour began */
  runnerStartupSeconds: number[];
  loader: { invocations: number; loadedLines: number; rowsLoaded: number; rejectedFiles: number; errorLines: number };
}

const HOUR_MS = 3_600_000;
const hourStartMs = (hour: string) => Date.parse(`${hour}:00:00Z`);

/** A run id is its start time, e.g. 20261126T150512123456Z (dags/weblog_hourly_steps.py new_run_id). */
function runStartMs(runId: string): number | null {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})(\d{3})\d{3}Z$/.exec(runId);
  return m ? Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6], +m[7]) : null;
}

/** The value of a LogEntry field for one local output line: the line itself, or a key of its JSON. */
function fieldOf(field: string, line: string): unknown {
  if (field === "textPayload") return line;
  const key = field.replace(/^jsonPayload\./, "");
  try {
    const entry = JSON.parse(line) as Record<string, unknown>;
    return typeof entry === "object" && entry !== null ? entry[key] : undefined;
  } catch {
    return undefined;
  }
}

const lineMatches = (line: LogLine, text: string) => {
  const value = fieldOf(line.field, text);
  return typeof value === "string" && matches(line, value);
};

/** The figures of each "hour complete" line, extracted as the deployed log-based metrics extract them. */
function hoursComplete(streamLog: string[]): Map<string, { rows: number; quarantined: number }> {
  const found = new Map<string, { rows: number; quarantined: number }>();
  for (const line of streamLog) {
    if (!lineMatches(HOUR_COMPLETE, line)) continue;
    const hour = /"hour": "(\d{4}-\d{2}-\d{2}T\d{2})"/.exec(line)?.[1];
    const rows = new RegExp(HOUR_COMPLETE.rows).exec(line)?.[1];
    const quarantined = new RegExp(HOUR_COMPLETE.quarantined).exec(line)?.[1];
    if (hour && rows !== undefined && quarantined !== undefined)
      found.set(hour, { rows: Number(rows), quarantined: Number(quarantined) });
  }
  return found;
}

export function pipelineHealth(input: HealthInput): Health {
  const s = input.maxQuarantineShare;
  const complete = hoursComplete(input.streamLog);

  const runs = new Map<string, HourHealth["runs"]>();
  const runnerStartupSeconds: number[] = [];
  for (const invocation of input.runnerInvocations) {
    // Each hour starts when the one before it ended; the last ends with the invocation.
    const starts = invocation.results.map((r) => runStartMs(r.run_id));
    if (starts[0] !== null && starts[0] !== undefined)
      runnerStartupSeconds.push((starts[0] - invocation.startedAtMs) / 1000);
    invocation.results.forEach((r, i) => {
      const start = starts[i];
      const end = i + 1 < starts.length ? starts[i + 1] : invocation.endedAtMs;
      const seconds = start === null || end === null ? null : (end - start) / 1000;
      runs.set(r.hour, [...(runs.get(r.hour) ?? []), { runId: r.run_id, ok: r.ok, seconds }]);
    });
  }

  const allHours = [
    ...new Set([...input.hours, ...complete.keys(), ...runs.keys(), ...input.loads.map((l) => l.hour)]),
  ].sort();
  const hours = allHours.map((hour): HourHealth => {
    const c = complete.get(hour);
    const total = c ? c.rows + c.quarantined : 0;
    const quarantineShare = c && total > 0 ? c.quarantined / total : null;
    const loads = input.loads.filter((l) => l.hour === hour);
    const firstLoad =
      input.firstAcceptedClockMs?.get(hour) ?? (loads.length ? Math.min(...loads.map((l) => l.loadedAtMs)) : null);
    return {
      hour,
      rows: c ? c.rows : null,
      quarantined: c ? c.quarantined : null,
      quarantineShare,
      // Over, not at: a threshold of 1 never fires, as the stack then declares no alert.
      quarantineAlert: quarantineShare !== null && quarantineShare > s,
      runs: runs.get(hour) ?? [],
      filesLoaded: loads.length,
      rowsLoaded: loads.reduce((a, l) => a + l.outputRows, 0),
      freshnessSeconds: firstLoad === null ? null : (firstLoad - (hourStartMs(hour) + HOUR_MS)) / 1000,
    };
  });

  const loaded = input.loaderLog.filter((line) => lineMatches(HOUR_LOADED, line));
  const severity = (line: string) => fieldOf("jsonPayload.severity", line);
  return {
    maxQuarantineShare: s,
    hours,
    runnerStartupSeconds,
    loader: {
      invocations: input.loaderInvocations,
      loadedLines: loaded.length,
      rowsLoaded: loaded.reduce((a, line) => a + Number(fieldOf(HOUR_LOADED.rowsField, line) ?? 0), 0),
      rejectedFiles: input.loaderLog.filter((line) => lineMatches(FILE_REJECTED, line)).length,
      // The loader-errors alert counts lines of severity ERROR or worse.
      errorLines: input.loaderLog.filter((line) =>
        ["ERROR", "CRITICAL", "ALERT", "EMERGENCY"].includes(String(severity(line))),
      ).length,
    },
  };
}
