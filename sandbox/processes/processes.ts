// Child processes of the sandbox: each in its own process group with its output in a log file, so that
// stopping one stops everything it started (Spark's and Kafka's JVMs included) and nothing is leaked.
import { ChildProcess, spawn } from "node:child_process";
import { closeSync, mkdirSync, openSync } from "node:fs";
import { dirname } from "node:path";
import { ProcessRegistry } from "./processRegistry";
import { sleep } from "../shared/sleep";

/** A failure the user can act on: what failed, what to do, and where the log is. */
export class SandboxError extends Error {
  constructor(
    message: string,
    readonly hint: string,
    readonly log?: string,
  ) {
    super(message);
  }
}

export interface ServiceSpec {
  name: string;
  command: string;
  args: string[];
  log: string;
  /** standard output to this file instead of the log (for a command whose output is data) */
  stdout?: string;
  /** standard input and output piped to the caller (a worker that takes requests), errors to the log */
  pipes?: boolean;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

export interface Service {
  name: string;
  pid: number;
  log: string;
  child: ChildProcess;
  /** resolves with the exit code (or the signal's name) when the process ends */
  exited: Promise<number | string>;
}

function openLog(path: string): number {
  mkdirSync(dirname(path), { recursive: true });
  return openSync(path, "a");
}

/** Starts a long-running process in its own group, output appended to its log, recorded as it starts. */
export function startService(spec: ServiceSpec, registry: ProcessRegistry): Service {
  registry.assertOpen(spec.name);
  const fd = openLog(spec.log);
  const out = spec.stdout ? openLog(spec.stdout) : fd;
  const child = spawn(spec.command, spec.args, {
    cwd: spec.cwd,
    env: registry.env(spec.env),
    stdio: spec.pipes ? ["pipe", "pipe", fd] : ["ignore", out, fd],
    detached: true,
  });
  registry.recordChild(spec.name, child);
  closeSync(fd);
  if (out !== fd) closeSync(out);
  // Listened to before the check below: a command that is not installed emits "error" after the throw.
  const exited = new Promise<number | string>((resolve) => {
    child.on("exit", (code, signal) => resolve(code ?? signal ?? "unknown"));
    child.on("error", () => resolve("spawn-error"));
  });
  if (child.pid === undefined)
    throw new SandboxError(
      `could not start ${spec.name} (${spec.command})`,
      `check that ${spec.command} is installed (run 'npm run setup')`,
      spec.log,
    );
  return { name: spec.name, pid: child.pid, log: spec.log, child, exited };
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}

/**
 * SIGTERM to the whole group (or to its leader only, for a leader that relays the signal to its child, as
 * tsx does: a second SIGTERM would cut the child's clean shutdown short), then SIGKILL after the grace
 * period if anything of it is left.
 */
export async function stopGroup(pid: number, graceMs = 10_000, leaderOnly = false): Promise<void> {
  if (leaderOnly) {
    try {
      process.kill(pid, "SIGTERM");
    } catch {
      // already gone
    }
  } else signalGroup(pid, "SIGTERM");
  const until = Date.now() + graceMs;
  while (Date.now() < until && groupAlive(pid)) await sleep(100);
  if (groupAlive(pid)) signalGroup(pid, "SIGKILL");
  while (groupAlive(pid) && Date.now() < until + 5000) await sleep(100);
}

function groupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return isAlive(pid);
  }
}

/** Kills the group at once (the tests' "the process died" case), and waits until it is gone. */
export async function killGroup(pid: number): Promise<void> {
  signalGroup(pid, "SIGKILL");
  const until = Date.now() + 10_000;
  while (groupAlive(pid) && Date.now() < until) await sleep(50);
}

/**
 * Runs a command to completion with its output in a log; throws a SandboxError naming the log when it
 * fails or exceeds its time limit (the whole group is killed then).
 */
export async function runToCompletion(
  spec: ServiceSpec & { timeoutMs: number; hint: string },
  registry: ProcessRegistry,
): Promise<void> {
  const s = startService(spec, registry);
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<"timeout">((r) => (timer = setTimeout(() => r("timeout"), spec.timeoutMs)));
  try {
    const result = await Promise.race([s.exited, timedOut]);
    if (result === "timeout") {
      await killGroup(s.pid);
      throw new SandboxError(
        `${spec.name} did not finish within ${Math.round(spec.timeoutMs / 1000)} s`,
        spec.hint,
        spec.log,
      );
    }
    if (result !== 0) throw new SandboxError(`${spec.name} failed (exit ${result})`, spec.hint, spec.log);
  } finally {
    clearTimeout(timer);
  }
}

/** Polls until `ready` returns true; a process that dies meanwhile or a timeout is a SandboxError. */
export async function waitUntil(
  what: string,
  ready: () => Promise<boolean> | boolean,
  opts: { timeoutMs: number; hint: string; log?: string; service?: Service; intervalMs?: number },
): Promise<void> {
  const until = Date.now() + opts.timeoutMs;
  let dead: number | string | undefined;
  void opts.service?.exited.then((c) => (dead = c));
  for (;;) {
    if (await ready()) return;
    if (dead !== undefined)
      throw new SandboxError(`${opts.service?.name} exited (${dead}) before ${what}`, opts.hint, opts.log);
    if (Date.now() > until)
      throw new SandboxError(
        `timed out after ${Math.round(opts.timeoutMs / 1000)} s waiting until ${what}`,
        opts.hint,
        opts.log,
      );
    await sleep(opts.intervalMs ?? 250);
  }
}
