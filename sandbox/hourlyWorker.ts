// The hourly steps' worker: one long-lived `python -m jobs.hourly_local --serve` (one Spark session for
// hour after hour, instead of a JVM start-up per run), fed one hour at a time on its standard input.
import { spawn } from "node:child_process";
import { Readable, Writable } from "node:stream";
import { closeSync, mkdirSync, openSync } from "node:fs";
import { dirname } from "node:path";
import { createInterface } from "node:readline";
import { HourlyRunResult } from "./parts";
import { ServiceSpec } from "./processes";
import { Started } from "./supervisor";

export interface HourlyWorker extends Started {
  /** resolves once the Spark session is up */
  ready: Promise<void>;
  /** runs one hour (with the DAG's retries); rejects if the worker dies meanwhile */
  run(hour: string, runId?: string): Promise<HourlyRunResult & { failed_tries?: string[] }>;
}

export function startHourlyWorker(spec: ServiceSpec): HourlyWorker {
  mkdirSync(dirname(spec.log), { recursive: true });
  const fd = openSync(spec.log, "a");
  const child = spawn(spec.command, spec.args, { cwd: spec.cwd, env: spec.env, stdio: ["pipe", "pipe", fd], detached: true });
  closeSync(fd);
  if (child.pid === undefined) throw new Error(`could not start ${spec.command}`);
  const stdin = child.stdin as Writable;
  const stdout = child.stdout as Readable;
  const exited = new Promise<number | string>((resolve) => {
    child.on("exit", (code, signal) => resolve(code ?? signal ?? "unknown"));
    child.on("error", () => resolve("spawn-error"));
  });
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
    pid: child.pid,
    exited,
    log: spec.log,
    ready,
    run: (hour, runId) =>
      new Promise((resolve, reject) => {
        waiting.push({ resolve, reject });
        stdin.write(JSON.stringify({ hour, run_id: runId }) + "\n");
      }),
  };
}
