// The parts of the living sandbox on their own: the clock that stands still while the sandbox is down, the
// scheduler's rule for which hours are due, the supervisor's restarts, and the notifier that delivers one
// storage event per published object, retrying while the loader is away and never twice across restarts.
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, Server } from "node:http";
import { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ACCESS_LOG_DEFAULTS } from "../../contract/accessLogSettings";
import { clockNow, HOUR_MS, parseClockFactor, readClock, saveClock, startClock } from "../../sandbox/schedule/clock";
import { sandboxLayout } from "../../sandbox/shared/layout";
import { CuratedNotifier } from "../../sandbox/schedule/notifier";
import { keepInput } from "../../sandbox/pipeline/stateFolder";
import { SandboxError } from "../../sandbox/processes/processes";
import { dueHours } from "../../sandbox/schedule/scheduler";
import { Started, Supervised } from "../../sandbox/processes/supervisor";

import { sleep } from "../../sandbox/shared/sleep";
const work = mkdtempSync(join(tmpdir(), "sandbox-live-parts-"));

describe("the sandbox clock", () => {
  const t0 = Date.parse("2026-11-26T10:00:00Z");

  test("an accelerated clock runs its factor faster and resumes where it stood when the sandbox went down", () => {
    const first = startClock(60, undefined, t0, 1_000_000);
    expect(clockNow(first, 1_000_000 + 60_000)).toBe(t0 + HOUR_MS); // a wall minute is an hour at 60x
    const file = join(work, "clock.json");
    saveClock(file, first, 1_000_000 + 30_000); // down after 30 s: half an hour in
    // up again a day later: not a day of simulated hours lost, the clock goes on from half past ten
    const again = startClock(60, readClock(file), t0, 1_000_000 + 86_400_000);
    expect(clockNow(again, 1_000_000 + 86_400_000)).toBe(t0 + HOUR_MS / 2);
  });

  test("a real-time clock is the wall clock, whatever it read before", () => {
    const c = startClock(1, { factor: 1, eventMs: t0, wallMs: 5 }, t0, 1_795_000_000_000);
    expect(clockNow(c, 1_795_000_001_000)).toBe(1_795_000_001_000);
  });

  test("--clock accepts 'real' and speed-ups from 1x to 3600x", () => {
    expect([parseClockFactor("real"), parseClockFactor("60x"), parseClockFactor("240")]).toEqual([1, 60, 240]);
    expect(() => parseClockFactor("0.5x")).toThrow(
      "--clock must be 'real' or a speed-up from 1x to 3600x like 60x, got '0.5x'",
    );
    expect(() => parseClockFactor("fast")).toThrow("--clock must be");
  });
});

describe("the scheduler's rule for due hours (the DAG's schedule and catch-up)", () => {
  const marked = ["2026-11-26T10", "2026-11-26T11", "2026-11-26T12"];

  test("every marked hour whose interval has ended is due, oldest first (catch-up)", () => {
    expect(dueHours([...marked].reverse(), Date.parse("2026-11-26T13:00:00Z"), new Set())).toEqual(marked);
  });

  test("an hour that has not ended on the sandbox clock waits, even if marked", () => {
    expect(dueHours(marked, Date.parse("2026-11-26T12:59:59Z"), new Set())).toEqual(marked.slice(0, 2));
  });

  test("an hour already run is not due again (a rerun is asked for explicitly)", () => {
    expect(dueHours(marked, Date.parse("2026-11-26T13:00:00Z"), new Set(["2026-11-26T10"]))).toEqual(marked.slice(1));
  });
});

/** Processes that exist only in the test: each start gives a new pid, which lives until the test ends it. */
function virtualProcesses() {
  const alive = new Set<number>();
  const ends = new Map<number, (how: string) => void>();
  let nextPid = 2 ** 22 + 1;
  return {
    alive,
    start: async (): Promise<Started> => {
      const pid = nextPid++;
      alive.add(pid);
      const exited = new Promise<string>((r) => ends.set(pid, (how) => (alive.delete(pid), r(how))));
      return { pid, exited, log: "sleeper.log" };
    },
    end: (pid: number, how: string) => ends.get(pid)?.(how),
  };
}

test("the supervisor restarts a process that died, with a log line, and stops it for good on end", async () => {
  // Virtual processes and a virtual clock: waiting advances the clock at once.
  let now = 0;
  const clock = { now: () => now, sleep: async (ms: number) => void (now += ms) };
  const processes = virtualProcesses();
  const lines: string[] = [];
  let restarted: () => void = () => undefined;
  const afterRestart = new Promise<void>((r) => (restarted = r));
  const s = new Supervised(
    "sleeper",
    processes.start,
    (l) => lines.push(l),
    () => restarted(),
    clock,
    (pid) => processes.alive.has(pid),
  );
  const first = await s.begin();
  processes.end(first.pid, "SIGKILL");
  await afterRestart;
  expect(now).toBe(1000);
  expect(s.state()).toMatchObject({ running: true, restarts: 1 });
  expect(lines).toEqual([
    "supervisor: sleeper exited (SIGKILL); restart 1 in 1 s (log: sleeper.log)",
    `supervisor: sleeper restarted (pid ${s.pid})`,
  ]);
  const second = s.pid as number;
  const stopped: number[] = [];
  await s.end(async (pid) => void (stopped.push(pid), processes.end(pid, "SIGTERM")));
  expect(stopped).toEqual([second]);
  expect(processes.alive.size).toBe(0);
  expect(s.restarts).toBe(1);
  expect(s.state().running).toBe(false);
});

