// Every process the sandbox starts, recorded in its state folder the moment it is spawned (pid, process
// group, command line and start time from /proc), so that whoever comes next (a shutdown, `down`, the next
// start after a crash) can stop it, and never touches a process that merely reuses a recorded pid. Each
// also carries the state folder in its environment (OWNER_ENV), inherited by all it starts: a process
// spawned in the instant before its record was written (a supervisor killed right then) is still found.
import { ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { writeStateFile } from "../shared/stateFile";
import { sleep } from "../shared/sleep";

export interface ProcessRecord {
  name: string;
  pid: number;
  /** its process group: the pid itself for a process started in a group of its own */
  pgid: number;
  /** the command line as started; the live one must end with it (an interpreter may precede a script) */
  command: string[];
  /** clock ticks after boot (/proc/<pid>/stat field 22): with the pid, unique on this machine */
  startTicks: number;
  startedAt: string;
}

interface ProcStat {
  state: string;
  pgid: number;
  startTicks: number;
}

function procStat(pid: number): ProcStat | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name in parentheses may hold spaces and parentheses: fields count from the last ")".
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return { state: fields[0], pgid: Number(fields[2]), startTicks: Number(fields[19]) };
  } catch {
    return undefined;
  }
}

function procCommand(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").slice(0, -1);
  } catch {
    return [];
  }
}

const running = (s: ProcStat | undefined): s is ProcStat => !!s && s.state !== "Z" && s.state !== "X";

/** The environment variable naming the state folder a process was started for. */
export const OWNER_ENV = "CLICKSTREAM_SANDBOX_STATE";

function startedFor(pid: number): string | undefined {
  try {
    const entry = readFileSync(`/proc/${pid}/environ`, "utf8")
      .split("\0")
      .find((e) => e.startsWith(`${OWNER_ENV}=`));
    return entry?.slice(OWNER_ENV.length + 1);
  } catch {
    return undefined;
  }
}

/** True while the recorded process itself runs: same pid, same start time, same command. */
export function isRecordedProcess(r: ProcessRecord): boolean {
  const s = procStat(r.pid);
  if (!running(s) || s.startTicks !== r.startTicks) return false;
  const live = procCommand(r.pid);
  return (
    live.length >= r.command.length && r.command.every((arg, i) => live[live.length - r.command.length + i] === arg)
  );
}

/** Pids of the running members of a process group (found through /proc: the group outlives its leader). */
export function groupMembers(pgid: number): number[] {
  const members: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const s = procStat(Number(entry));
    if (running(s) && s.pgid === pgid) members.push(Number(entry));
  }
  return members;
}

/**
 * The pids still running of what a record stands for: its whole group while the leader is ours, or what
 * is left of the group once the leader died (Linux does not reuse a pid while a group of that id exists);
 * nothing when the pid now belongs to another process.
 */
export function runningOf(r: ProcessRecord): number[] {
  if (isRecordedProcess(r)) return r.pgid === r.pid ? groupMembers(r.pgid) : [r.pid];
  if (r.pgid !== r.pid || running(procStat(r.pid))) return [];
  return groupMembers(r.pgid);
}

/** A start refused because the sandbox is stopping: it is not a failure to report. */
export class StoppingError extends Error {
  constructor(what: string) {
    super(`not starting ${what}: the sandbox is stopping`);
  }
}

function signal(r: ProcessRecord, sig: NodeJS.Signals): void {
  try {
    process.kill(r.pgid === r.pid ? -r.pgid : r.pid, sig);
  } catch {
    // gone meanwhile
  }
}

export class ProcessRegistry {
  private closed = false;
  /** the state folder whose processes these are */
  readonly owner: string;

  constructor(readonly dir: string) {
    this.owner = dirname(dir);
  }

  /** The environment a process of this state folder is started with. */
  env(base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
    return { ...base, [OWNER_ENV]: this.owner };
  }

