// The sandbox's warehouse as analysts see it, and the report of it: the latest run of every hour, its
// lineage, the health figures and the reconciliation against the generator's ground truth (or, for the
// user's own traffic, the account of where it went).
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { classifyObjectName } from "../../functions/loader/src/publishedObject";
import { HOUR_MS, hourEndMs } from "../schedule/clock";
import { Delivery } from "../schedule/notifier";
import { HourRun } from "../schedule/scheduler";
import { accessLogCounts } from "../verdict/accessLogAccount";
import { expectedActivity, GeneratorSummary, readGroundTruth } from "../verdict/groundTruth";
import { Health, pipelineHealth } from "../verdict/health";
import {
  HourlyActivityRow,
  HourShown,
  hoursShown,
  LatestRun,
  topProducts,
  totalsPerHour,
} from "../verdict/hourlyActivity";
import {
  clientQuery,
  latestHourlyActivity,
  loadLineage,
  localClient,
  loadsPerObject,
  ObjectLoads,
  rowsLoadedTwice,
} from "../verdict/localBigQuery";
import { reconcile, Reconciliation } from "../verdict/reconciliation";
import { renderReport } from "../verdict/report";
import { TrafficAccount, trafficAccount } from "../verdict/trafficAccount";
import * as parts from "../processes/parts";
import { Endpoints } from "../processes/services";
import { SandboxLayout } from "../shared/layout";
import { maxQuarantineShareOf } from "./stateFolder";

/** The live traffic's record: whether the start-up hours were sent, and each live generator session. */
export interface TrafficState {
  startupSent: boolean;
  sessions: number;
  /** event time at which live traffic first started: hours ending after it count for freshness */
  liveFromMs?: number;
  /** event time at which each live session started (its summary is written when it stops) */
  sessionsFromMs?: number[];
}

/** Hours whose latest published run has every object accepted by the loader (a quiet hour's file too). */
export function loadedHoursOf(runs: readonly HourRun[], delivered: Readonly<Record<string, Delivery>>): string[] {
  const latest = new Map<string, HourRun>();
  for (const r of runs) if (r.ok) latest.set(r.hour, r);
  return [...latest.values()]
    .filter((r) => r.published.length > 0 && r.published.every((name) => delivered[name]))
    .map((r) => r.hour)
    .sort();
}

/** Per hour ("YYYY-MM-DDTHH"), the loader's first acceptance of one of its published objects. */
export function firstAcceptancesOf(deliveries: Readonly<Record<string, Delivery>>): Map<string, Delivery> {
  const first = new Map<string, Delivery>();
  for (const [name, d] of Object.entries(deliveries)) {
    const named = classifyObjectName(name);
    if (!named.published) continue;
    const hour = named.file.hour.slice(0, 13);
    const seen = first.get(hour);
    if (!seen || d.acceptedAtMs < seen.acceptedAtMs) first.set(hour, d);
  }
  return first;
}

/** The latest run of every hour (the scheduler records them in the order they ran). */
export function latestRuns(runs: readonly HourRun[]): LatestRun[] {
  const latest = new Map<string, LatestRun>();
  for (const r of runs) latest.set(r.hour, { hour: r.hour, ok: r.ok, error: r.error });
  return [...latest.values()];
}

/** Every generator summary of the state folder, as one ground truth (per hour and product). */
export function groundTruthRows(l: SandboxLayout): { rows: HourlyActivityRow[]; summaries: GeneratorSummary[] } {
  const summaries = existsSync(l.truth)
    ? readdirSync(l.truth)
        .filter((f) => f.endsWith(".json"))
        .sort()
        .map((f) => readGroundTruth(join(l.truth, f), join(l.logs, "generator.log")))
    : [];
  return { rows: summaries.flatMap(expectedActivity), summaries };
}

/**
 * The report of a sandbox, from its warehouse (running, or started on the kept state by `report`). With the
 * generator's ground truth, the reconciliation covers the loaded hours its finished runs account for (a live
 * session still running writes its ground truth when it stops); without (the user's own traffic), the report
 * gives the account of the traffic instead.
 */
export async function liveReport(l: SandboxLayout, endpoints: Endpoints, top: number): Promise<LiveReportRecord> {
  const view = await readWarehouse({ endpoints });
  const traffic = existsSync(l.traffic)
    ? (JSON.parse(readFileSync(l.traffic, "utf8")) as TrafficState)
    : { startupSent: false, sessions: 0 };
  const { rows: truth, summaries } = groundTruthRows(l);
  const runningFrom =
    (traffic.sessionsFromMs?.length ?? 0) + (traffic.startupSent ? 1 : 0) > summaries.length
      ? traffic.sessionsFromMs?.at(-1)
      : undefined;
  const readJson = <T>(file: string, empty: T): T =>
    existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as T) : empty;
  const scheduler = { runs: readJson<{ runs: HourRun[] }>(l.scheduler, { runs: [] }).runs };
  const notifier = { deliveries: readJson<{ objects: Record<string, Delivery> }>(l.notifier, { objects: {} }).objects };
  const withRows = new Set(view.rows.map((r) => r.hour));
  const hours = hoursShown(
    view.rows,
    latestRuns(scheduler.runs),
    new Set([...withRows, ...loadedHoursOf(scheduler.runs, notifier.deliveries)]),
  );
  const health = healthOf(
    { l, scheduler, notifier },
    hours.map((h) => h.hour),
    view,
  );
  let reconciliation: Reconciliation | undefined;
  let account: TrafficAccount | undefined;
  if (summaries.length > 0) {
    const covered = (hour: string) =>
      withRows.has(hour) &&
      (runningFrom === undefined || hourEndMs(hour) <= Math.floor(runningFrom / HOUR_MS) * HOUR_MS);
    reconciliation = reconcile(
      truth.filter((r) => covered(r.hour)),
      view.rows.filter((r) => covered(r.hour)),
    );
  } else {
    account = trafficAccount(health, hours, accessLogCounts(logLines(l, "stream.log")));
  }
  writeReport(l, { rows: view.rows, hours, reconciliation, account, top, stageSeconds: [], health });
  const record: LiveReportRecord = {
    generatedAt: new Date().toISOString(),
    reportPath: l.report,
    reconciliation,
    account,
    hours,
    ...view,
  };
  writeFileSync(join(l.root, "report.json"), JSON.stringify(record, null, 2) + "\n");
  return record;
}