test("the supervisor's back-off doubles from 1 s up to 30 s while a process keeps dying, and is 1 s again after a minute's run", async () => {
  // A virtual clock: waiting advances it at once; each start's process lives the given virtual time.
  let now = 0;
  const waits: number[] = [];
  const clock = { now: () => now, sleep: async (ms: number) => void (waits.push(ms), (now += ms)) };
  const lives = [0, 0, 0, 0, 0, 0, 0, 61_000, 0, 0];
  let starts = 0;
  let stopped: () => void = () => undefined;
  const lastDied = new Promise<void>((r) => (stopped = r));
  const lines: string[] = [];
  const s = new Supervised(
    "crashy",
    async () => {
      const life = lives[starts++];
      if (life === undefined) {
        stopped();
        return { pid: 2 ** 22 + 1, exited: new Promise<number>(() => undefined), log: "crashy.log" };
      }
      return { pid: 2 ** 22 + 1, exited: Promise.resolve().then(() => ((now += life), 1)), log: "crashy.log" };
    },
    (l) => lines.push(l),
    () => undefined,
    clock,
  );
  await s.begin();
  await lastDied;
  expect(waits).toEqual([1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 1000, 2000, 4000]);
  expect(s.restarts).toBe(10);
  expect(lines[0]).toBe("supervisor: crashy exited (1); restart 1 in 1 s (log: crashy.log)");
  await s.end(async () => undefined);
});

describe("the notifier (Eventarc for the sandbox)", () => {
  let server: Server;
  let refuse = true;
  const received: { id: string; subject: string; generation: string }[] = [];
  const refused: string[] = [];
  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = "";
      req.on("data", (d: Buffer) => (body += d.toString()));
      req.on("end", () => {
        if (refuse) {
          refused.push(String(req.headers["ce-subject"]));
          return void res.writeHead(503).end("restarting");
        }
        received.push({
          id: String(req.headers["ce-id"]),
          subject: String(req.headers["ce-subject"]),
          generation: (JSON.parse(body) as { generation: string }).generation,
        });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  });
  afterAll(() => server.close());

  test("delivers one event per published object once the loader answers, and none again after a restart", async () => {
    const bucket = join(work, "curated");
    const stateFile = join(work, "notifier.json");
    const hour = join(bucket, "hourly", "dt=2026-11-26", "hr=10", "run_id=r1");
    mkdirSync(hour, { recursive: true });
    writeFileSync(join(hour, "part-00000.csv"), "2026-11-26 10:00:00,P1,2,1,r1\n");
    writeFileSync(join(hour, ".part-00001.csv.partial"), "half-written");
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    const said: string[] = [];
    const notifier = new CuratedNotifier(
      bucket,
      stateFile,
      () => url,
      () => 42,
      (line) => said.push(line),
    );
    notifier.start();
    const refusing = Date.now() + 15_000;
    while (said.length < 1 && Date.now() < refusing) await sleep(100);
    // The loader refused each attempt, the notifier tried again, said so, and counted nothing as delivered.
    if (Object.keys(notifier.deliveries).length) await notifier.stop(); // a failing test must not leave it running
    expect(refused.length).toBeGreaterThanOrEqual(2);
    expect(new Set(refused)).toEqual(new Set(["objects/hourly/dt=2026-11-26/hr=10/run_id=r1/part-00000.csv"]));
    expect(said[0]).toMatch(
      /^notifier: the loader did not accept the event for .*part-00000\.csv after 2 attempts: HTTP 503: restarting; delivering it again shortly$/,
    );
    expect(notifier.deliveries).toEqual({});
    refuse = false;
    const end = Date.now() + 15_000;
    while (received.length < 1 && Date.now() < end) await sleep(100);
    await notifier.stop();
    expect(received.map((r) => r.subject)).toEqual(["objects/hourly/dt=2026-11-26/hr=10/run_id=r1/part-00000.csv"]);
    expect(
      JSON.parse(readFileSync(stateFile, "utf8")).objects["hourly/dt=2026-11-26/hr=10/run_id=r1/part-00000.csv"],
    ).toMatchObject({ times: 1, acceptedAtClockMs: 42 });

    // Restarted from its state (down, then up): only the object published since is delivered.
    writeFileSync(join(hour, "part-00001.csv"), "2026-11-26 10:00:00,P2,1,0,r1\n");
    const again = new CuratedNotifier(
      bucket,
      stateFile,
      () => url,
      () => 43,
      () => undefined,
    );
    again.start();
    const end2 = Date.now() + 10_000;
    while (received.length < 2 && Date.now() < end2) await sleep(100);
    await sleep(1000);
    await again.stop();
    expect(received.map((r) => r.subject.split("/").pop())).toEqual(["part-00000.csv", "part-00001.csv"]);
  });
});

describe("the state folder's input format", () => {
  test("is fixed by the first start: a later start with another format or other settings is refused", () => {
    const l = sandboxLayout(join(work, "input-state"));
    mkdirSync(l.root, { recursive: true });
    const json = { format: "json" as const, accessLog: { ...ACCESS_LOG_DEFAULTS } };
    keepInput(l, json);
    expect(() => keepInput(l, json)).not.toThrow();
    expect(() => keepInput(l, { ...json, format: "combined" })).toThrow(/reads JSON entries with the settings in/);
    try {
      keepInput(l, { ...json, format: "combined" });
    } catch (e) {
      expect((e as SandboxError).hint).toContain(`or run 'npm start -- purge --state-dir ${l.root}' to start over`);
    }
    expect(() => keepInput(l, { ...json, accessLog: { ...json.accessLog, cartMethod: "GET" } })).toThrow(SandboxError);
  });
});