  /** Refuses new starts from now on; a process spawned while this happened is killed as it is recorded. */
  close(): void {
    this.closed = true;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Throws a StoppingError once the sandbox is stopping: call it before spawning. */
  assertOpen(what: string): void {
    if (this.closed) throw new StoppingError(what);
  }

  /** Records a process just spawned (call it in the same tick as spawn, before anything else can run). */
  record(name: string, pid: number, command: string[]): ProcessRecord {
    const s = procStat(pid);
    const r: ProcessRecord = {
      name,
      pid,
      pgid: s?.pgid ?? pid,
      command,
      startTicks: s?.startTicks ?? 0,
      startedAt: new Date().toISOString(),
    };
    mkdirSync(this.dir, { recursive: true });
    writeStateFile(join(this.dir, `${pid}.json`), r);
    if (this.closed) signal(r, "SIGKILL");
    return r;
  }

  /** Records a child from node's spawn (its group is its own when spawned detached). */
  recordChild(name: string, child: ChildProcess): ProcessRecord | undefined {
    if (child.pid === undefined) return undefined;
    return this.record(name, child.pid, child.spawnargs);
  }

  /** Records the calling process itself (the supervisor), with its command line as /proc shows it. */
  recordSelf(name: string): ProcessRecord {
    return this.record(name, process.pid, procCommand(process.pid));
  }

  forget(pid: number): void {
    rmSync(join(this.dir, `${pid}.json`), { force: true });
  }

  records(): ProcessRecord[] {
    if (!existsSync(this.dir)) return [];
    const found: ProcessRecord[] = [];
    for (const f of readdirSync(this.dir).filter((f) => /^\d+\.json$/.test(f))) {
      try {
        found.push(JSON.parse(readFileSync(join(this.dir, f), "utf8")) as ProcessRecord);
      } catch {
        // removed meanwhile
      }
    }
    return found.sort((a, b) => a.startTicks - b.startTicks);
  }

  /**
   * Records with something still running, then processes started for this folder that no record covers
   * (named "unrecorded"); records of processes gone (or of pids reused) are removed.
   */
  alive(except: number[] = []): ProcessRecord[] {
    const live: ProcessRecord[] = [];
    const covered = new Set<number>(except);
    for (const r of this.records()) {
      if (except.includes(r.pid)) continue;
      const pids = runningOf(r);
      if (pids.length > 0) live.push(r);
      else this.forget(r.pid);
      for (const pid of pids) covered.add(pid);
    }
    return [...live, ...this.unrecorded(covered)];
  }

  private unrecorded(covered: Set<number>): ProcessRecord[] {
    const found: ProcessRecord[] = [];
    for (const entry of readdirSync("/proc")) {
      if (!/^\d+$/.test(entry) || covered.has(Number(entry)) || startedFor(Number(entry)) !== this.owner) continue;
      const pid = Number(entry);
      const s = procStat(pid);
      if (!running(s) || covered.has(s.pgid)) continue;
      found.push({
        name: "unrecorded",
        pid,
        pgid: s.pgid === pid ? pid : 0,
        command: procCommand(pid),
        startTicks: s.startTicks,
        startedAt: "",
      });
    }
    return found;
  }

  /**
   * Stops everything recorded but the given pids: a recorded supervisor first (SIGTERM: it stops its own
   * processes in order) for up to `supervisorGraceMs`, then every group still running (SIGTERM, then
   * SIGKILL after `graceMs`); `atOnce` sends SIGKILL straight away. Returns the records it found running.
   */
  async stopAll(
    opts: { except?: number[]; graceMs?: number; supervisorGraceMs?: number; atOnce?: boolean } = {},
  ): Promise<ProcessRecord[]> {
    const except = opts.except ?? [];
    const found = this.alive(except);
    if (found.length === 0) return [];
    if (!opts.atOnce) {
      const supervisors = found.filter((r) => r.name === "supervisor");
      for (const r of supervisors) signal(r, "SIGTERM");
      await this.waitGone(supervisors, opts.supervisorGraceMs ?? 120_000);
    }
    // A supervisor may have started more while it stopped: read the records again, until none runs.
    const until = Date.now() + (opts.graceMs ?? 10_000);
    let sig: NodeJS.Signals = opts.atOnce ? "SIGKILL" : "SIGTERM";
    const signalled = new Set<number>();
    for (;;) {
      const left = this.alive(except);
      if (left.length === 0) break;
      if (sig === "SIGTERM" && Date.now() > until) {
        sig = "SIGKILL";
        signalled.clear();
      }
      for (const r of left) {
        if (signalled.has(r.pid)) continue;
        signal(r, sig);
        signalled.add(r.pid);
      }
      if (sig === "SIGKILL" && Date.now() > until + 10_000) break;
      await sleep(100);
    }
    return found;
  }

  private async waitGone(records: ProcessRecord[], ms: number): Promise<void> {
    const until = Date.now() + ms;
    while (records.some((r) => runningOf(r).length > 0) && Date.now() < until) await sleep(200);
  }
}

/** "kafka (pid 123), stream (pid 456)" */
export function describeRecords(records: ProcessRecord[]): string {
  return records.map((r) => `${r.name} (pid ${r.pid})`).join(", ");
}
