// Hours run side by side, as the DAG's runs do (max_active_runs): the scheduler keeps as many in flight as the
// worker runs at once, never two of one hour, and the worker matches each answer to its request whatever
// order the runs end in.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { HourlyWorker, startHourlyWorker } from "../../sandbox/processes/hourlyWorker";
import { HourlyRunResult } from "../../sandbox/processes/parts";
import { ProcessRegistry } from "../../sandbox/processes/processRegistry";
import { HourlyScheduler } from "../../sandbox/schedule/scheduler";
import { sleep } from "../../sandbox/shared/sleep";

let work: string;
beforeEach(() => {
  work = mkdtempSync(join(tmpdir(), "hourly-runs-"));
});
afterEach(() => rmSync(work, { recursive: true, force: true }));

/** A worker whose runs end when the test says so; records what ran at once. */
function fakeWorker(maxActiveRuns: number) {
  const running = new Map<string, () => void>();
  const started: string[] = [];
  let mostAtOnce = 0;
  const worker: HourlyWorker = {
    pid: 0,
    exited: new Promise(() => undefined),
    log: "",
    ready: Promise.resolve(),
    maxActiveRuns: () => maxActiveRuns,
    run: (hour) =>
      new Promise<HourlyRunResult>((resolve) => {
        if (running.has(hour)) throw new Error(`${hour} runs twice at once`);
        started.push(hour);
        running.set(hour, () => {
          running.delete(hour);
          resolve({ hour, run_id: `run-${started.length}`, ok: true, published: [] });
        });
        mostAtOnce = Math.max(mostAtOnce, running.size);
      }),
  };
  return { worker, running, started, mostAtOnce: () => mostAtOnce };
}

/** A scheduler over these marked hours, on a clock past them all, with this worker. */
function schedulerOf(worker: HourlyWorker, marked: string[]): HourlyScheduler {
  return new HourlyScheduler(
    { state: join(work, "scheduler.json"), runLog: join(work, "runs.jsonl") },
    () => marked,
    () => Date.parse("2026-11-27T00:00:00Z"),
    () => worker,
    () => undefined,
  );
}

async function until(what: string, condition: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !condition(); i++) await sleep(25);
  if (!condition()) throw new Error(`never: ${what}`);
}

describe("the scheduler", () => {
  const hours = ["2026-11-26T10", "2026-11-26T11", "2026-11-26T12", "2026-11-26T13"];

  it("keeps as many hours in flight as the worker runs at once, oldest first, and each hour once", async () => {
    const fake = fakeWorker(3);
    const scheduler = schedulerOf(fake.worker, hours);
    scheduler.start();
    try {
      await until("three hours run", () => fake.running.size === 3);
      await sleep(600); // two more turns of its loop: the fourth waits for a free run
      expect(fake.started).toEqual(hours.slice(0, 3));
      fake.running.get(hours[1])?.();
      await until("the fourth hour runs", () => fake.started.length === 4);
      for (const end of [...fake.running.values()]) end();
      await until("every hour ran", () => scheduler.runs.length === 4);
      expect(fake.mostAtOnce()).toBe(3);
      expect(scheduler.runs.map((r) => r.hour).sort()).toEqual(hours);
      await sleep(600);
      expect(fake.started).toHaveLength(4); // none ran again
    } finally {
      await scheduler.stop();
    }
  });

  it("runs a rerun of an hour only once its run in flight has ended", async () => {
    const fake = fakeWorker(3);
    const scheduler = schedulerOf(fake.worker, hours.slice(0, 1));
    scheduler.start();
    try {
      await until("the hour runs", () => fake.running.size === 1);
      fake.running.get(hours[0])?.();
      await until("its run is recorded", () => scheduler.runs.length === 1);
      scheduler.requestRerun(hours[0]);
      await until("the rerun runs", () => fake.running.size === 1);
      scheduler.requestRerun(hours[0]);
      await sleep(600);
      expect(fake.started).toEqual([hours[0], hours[0]]); // the second rerun waits
      fake.running.get(hours[0])?.();
      await until("the second rerun runs", () => fake.started.length === 3);
      fake.running.get(hours[0])?.();
      await until("every run is recorded", () => scheduler.runs.length === 3);
      expect(fake.mostAtOnce()).toBe(1);
    } finally {
      await scheduler.stop();
    }
  });

  it("waits for the runs in flight when it stops", async () => {
    const fake = fakeWorker(2);
    const scheduler = schedulerOf(fake.worker, hours);
    scheduler.start();
    await until("two hours run", () => fake.running.size === 2);
    let stopped = false;
    const stopping = scheduler.stop().then(() => (stopped = true));
    await sleep(300);
    expect(stopped).toBe(false);
    for (const end of [...fake.running.values()]) end();
    await stopping;
    expect(scheduler.runs.map((r) => r.hour)).toEqual(hours.slice(0, 2));
  });
});

describe("the hourly worker's answers", () => {
  it("reach the run that asked, in whatever order the runs end", async () => {
    // A stand-in process speaking the worker's protocol: ready with its capacity, then the answers to two
    // requests in the reverse order.
    const script = [
      "import json, sys",
      'print(json.dumps({"ready": True, "max_active_runs": 2}), flush=True)',
      "asked = [json.loads(sys.stdin.readline()) for _ in range(2)]",
      "for r in reversed(asked):",
      '    print(json.dumps({"hour": r["hour"], "run_id": "id-" + r["hour"], "ok": True, "published": [], "request": r["request"]}), flush=True)',
    ].join("\n");
    const registry = new ProcessRegistry(join(work, "processes"));
    const worker = startHourlyWorker(
      { name: "hourly", command: "python3", args: ["-c", script], log: join(work, "worker.log") },
      registry,
    );
    expect(worker.maxActiveRuns()).toBe(1);
    await worker.ready;
    expect(worker.maxActiveRuns()).toBe(2);
    const [first, second] = await Promise.all([worker.run("2026-11-26T10"), worker.run("2026-11-26T11")]);
    expect([first.hour, first.run_id]).toEqual(["2026-11-26T10", "id-2026-11-26T10"]);
    expect([second.hour, second.run_id]).toEqual(["2026-11-26T11", "id-2026-11-26T11"]);
    await worker.exited;
  });
});
