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
  /** runs one hour (with the DAG's retries); rejects if the worker dies meanwhile */
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
  const waiting: { resolve: (r: HourlyRunResult) => void; reject: (e: Error) => void }[] = [];
  createInterface({ input: stdout }).on("line", (line) => {
    if (!line.startsWith("{")) return;
    const message = JSON.parse(line) as HourlyRunResult & { ready?: boolean };
    if (message.ready) markReady();
    else waiting.shift()?.resolve(message);
  });
  void exited.then((code) => {
    for (const w of waiting.splice(0)) w.reject(new Error(`the hourly worker exited (${code}) during the run`));
  });
  stdin.on("error", () => undefined);
  return {
    pid,
    exited,
    log,
    ready,
    run: (hour, runId) =>
      new Promise((resolve, reject) => {
        waiting.push({ resolve, reject });
        stdin.write(JSON.stringify({ hour, run_id: runId }) + "\n");
      }),
  };
}
