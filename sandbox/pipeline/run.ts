// The one-shot run (`npm start`): the pipeline, the simulated hours, a wait until the warehouse holds
// them, the raw audit and the reconciliation, with the report and result.json.
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { expectedHours, SandboxOptions } from "../commands/options";
import { accessLogAccount, accessLogCounts } from "../verdict/accessLogAccount";
import { GeneratorSummary } from "../verdict/groundTruth";
import { Health } from "../verdict/health";
import { hoursShown } from "../verdict/hourlyActivity";
import { ObjectLoads } from "../verdict/localBigQuery";
import { formatReconciliation, reconcile, Reconciliation } from "../verdict/reconciliation";
import { completedHours } from "../processes/hourMarkers";
import * as parts from "../processes/parts";
import { killGroup, runToCompletion, SandboxError, stopGroup, waitUntil } from "../processes/processes";
import { ProcessRegistry } from "../processes/processRegistry";
import { Shutdown } from "../processes/shutdown";
import { sandboxLayout, stateDirFrom } from "../shared/layout";
import { sleep } from "../shared/sleep";
import { StageClock } from "./stageClock";
import { freshStateFolder, setupIfAsked } from "./stateFolder";
import { formatHourlyTable, groundTruthRows, healthOf, latestRuns, readWarehouse, writeReport } from "./liveReport";
import { Pipeline } from "./pipeline";

export interface RawAudit {
  rows: number;
  distinct_event_ids: number;
  quarantined: number;
}

/** What a run writes to result.json: the verdict and the evidence behind it, for tests and scripts. */
export interface RunRecord {
  reconciliation: Reconciliation;
  reportPath: string;
  audit: RawAudit;
  summary: Pick<
    GeneratorSummary,
    "generated" | "valid" | "malformed" | "duplicates" | "ignored" | "errors" | "hours" | "products"
  >;
  /** object name -> number of deliveries of its event */
  deliveries: Record<string, number>;
  duplicateTableRows: number;
  /** every object the loader recorded in the lineage table, with the number of load jobs that appended it */
  loads: ObjectLoads[];
  /** hour -> the run ids that published it, in order */
  runIds: Record<string, string[]>;
  stageTimes: { stage: string; seconds: number }[];
  /** the health figures the report shows, as the deployed dashboard computes them */
  health: Health;
  /** processes the supervisor restarted, with how often */
  restarts: Record<string, number>;
}

/**
 * The one-shot run: the pipeline, the simulated hours, a wait until the warehouse holds them, the
 * reconciliation. The caller's shutdown (installed before this starts) stops it from any moment.
 */
