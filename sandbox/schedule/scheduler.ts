// The sandbox's scheduler of the hourly DAG's runs, applying weblog_hourly's rules on the sandbox clock:
// an hourly schedule (a run per hour whose interval has ended), catch-up from the first hour the stream
// marked (earlier hours are skipped, as the DAG's sensor skips them), a run only once its hour is marked
// complete, the DAG's retries (applied by the worker, jobs/hourly_local.py), and a rerun of an hour under
// a new run id, also by itself when the stream committed late entries for an hour already run (within
// LATE_WINDOW_MS of the hour's end). Runs go through one long-lived worker, as many at once as it runs (the
// DAG's max_active_runs), never two of one hour; their results are kept in the state folder, so `down` then
// `up` runs every hour exactly once.
import { appendFileSync, existsSync, readFileSync } from "node:fs";
import { hourEndMs } from "./clock";
import { HourlyWorker } from "../processes/hourlyWorker";
import { writeStateFile } from "../shared/stateFile";
import { sleep } from "../shared/sleep";

export interface HourRun {
  hour: string;
  runId: string;
  ok: boolean;
  published: string[];
  error?: string;
  /** tries of a step that failed before the run's outcome (the DAG's retries) */
  failedTries?: string[];
  startedAtMs: number;
  endedAtMs: number;
}

interface SchedulerState {
  runs: HourRun[];
  reruns: string[];
}

/**
 * The hours whose run is due, oldest first: marked complete, interval ended on the sandbox clock, never
 * run. The streaming job marks hours contiguously from its first one, so this is also the catch-up.
 */
export function dueHours(marked: readonly string[], nowMs: number, alreadyRun: ReadonlySet<string>): string[] {
  return [...marked].sort().filter((h) => hourEndMs(h) <= nowMs && !alreadyRun.has(h));
}

/** How long after an hour's end (sandbox clock) late entries for it make it run again by itself (contract/late-reruns.json; the DAG's LATE_WINDOW). */
export const LATE_WINDOW_MS = 48 * 3_600_000;

/**
 * Hours to run again because the stream committed entries for them after their latest run started (its
 * `_LATE` notice is newer), while the hour's end lies within the late window; oldest first.
 */
export function lateReruns(
  runs: readonly HourRun[],
  lateNotices: ReadonlyMap<string, number>,
  nowMs: number,
  windowMs = LATE_WINDOW_MS,
): string[] {
  const lastStart = new Map<string, number>();
  for (const r of runs) lastStart.set(r.hour, Math.max(lastStart.get(r.hour) ?? 0, r.startedAtMs));
  return [...lateNotices.entries()]
    .filter(
      ([hour, writtenAtMs]) =>
        lastStart.has(hour) && writtenAtMs > (lastStart.get(hour) as number) && nowMs - hourEndMs(hour) <= windowMs,
    )
    .map(([hour]) => hour)
    .sort();
}

export class HourlyScheduler {
  private readonly state: SchedulerState;
  private stopped = false;
  private loop?: Promise<void>;
  /** hour -> its run in progress */
  private readonly inFlight = new Map<string, Promise<void>>();

  constructor(
    private readonly files: { state: string; runLog: string },
    private readonly marked: () => string[],
    private readonly now: () => number,
    private readonly worker: () => HourlyWorker | undefined,
    private readonly say: (line: string) => void,
    /** hour -> when the stream last wrote its late-entry notice (wall ms) */
    private readonly lateNotices: () => ReadonlyMap<string, number> = () => new Map(),
  ) {
    this.state = existsSync(files.state)
      ? (JSON.parse(readFileSync(files.state, "utf8")) as SchedulerState)
      : { runs: [], reruns: [] };
  }

  get runs(): readonly HourRun[] {
    return this.state.runs;
  }

  /** Hours with a published run, the latest run of each hour last. */
  publishedHours(): string[] {
    return [...new Set(this.state.runs.filter((r) => r.ok).map((r) => r.hour))].sort();
  }

  /** A new run of an hour already run (a new run id; its output replaces the earlier run's). */
  requestRerun(hour: string): void {
    this.state.reruns.push(hour);
    this.save();
  }

  start(): void {
    this.loop = (async () => {
      while (!this.stopped) {
        const next = this.inFlight.size < (this.worker()?.maxActiveRuns() ?? 1) ? this.next() : undefined;
        if (next) {
          this.inFlight.set(
            next.hour,
            this.runHour(next.hour, next.rerun).finally(() => this.inFlight.delete(next.hour)),
          );
        } else await sleep(250);
      }
      await Promise.allSettled(this.inFlight.values());
    })();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
  }

  /** A requested rerun first (a scheduler that is catching up would otherwise never get to it), then the oldest due hour. */
  private next(): { hour: string; rerun: boolean } | undefined {
    const alreadyRun = new Set(this.state.runs.map((r) => r.hour));
    const idle = (h: string) => !this.inFlight.has(h);
    const rerun = this.state.reruns.find((h) => alreadyRun.has(h) && idle(h));
    if (rerun) return { hour: rerun, rerun: true };
    const late = lateReruns(this.state.runs, this.lateNotices(), this.now()).find(idle);
    if (late) return { hour: late, rerun: false };
    const due = dueHours(this.marked(), this.now(), alreadyRun).find(idle);
    return due ? { hour: due, rerun: false } : undefined;
  }

  private async runHour(hour: string, rerun: boolean): Promise<void> {
    const worker = this.worker();
    if (!worker) return sleep(250);
    try {
      await worker.ready;
    } catch {
      return sleep(250); // restarting: the supervisor brings it back
    }
    const startedAtMs = Date.now();
    let result;
    try {
      result = await worker.run(hour);
    } catch (e) {
      // The worker died mid-run: the hour stays due, and runs again under a new run id.
      this.say(`scheduler: the run of ${hour} was interrupted (${(e as Error).message}); it runs again`);
      return sleep(250);
    }
    const run: HourRun = {
      hour,
      runId: result.run_id,
      ok: result.ok,
      published: result.published,
      error: result.error,
      failedTries: result.failed_tries,
      startedAtMs,
      endedAtMs: Date.now(),
    };
    this.state.runs.push(run);
    if (rerun) this.state.reruns.splice(this.state.reruns.indexOf(hour), 1);
    this.save();
    appendFileSync(this.files.runLog, JSON.stringify(run) + "\n");
    this.say(
      run.ok
        ? `scheduler: ${hour} published by run ${run.runId}${rerun ? " (rerun)" : ""}: ${run.published.length} object(s)`
        : `scheduler: weblog_hourly failed: hour=${hour} run=${run.runId}: ${run.error}`,
    );
  }

  private save(): void {
    writeStateFile(this.files.state, this.state);
  }
}
