// Where the sandbox keeps its state: everything under one folder, so `purge` is one removal.
import { existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";

export const DEFAULT_STATE_DIR = resolve(__dirname, "..", "..", ".sandbox");

export function stateDirFrom(flag?: string): string {
  return resolve(flag ?? process.env.CLICKSTREAM_SANDBOX_DIR ?? DEFAULT_STATE_DIR);
}

export type SandboxLayout = ReturnType<typeof sandboxLayout>;

/**
 * A command to suggest, quoted for the message: `'npm start -- status --state-dir DIR'`, carrying the state
 * folder whenever it is not the one the command finds by itself.
 */
export function sandboxCommand(root: string, command: string): string {
  const dir = /^[\w./@%+=:,-]+$/.test(root) ? root : `"${root.replace(/(["\\$`])/g, "\\$1")}"`;
  return `'npm start -- ${command}${resolve(root) === stateDirFrom() ? "" : ` --state-dir ${dir}`}'`;
}

/** Bucket names as the local BigQuery server resolves gs://BUCKET/NAME: <buckets>/BUCKET/NAME. */
export const RAW_BUCKET = "clickstream-raw";
export const CURATED_BUCKET = "clickstream-curated";

export function sandboxLayout(root: string) {
  const buckets = join(root, "buckets");
  return {
    root,
    kafka: join(root, "kafka"),
    buckets,
    /** the raw bucket: events/dt=/hr=/*.parquet, quarantine/, the stream's checkpoint and hour markers */
    rawBucket: join(buckets, RAW_BUCKET),
    /** the curated bucket: hourly/dt=/hr=/run_id=/part-NNNNN.csv, what the loader is notified of */
    curatedBucket: join(buckets, CURATED_BUCKET),
    staging: join(root, "staging"),
    hive: join(root, "hive"),
    bigquery: join(root, "bigquery"),
    logs: join(root, "logs"),
    /** the generator's ground truth: one summary per run of it (the start-up hours, then each live session) */
    truth: join(root, "truth"),
    /** the sandbox clock, the scheduler's runs, the notifier's deliveries, the live traffic's sessions */
    clock: join(root, "clock.json"),
    scheduler: join(root, "scheduler.json"),
    notifier: join(root, "notifier.json"),
    traffic: join(root, "traffic.json"),
    /** what the streaming job reads on this state folder (the input format and its settings), fixed by the first start */
    input: join(root, "input.json"),
    /** the data-quality limits `up --quarantine-max-share` asked for, kept across down and up */
    checks: join(root, "checks.json"),
    /** what `up` left running and its figures, refreshed by the supervisor */
    status: join(root, "status.json"),
    /** hours `rerun` asked for, one a line, taken by the supervisor's scheduler */
    reruns: join(root, "rerun-requests"),
    report: join(root, "report.html"),
    /** what the run found, as JSON, for tests and scripts */
    result: join(root, "result.json"),
    services: join(root, "services.json"),
    /** one record per process the sandbox started (processRegistry.ts), until it is seen gone */
    processes: join(root, "processes"),
  };
}

const MARKER = ".clickstream-sandbox";

/**
 * True when the folder may be emptied by the sandbox: it does not exist, is empty, or the sandbox made it.
 * A mistyped --state-dir pointing at a folder of the user's own must never be wiped.
 */
export function isSandboxFolder(root: string): boolean {
  return !existsSync(root) || readdirSync(root).length === 0 || existsSync(join(root, MARKER));
}

export function markSandboxFolder(root: string): void {
  mkdirSync(root, { recursive: true });
  writeFileSync(
    join(root, MARKER),
    `state of the clickstream sandbox (npm start); ${sandboxCommand(root, "purge")} removes this folder\n`,
  );
}
