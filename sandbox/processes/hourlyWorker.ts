// The hourly steps' worker: one long-lived `python -m jobs.hourly_local --serve` (one Spark session for
// hour after hour, instead of a JVM start-up per run), fed one hour at a time on its standard input.
import { createInterface } from "node:readline";
import { Readable, Writable } from "node:stream";
import { HourlyRunResult } from "./parts";
import { ServiceSpec, startService } from "./processes";
import { ProcessRegistry } from "./processRegistry";
import { Started } from "./supervisor";

export interface HourlyWorker extends Started {
  /** resolves once the Spark session is up */
  ready: Promise<void>;
  /** how many hours it runs at once (the DAG's max_active_runs, as the worker says once ready; 1 before) */
  maxActiveRuns(): number;
  /** runs one hour (with the DAG's retries), side by side with the others asked for; rejects if the worker dies meanwhile */
  run(hour: string, runId?: string): Promise<HourlyRunResult>;
}

export function startHourlyWorker(spec: ServiceSpec, registry: ProcessRegistry): HourlyWorker {
  const { child, pid, exited, log } = startService({ ...spec, pipes: true }, registry);
  const stdin = child.stdin as Writable;
  const stdout = child.stdout as Readable;
  let markReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve, reject) => {
    markReady = resolve;
    void exited.then((code) => reject(new Error(`the hourly worker exited (${code}) before its Spark session was up`)));
  });
  ready.catch(() => undefined);
  // Runs end in any order: each answer names the request it answers.
  const waiting = new Map<number, { resolve: (r: HourlyRunResult) => void; reject: (e: Error) => void }>();
  let requests = 0;
  let maxActiveRuns = 1;
  createInterface({ input: stdout }).on("line", (line) => {
    if (!line.startsWith("{")) return;
    const message = JSON.parse(line) as HourlyRunResult & {
      ready?: boolean;
      max_active_runs?: number;
      request?: number;
    };
    if (message.ready) {
      maxActiveRuns = message.max_active_runs ?? 1;
      markReady();
    } else if (message.request !== undefined) {
      waiting.get(message.request)?.resolve(message);
      waiting.delete(message.request);
    }
  });
  void exited.then((code) => {
    for (const w of waiting.values()) w.reject(new Error(`the hourly worker exited (${code}) during the run`));
    waiting.clear();
  });
  stdin.on("error", () => undefined);
  return {
    pid,
    exited,
    log,
    ready,
    maxActiveRuns: () => maxActiveRuns,
    run: (hour, runId) =>
      new Promise((resolve, reject) => {
        const request = ++requests;
        waiting.set(request, { resolve, reject });
        stdin.write(JSON.stringify({ hour, run_id: runId, request }) + "\n");
      }),
  };
}
