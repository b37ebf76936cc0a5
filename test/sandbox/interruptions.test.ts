// `npm start` interrupted as users interrupt it, at each point of its life: while the broker starts, while
// the services start, mid-run and during the report; and its supervisor killed outright (SIGKILL), after
// which `purge`, the next `npm start` and `down` must clean up. After each, no process of that state folder
// is alive within 30 s. "Of that state folder" is judged independently of the sandbox's own records: every
// process whose environment carries the folder (each run gets it as CLICKSTREAM_SANDBOX_DIR, and every
// process the sandbox starts inherits it). One signal per point keeps the file to a few minutes: SIGINT
// (Ctrl-C) while the broker starts, SIGHUP (a closed terminal) while the services start, Ctrl-C twice
// mid-run, a closed pipe (`npm start 2>&1 | head`) during the report; SIGTERM is the shutdown's unit test's.
// Points are found by watching the state folder and the narration, never by fixed sleeps.
import { ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const REPO = resolve(__dirname, "..", "..");
const RUN = ["--no-setup", "--hours", "1", "--per-hour", "200", "--seed", "3"];
const folders: string[] = [];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Every live process whose environment names the state folder. */
function processesOf(dir: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync("/proc").filter((e) => /^\d+$/.test(e))) {
    try {
      if (!readFileSync(`/proc/${pid}/environ`, "utf8").split("\0").includes(`CLICKSTREAM_SANDBOX_DIR=${dir}`))
        continue;
      if (/^\S+ \(.*\) Z /s.test(readFileSync(`/proc/${pid}/stat`, "utf8"))) continue;
      found.push(`${pid} ${readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ").slice(0, 120)}`);
    } catch {
      // gone, or not ours to read
    }
  }
  return found;
}

function newFolder(): string {
  const dir = join(mkdtempSync(join(tmpdir(), "sandbox-interrupt-")), "state");
  folders.push(dir);
  return dir;
}

afterAll(() => {
  // Whatever a failing run left must not slow the rest of the suite.
  for (const dir of folders) for (const p of processesOf(dir)) process.kill(Number(p.split(" ")[0]), "SIGKILL");
});

interface Launched {
  child: ChildProcess;
  output(): string;
  closed: Promise<number | null>;
}

/** `npm start -- ARGS` in a process group of its own, as a terminal runs a foreground job. */
function npmStart(dir: string, args: string[]): Launched {
  const child = spawn("npm", ["start", "--silent", "--", ...args], {
    cwd: REPO,
    env: { ...process.env, CLICKSTREAM_SANDBOX_DIR: dir },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  let out = "";
  child.stdout?.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr?.on("data", (d: Buffer) => (out += d.toString()));
  return { child, output: () => out, closed: new Promise((r) => child.on("close", r)) };
}

/** A command run to its end (not spawnSync: the run in the background is watched meanwhile). */
async function sandbox(dir: string, args: string[]): Promise<{ code: number | null; err: string }> {
  const run = npmStart(dir, args);
  const code = await run.closed;
  return { code, err: run.output() };
}

async function until(what: string, ok: () => boolean, run?: Launched, timeoutMs = 120_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > end)
      throw new Error(`timed out waiting until ${what}${run ? `; narration:\n${run.output()}` : ""}`);
    await sleep(100);
  }
}

/** Waits until no process of the folder is alive, at most 30 s after `since` (the assertion names what is left). */
async function noneAliveWithin30s(dir: string, run?: Launched, since = Date.now()): Promise<void> {
  const end = since + 30_000;
  while (processesOf(dir).length > 0 && Date.now() < end) await sleep(250);
  const left = processesOf(dir);
  if (left.length > 0 && run) console.log(run.output());
  expect(left).toEqual([]);
}

const fileAt = (dir: string, path: string) => () => existsSync(join(dir, path));
/** True once the sandbox has recorded a process of that name (it writes the record the moment it spawns one). */
const recorded = (dir: string, name: string) => () => {
  const folder = join(dir, "processes");
  if (!existsSync(folder)) return false;
  return readdirSync(folder).some((f) => {
    try {
      return JSON.parse(readFileSync(join(folder, f), "utf8")).name === name;
    } catch {
      return false; // being written, or removed meanwhile
    }
  });
};
const brokerSpawned = (dir: string) => () => {
  try {
    return JSON.parse(readFileSync(join(dir, "kafka", "broker.json"), "utf8")).pid !== undefined;
  } catch {
    return false;
  }
};
const group = (run: Launched, signal: NodeJS.Signals) => process.kill(-(run.child.pid as number), signal);