export async function runSandbox(o: SandboxOptions, say: (s: string) => void, shutdown?: Shutdown): Promise<RunRecord> {
  const l = sandboxLayout(stateDirFrom(o.stateDir));
  // The shutdown's registry: once it is closed, nothing of this run starts any more.
  const registry = shutdown?.registry ?? new ProcessRegistry(l.processes);
  const stages = new StageClock(say);
  const hours = expectedHours(o);
  let pipeline: Pipeline | undefined;
  try {
    await freshStateFolder(l);
    // This process is the supervisor: `down` and `purge` from another terminal find it here.
    registry.recordSelf("supervisor");
    await setupIfAsked(o, l, stages, say, registry);
    const started = await Pipeline.start(
      l,
      {
        // Longer than the generator's pause while the broker restarts, so no hour is marked complete early;
        // otherwise three triggers: the generator sends the run's hours at once (within the stream's first
        // batch), then stops, and the last hour waits only this long after the batch with its last entries.
        idleSeconds: o.faults.has("broker-restart") ? 20 : 6,
        triggerSeconds: 2,
        // Its hours come right after the start: the first one finds the hourly worker warm.
        warmUpWorker: true,
        clockFactor: 1,
        clockStartMs: Date.now(),
        input: { format: o.format, accessLog: o.accessLog },
        maxQuarantineShare: o.maxQuarantineShare,
      },
      say,
      stages,
      registry,
      shutdown,
    );
    pipeline = started;

    const faults: Promise<void>[] = [];
    if (o.faults.has("stream-restart")) {
      faults.push(
        (async () => {
          await waitUntil(
            "the streaming job wrote its first raw files",
            () => countFiles(parts.streamPaths(l).events, ".parquet") > 0,
            {
              timeoutMs: 180_000,
              log: join(l.logs, "stream.log"),
              hint: "read the streaming job's log",
            },
          );
          say(
            "    fault: killing the streaming job (SIGKILL) after its first raw files; the supervisor restarts it from its checkpoint",
          );
          await killGroup(started.supervised.get("stream")?.pid as number);
        })(),
      );
    }
    if (o.faults.has("redeliver")) started.notifier.redeliverNext = 1;
    await stages.stage(
      "generator",
      `sending ${o.hours} h x ${o.perHour} entries of simulated traffic from ${o.start}`,
      () => started.sendStartupHours(o, { brokerRestart: o.faults.has("broker-restart") }),
    );
    await Promise.all(faults);

    await stages.stage(
      "hours",
      `waiting until the warehouse holds all ${hours.length} hours (hourly steps on the scheduler, events to the loader)`,
      async () => {
        let rerunPending = o.faults.has("rerun-hour");
        let streamStopped = false;
        const deadline = Date.now() + 10 * 60_000;
        for (;;) {
          const loaded = started.loadedHours();
          const failed = started.scheduler.runs.find((r) => !r.ok && hours.includes(r.hour));
          if (failed)
            throw new SandboxError(
              `the hourly run ${failed.runId} of ${failed.hour} failed: ${failed.error}`,
              "read the hourly steps' log (a failed data-quality check is named there)",
              join(l.logs, "hourly.log"),
            );
          if (!streamStopped && hours.every((h) => completedHours(l).includes(h))) {
            // Every hour of this run is in the raw bucket: the job's core is better spent on the hourly runs.
            streamStopped = true;
            await started.supervised.get("stream")?.end((pid) => stopGroup(pid));
          }
          if (rerunPending && loaded.includes(hours[0])) {
            say(`    fault: re-running the hour ${hours[0]} (a new run id replaces its published output)`);
            started.scheduler.requestRerun(hours[0]);
            rerunPending = false;
          }
          const reran =
            !o.faults.has("rerun-hour") ||
            started.scheduler.runs.filter((r) => r.ok && r.hour === hours[0]).length >= 2;
          if (
            hours.every((h) => loaded.includes(h)) &&
            reran &&
            !rerunPending &&
            started.notifier.pending().length === 0
          )
            break;
          if (Date.now() > deadline)
            throw new SandboxError(
              `${loaded.length} of ${hours.length} hours reached the warehouse within 10 minutes`,
              "read the streaming job's and the hourly steps' logs",
              join(l.logs, "stream.log"),
            );
          await sleep(250);
        }
      },
    );

    // Every hour is in the warehouse: the broker and the hourly worker stop while the run audits and queries.
    started.stopIngest().catch(() => undefined); // a failure is thrown again by the stop below
    const audit = await stages.stage(
      "audit",
      "auditing the raw bucket (rows, duplicate event ids, quarantine)",
      async () => {
        const out = join(l.root, "raw-audit.json");
        await runToCompletion(
          { ...parts.rawAuditSpec(l, out), timeoutMs: 120_000, hint: "read the audit's log" },
          registry,
        );
        return JSON.parse(readFileSync(out, "utf8")) as RawAudit;
      },
    );
    const { rows: truth, summaries } = groundTruthRows(l);
    const summary = summaries[0];
    const view = await stages.stage("query", "reading the hourly table from the local BigQuery server", () =>
      readWarehouse(started),
    );
    registry.assertOpen("the report"); // a run being stopped writes no verdict
    const reconciliation = reconcile(truth, view.rows, {
      duplicatesSent: summary.duplicates,
      rawRows: audit.rows,
      distinctEventIds: audit.distinct_event_ids,
    });
    const health = healthOf(started, hours, view);
    const shown = hoursShown(view.rows, latestRuns(started.scheduler.runs), new Set(started.loadedHours()));
    writeReport(l, {
      rows: view.rows,
      hours: shown,
      reconciliation,
      top: o.top,
      stageSeconds: stages.times,
      health,
      quarantined: audit.quarantined,
    });

    say("");
    say(formatHourlyTable(view.rows, o.top));
    say("");
    const deliveries = Object.fromEntries(
      Object.entries(started.notifier.deliveries).map(([name, d]) => [name, d.times]),
    );
    const delivered = Object.values(deliveries).reduce((a, b) => a + b, 0);
    say(`malformed entries sent: ${summary.malformed}, quarantined by the streaming job: ${audit.quarantined}`);
    if (o.format === "combined") {
      const streamLog = readFileSync(join(l.logs, "stream.log"), "utf8").split("\n");
      const account = accessLogAccount(summary.acknowledged, audit.rows, audit.quarantined, accessLogCounts(streamLog));
      say(account.text);
      if (!account.exact)
        throw new SandboxError(
          "the access-log lines shipped do not add up to raw, quarantined and ignored lines",
          "read the streaming job's 'access log:' lines",
          join(l.logs, "stream.log"),
        );
    }
    say(
      `raw entries: ${audit.rows}, distinct event ids: ${audit.distinct_event_ids}; repeated deliveries sent by the generator: ${summary.duplicates}`,
    );
    say(
      `events delivered to the loader: ${delivered} for ${Object.keys(deliveries).length} objects; table rows loaded twice: ${view.duplicateTableRows}; objects loaded by more than one job: ${view.loads.filter((x) => x.loadJobs > 1).length}`,
    );
    say(formatReconciliation(reconciliation));
    say(`report: ${l.report}`);

    const runIds: Record<string, string[]> = {};
    for (const r of started.scheduler.runs) if (r.ok) (runIds[r.hour] ??= []).push(r.runId);
    const record: RunRecord = {
      reconciliation,
      reportPath: l.report,
      audit,
      summary: {
        generated: summary.generated,
        valid: summary.valid,
        malformed: summary.malformed,
        duplicates: summary.duplicates,
        ignored: summary.ignored,
        errors: summary.errors,
        hours: summary.hours,
        products: summary.products,
      },
      deliveries,
      duplicateTableRows: view.duplicateTableRows,
      loads: view.loads,
      runIds,
      stageTimes: stages.times,
      health,
      restarts: started.restarts(),
    };
    writeFileSync(l.result, JSON.stringify(record, null, 2) + "\n");
    return record;
  } finally {
    if (!shutdown?.requested) {
      if (pipeline) await stages.stage("stop", "stopping every service", () => (pipeline as Pipeline).stop());
      // What a failed start left (the loader's build, a server that never answered) goes too.
      await registry.stopAll({ except: [process.pid] });
      registry.forget(process.pid);
      say(stages.format(o.hours * o.perHour));
    }
  }
}

function countFiles(dir: string, suffix: string): number {
  if (!existsSync(dir)) return 0;
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true }))
    if (e.isFile() && e.name.endsWith(suffix) && !e.name.startsWith(".")) n++;
  return n;
}
