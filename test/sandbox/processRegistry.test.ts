// The state folder's record of every process the sandbox started: written as the process is spawned, and
// the only thing `down`, `purge` and the next start trust, so a pid reused by another process is never touched.
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isAlive, startService } from "../../sandbox/processes/processes";
import { groupMembers, ProcessRecord, ProcessRegistry, StoppingError } from "../../sandbox/processes/processRegistry";

const work = mkdtempSync(join(tmpdir(), "sandbox-registry-"));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const startTicks = (pid: number) => Number(readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ")[19]);
const started: number[] = [];

afterAll(() => {
  for (const pid of started) {
    try {
      process.kill(-pid, "SIGKILL");
    } catch {
      // gone
    }
  }
});

function sleeper(registry: ProcessRegistry, name = "sleeper"): number {
  const s = startService({ name, command: "sleep", args: ["60"], log: join(work, `${name}.log`) }, registry);
  started.push(s.pid);
  return s.pid;
}

test("a command that is not installed is a clear error that names it, and nothing throws later", async () => {
  const registry = new ProcessRegistry(join(work, "missing", "processes"));
  const spec = { name: "missing", command: "no-such-command-in-the-sandbox", args: [], log: join(work, "missing.log") };
  expect(() => startService(spec, registry)).toThrow("could not start missing (no-such-command-in-the-sandbox)");
  await sleep(300); // the failed spawn's "error" event comes after the throw
});

test("a process is recorded as it is spawned: pid, its own process group, command line and start time", () => {
  const registry = new ProcessRegistry(join(work, "recorded", "processes"));
  const pid = sleeper(registry);
  const record = JSON.parse(readFileSync(join(registry.dir, `${pid}.json`), "utf8")) as ProcessRecord;
  expect(record).toMatchObject({
    name: "sleeper",
    pid,
    pgid: pid,
    command: ["sleep", "60"],
    startTicks: startTicks(pid),
  });
  expect(registry.alive().map((r) => r.pid)).toEqual([pid]);
});

test("a recorded pid whose start time or command differs is another process: left alone, its record dropped", async () => {
  const registry = new ProcessRegistry(join(work, "reused", "processes"));
  // Not started for this folder: the pid of a record that once was ours, now someone else's.
  const child = spawn("sleep", ["60"], { detached: true, stdio: "ignore" });
  const other = child.pid as number;
  started.push(other);
  registry.recordChild("other", child);
  const file = join(registry.dir, `${other}.json`);
  const record = JSON.parse(readFileSync(file, "utf8")) as ProcessRecord;
  writeFileSync(file, JSON.stringify({ ...record, startTicks: record.startTicks - 1 }));
  expect(registry.alive()).toEqual([]);
  writeFileSync(file, JSON.stringify({ ...record, command: ["sleep", "61"] }));
  expect(await registry.stopAll({ graceMs: 500 })).toEqual([]);
  expect(isAlive(other)).toBe(true);
  expect(registry.records()).toEqual([]);
});

test("stopping a record stops its whole group, the children a dead leader left included", async () => {
  const registry = new ProcessRegistry(join(work, "group", "processes"));
  // A leader with two children, as pyspark's python with its JVM; the leader then dies alone.
  const leader = spawn("sh", ["-c", "sleep 60 & sleep 60 & wait"], { detached: true, stdio: "ignore" });
  registry.recordChild("stream", leader);
  started.push(leader.pid as number);
  while (groupMembers(leader.pid as number).length < 3) await sleep(50);
  process.kill(leader.pid as number, "SIGKILL");
  await sleep(200);
  expect(groupMembers(leader.pid as number)).toHaveLength(2);
  expect(registry.alive().map((r) => r.name)).toEqual(["stream"]);
  const stopped = await registry.stopAll({ graceMs: 2000 });
  expect(stopped.map((r) => r.name)).toEqual(["stream"]);
  expect(groupMembers(leader.pid as number)).toEqual([]);
  expect(registry.records()).toEqual([]);
});

test("a process started for the folder but not yet recorded (its supervisor killed right then) is found and stopped", async () => {
  const registry = new ProcessRegistry(join(work, "unrecorded", "processes"));
  const stray = spawn("sh", ["-c", "sleep 60 & wait"], { detached: true, stdio: "ignore", env: registry.env() });
  started.push(stray.pid as number);
  const other = spawn("sleep", ["60"], {
    detached: true,
    stdio: "ignore",
    env: new ProcessRegistry(join(work, "elsewhere", "processes")).env(),
  });
  started.push(other.pid as number);
  while (groupMembers(stray.pid as number).length < 2) await sleep(50);
  expect(registry.alive().map((r) => [r.name, r.pid])).toContainEqual(["unrecorded", stray.pid]);
  await registry.stopAll({ graceMs: 2000 });
  expect(groupMembers(stray.pid as number)).toEqual([]);
  expect(isAlive(other.pid as number)).toBe(true);
});

test("once closed, no process starts; one spawned as it closed is killed as it is recorded", async () => {
  const registry = new ProcessRegistry(join(work, "closed", "processes"));
  registry.close();
  expect(() => sleeper(registry)).toThrow(StoppingError);
  const late = spawn("sleep", ["60"], { detached: true, stdio: "ignore" });
  started.push(late.pid as number);
  registry.recordChild("late", late);
  const end = Date.now() + 5000;
  while (late.exitCode === null && late.signalCode === null && Date.now() < end) await sleep(50);
  expect(late.signalCode).toBe("SIGKILL");
});