// The one run that must get as far as the report starts first and runs while the other cases do theirs
// (most of its time is spent waiting on the streaming job's trigger and on JVMs): the file's time is then
// about this run's, not the sum of all. Its reader goes away as soon as the report begins.
const fullRun = (() => {
  const dir = newFolder();
  const run = npmStart(dir, ["run", ...RUN]);
  const pipeClosed = until("the report begins", () => /auditing the raw bucket/.test(run.output()), run, 290_000).then(
    () => {
      run.child.stdout?.destroy();
      run.child.stderr?.destroy();
      return Date.now();
    },
  );
  pipeClosed.catch(() => undefined);
  return { dir, run, pipeClosed };
})();

describe("a supervisor killed outright (SIGKILL) while the services start", () => {
  const dir = newFolder();

  test("purge refuses while what it started runs, and names it", async () => {
    const run = npmStart(dir, ["run", ...RUN]);
    // The BigQuery server starts beside the broker; the streaming job starts once both are up.
    await until("the streaming job starts", recorded(dir, "stream"), run);
    group(run, "SIGKILL");
    await run.closed;
    expect(processesOf(dir).length).toBeGreaterThan(0);
    const purge = await sandbox(dir, ["purge"]);
    expect(purge.code).toBe(1);
    expect(purge.err).toMatch(/not removing .*: still running from it: .*kafka \(pid \d+\).*stream \(pid \d+\)/);
    expect(existsSync(dir)).toBe(true);
  }, 150_000);

  test("the next npm start stops the leftovers and says so; Ctrl-C while its broker starts leaves nothing", async () => {
    const run = npmStart(dir, ["run", ...RUN]);
    await until(
      "the earlier run's leftovers are stopped",
      () => /stopped what an earlier run of .* left running when it crashed: .*kafka/.test(run.output()),
      run,
    );
    await until("the new broker is spawned", brokerSpawned(dir), run);
    group(run, "SIGINT");
    await noneAliveWithin30s(dir, run);
    expect(run.output()).toMatch(/interrupted \(SIGINT\): stopping every process the sandbox started/);
  }, 150_000);
});

test("up's supervisor killed outright: down stops everything it recorded, then purge removes the folder", async () => {
  const dir = newFolder();
  const run = npmStart(dir, ["up", ...RUN]);
  await until("the streaming job starts", recorded(dir, "stream"), run);
  const supervisor = (JSON.parse(readFileSync(join(dir, "services.json"), "utf8")) as { supervisorPid: number })
    .supervisorPid;
  group(run, "SIGKILL"); // the terminal's `up`, then the supervisor it left in the background
  process.kill(supervisor, "SIGKILL");
  await run.closed;
  expect(processesOf(dir).length).toBeGreaterThan(0);
  const down = await sandbox(dir, ["down"]);
  expect(down.err).toMatch(/stopped: .*kafka \(pid \d+\)/);
  await noneAliveWithin30s(dir);
  expect((await sandbox(dir, ["purge"])).code).toBe(0);
  expect(existsSync(dir)).toBe(false);
}, 150_000);

test("a closed terminal (SIGHUP) while the services start stops them all; the loader never starts", async () => {
  const dir = newFolder();
  const run = npmStart(dir, ["run", ...RUN]);
  await until("the BigQuery server starts", fileAt(dir, "logs/bigquery.log"), run);
  group(run, "SIGHUP");
  await noneAliveWithin30s(dir, run);
  await run.closed;
  expect(run.output()).toMatch(/interrupted \(SIGHUP\)/);
  expect(existsSync(join(dir, "logs", "loader.log"))).toBe(false);
}, 150_000);

test("Ctrl-C mid-run stops everything; a second Ctrl-C kills it all at once and says so", async () => {
  const dir = newFolder();
  const run = npmStart(dir, ["run", ...RUN]);
  await until("the generator sends", fileAt(dir, "logs/generator.log"), run);
  group(run, "SIGINT");
  await until("the first Ctrl-C is answered", () => /interrupted \(SIGINT\)/.test(run.output()), run, 10_000);
  await sleep(1100); // a person's second press, not npm's relay of the first
  group(run, "SIGINT");
  await noneAliveWithin30s(dir, run);
  expect(run.output()).toMatch(/interrupted again: killing every process the sandbox started at once \(SIGKILL\)/);
}, 180_000);

test("a closed pipe during the report (npm start 2>&1 | head) stops everything", async () => {
  const { dir, run, pipeClosed } = fullRun;
  await noneAliveWithin30s(dir, run, await pipeClosed);
  expect(await run.closed).not.toBe(0);
  expect(existsSync(join(dir, "result.json"))).toBe(false); // stopped, not run to its end
}, 300_000);