/** What `report` writes beside the report (report.json): the warehouse as read, and the reconciliation or the account. */
export interface LiveReportRecord extends WarehouseView {
  generatedAt: string;
  reportPath: string;
  /** against the generator's ground truth, when there is one */
  reconciliation?: Reconciliation;
  /** where the user's own traffic went, when there is no ground truth */
  account?: TrafficAccount;
  hours: HourShown[];
}

export interface WarehouseView {
  rows: HourlyActivityRow[];
  duplicateTableRows: number;
  loads: ObjectLoads[];
  lineage: Awaited<ReturnType<typeof loadLineage>>;
}

/** What analysts see: the latest run of every hour, and the lineage behind it. */
export async function readWarehouse(p: { endpoints: Endpoints }): Promise<WarehouseView> {
  const bigquery = localClient(p.endpoints.bigqueryEndpoint as string, parts.BQ_PROJECT);
  const dataset = `${parts.BQ_PROJECT}.${parts.BQ_DATASET}`;
  return {
    rows: await latestHourlyActivity(bigquery, `${dataset}.${parts.LATEST_VIEW}`),
    duplicateTableRows: await rowsLoadedTwice(clientQuery(bigquery), `${dataset}.${parts.HOURLY_TABLE}`),
    loads: await loadsPerObject(clientQuery(bigquery), `${dataset}.${parts.LOAD_LOG_TABLE}`),
    lineage: await loadLineage(clientQuery(bigquery), `${dataset}.${parts.LOAD_LOG_TABLE}`),
  };
}

const logLines = (l: SandboxLayout, name: string) =>
  existsSync(join(l.logs, name)) ? readFileSync(join(l.logs, name), "utf8").split("\n") : [];

/** The health figures, as the deployed dashboard computes them, from the state folder's logs and records. */
export function healthOf(
  p: {
    l: SandboxLayout;
    scheduler: { runs: readonly HourRun[] };
    notifier: { deliveries: Readonly<Record<string, Delivery>> };
  },
  hours: string[],
  view: WarehouseView,
): Health {
  return pipelineHealth({
    hours,
    streamLog: logLines(p.l, "stream.log"),
    runnerInvocations: p.scheduler.runs.map((r) => ({
      startedAtMs: r.startedAtMs,
      endedAtMs: r.endedAtMs,
      results: [{ hour: r.hour, run_id: r.runId, ok: r.ok }],
    })),
    loads: view.lineage,
    loaderLog: logLines(p.l, "loader.log"),
    loaderInvocations: Object.values(p.notifier.deliveries).reduce((a, d) => a + d.times, 0),
    maxQuarantineShare: maxQuarantineShareOf(p.l),
    firstAcceptedClockMs: new Map(
      [...firstAcceptancesOf(p.notifier.deliveries)].map(([hour, d]) => [hour, d.acceptedAtClockMs]),
    ),
  });
}

export interface ReportContent {
  rows: HourlyActivityRow[];
  hours: HourShown[];
  reconciliation?: Reconciliation;
  account?: TrafficAccount;
  top: number;
  stageSeconds: { stage: string; seconds: number }[];
  health: Health;
  quarantined?: number;
}

export function writeReport(l: SandboxLayout, c: ReportContent): void {
  writeFileSync(
    l.report,
    renderReport({
      generatedAt: new Date().toISOString(),
      table: `${parts.BQ_PROJECT}.${parts.BQ_DATASET}.${parts.LATEST_VIEW}`,
      hours: c.hours,
      topProducts: topProducts(c.rows, c.top),
      reconciliation: c.reconciliation,
      account: c.account,
      quarantined: c.quarantined,
      stageSeconds: c.stageSeconds,
      health: c.health,
    }),
  );
}

export function formatHourlyTable(rows: HourlyActivityRow[], top: number): string {
  const lines = ["hour (UTC)        product-page visits   cart additions"];
  for (const h of totalsPerHour(rows))
    lines.push(`${h.hour}:00     ${String(h.visits).padStart(19)}   ${String(h.cartAdds).padStart(14)}`);
  lines.push("", `top ${top} products      visits   cart additions`);
  for (const p of topProducts(rows, top))
    lines.push(`  ${p.productId.padEnd(16)} ${String(p.visits).padStart(8)}   ${String(p.cartAdds).padStart(14)}`);
  return lines.join("\n");
}
