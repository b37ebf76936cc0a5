// The sandbox as a living pipeline (`npm start -- up`), end to end on an accelerated clock (an hour in 7.5 s):
// the start-up hour, then at least 4 live hours, with entries the generator did not write sent by a
// separate Kafka producer while it runs; the loader and the streaming job killed once each (the supervisor
// brings both back); `down` then `up` in the middle, then a rerun of the start-up hour. The warehouse must
// then reconcile exactly with everything sent, with no hand-run step, and the report written again from
// the live warehouse must show it in headless Chromium. (The one-shot run is the same pipeline; test/sandbox/sandboxRun.test.ts adds
// the faults only it injects.)
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { Kafka, logLevel, Producer } from "kafkajs";
import { launchChromium } from "../../sandbox/verdict/browser";
import { clockNow, HOUR_MS, hourOf, readClock } from "../../sandbox/schedule/clock";
import { HourlyActivityRow, totalsPerHour } from "../../sandbox/verdict/hourlyActivity";
import { sandboxLayout } from "../../sandbox/shared/layout";
import { groundTruthRows, LiveReportRecord } from "../../sandbox/pipeline/liveReport";
import { killGroup } from "../../sandbox/processes/processes";
import { ProcessRegistry } from "../../sandbox/processes/processRegistry";
import { reconcile, Reconciliation } from "../../sandbox/verdict/reconciliation";
import { PipelineStatus, readStatus } from "../../sandbox/commands/status";
import { readRenderedReport } from "./reportInBrowser";

const REPO = resolve(__dirname, "..", "..");
const stateDir = process.env.SANDBOX_TEST_STATE_DIR ?? mkdtempSync(join(tmpdir(), "sandbox-live-"));
const l = sandboxLayout(stateDir);
// Hours well before the wall clock's: the streaming job files malformed entries under the hour Kafka got them.
const startMs = Math.floor(Date.now() / HOUR_MS) * HOUR_MS - 9 * HOUR_MS;
const startHour = hourOf(startMs);
// The start-up hour unthrottled, then live traffic at its default rate.
const flags = [
  "--no-setup",
  "--state-dir",
  stateDir,
  "--clock",
  "480x",
  "--start",
  new Date(startMs).toISOString(),
  "--hours",
  "1",
  "--per-hour",
  "300",
  "--rate",
  "0",
  "--seed",
  "7",
  "--malformed-rate",
  "0.02",
];

let narration = "";
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function sandbox(args: string[]): Promise<number | null> {
  const child = spawn(
    join(REPO, "node_modules", ".bin", "tsx"),
    [join(REPO, "sandbox", "commands", "cli.ts"), ...args],
    { cwd: REPO, stdio: ["ignore", "pipe", "pipe"] },
  );
  child.stdout.on("data", (d: Buffer) => (narration += d.toString()));
  child.stderr.on("data", (d: Buffer) => (narration += d.toString()));
  return new Promise((r) => child.on("close", r));
}

function status(): PipelineStatus {
  const s = readStatus(l.status);
  if (!s) throw new Error("no status.json: the sandbox is not running");
  return s;
}

async function until(what: string, ok: () => boolean, timeoutMs = 150_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > end)
      throw new Error(`timed out waiting until ${what}; status: ${JSON.stringify(readStatus(l.status))}`);
    await sleep(250);
  }
}

const loadedThrough = (hour: string) => (status().latest.loaded ?? "") >= hour;
const runsOf = (hour: string) =>
  (JSON.parse(readFileSync(l.scheduler, "utf8")) as { runs: { hour: string; ok: boolean }[] }).runs.filter(
    (r) => r.ok && r.hour === hour,
  ).length;
const liveHour = (n: number) => hourOf(startMs + n * HOUR_MS);
const LATE_PRODUCT = "P900099";

/** A producer of the user's own: hand-written entries at the sandbox clock's time, counted per hour and product. */
class OwnTraffic {
  readonly sent: HourlyActivityRow[] = [];
  private producer?: Producer;
  private timer?: NodeJS.Timeout;
  private sending = Promise.resolve();
  private n = 0;

  async start(): Promise<void> {
    this.producer = new Kafka({
      clientId: "own-traffic",
      brokers: [status().endpoints.kafkaBootstrap as string],
      logLevel: logLevel.NOTHING,
    }).producer();
    await this.producer.connect();
    this.timer = setInterval(() => (this.sending = this.sending.then(() => this.sendSome())), 1000);
  }

  private async sendSome(): Promise<void> {
    const clock = readClock(l.clock);
    if (!clock || !this.producer) return;
    const entries = [0, 1, 2].map((i) => {
      const product = `P90000${(this.n + i) % 4}`; // outside the generator's catalogue (P000000-P000999)
      const cart = (this.n + i) % 3 === 0;
      return {
        event_id: randomUUID(),
        event_time: new Date(clockNow(clock)).toISOString(),
        session_id: `own-${this.n}`,
        ip: "198.51.100.7",
        user_agent: "own-traffic/1.0",
        method: cart ? "POST" : "GET",
        url: cart ? "/cart" : `/products/${product}`,
        status: 200,
        product_id: product,
        pid: cart ? product : null,
      };
    });
    this.n += 3;
    await this.producer.send({
      topic: "weblogs",
      acks: -1,
      messages: entries.map((e) => ({ key: e.session_id, value: JSON.stringify(e) })),
    });
    for (const e of entries)
      this.sent.push({
        hour: e.event_time.slice(0, 13),
        product_id: e.product_id,
        visits: e.pid ? 0 : 1,
        cart_adds: e.pid ? 1 : 0,
      });
  }

  /** Entries for an hour already published (a source whose clock runs slow): that hour must run again by itself. */
  async sendLate(hour: string, product: string, count: number): Promise<void> {
    const entries = Array.from({ length: count }, (_, i) => ({
      event_id: randomUUID(),
      event_time: `${hour}:30:00.000Z`,
      session_id: `late-${i}`,
      ip: "198.51.100.8",
      user_agent: "own-traffic/1.0",
      method: "GET",
      url: `/products/${product}`,
      status: 200,
      product_id: product,
      pid: null,
    }));
    await (this.sending = this.sending
      .then(() =>
        this.producer?.send({
          topic: "weblogs",
          acks: -1,
          messages: entries.map((e) => ({ key: e.session_id, value: JSON.stringify(e) })),
        }),
      )
      .then(() => undefined));
    for (let i = 0; i < count; i++) this.sent.push({ hour, product_id: product, visits: 1, cart_adds: 0 });
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.sending;
    await this.producer?.disconnect();
  }
}

let lastHour: string;
let view: LiveReportRecord;
let reconciliation: Reconciliation;
let restarts: Record<string, number>;
let resumed: number | null;
let reportAfterDown: number | null;
let viewAfterDown: LiveReportRecord;
const own = new OwnTraffic();

beforeAll(async () => {
  try {
    expect(await sandbox(["up", ...flags])).toBe(0);
    await own.start();
    // A crash of each while the first hours flow: the supervisor restarts it, and no hour is lost or loaded twice.
    await killGroup(status().processes.find((p) => p.name === "loader")?.pid as number);
    await until(
      "the loader is back",
      () => status().processes.some((p) => p.name === "loader" && p.running && p.restarts === 1),
      60_000,
    );
    await killGroup(status().processes.find((p) => p.name === "stream")?.pid as number);
    await until(
      "the streaming job is back",
      () => status().processes.some((p) => p.name === "stream" && p.running && p.restarts === 1),
      60_000,
    );
    await until("the start-up hour and a live hour are loaded", () => loadedThrough(liveHour(1)));
    restarts = Object.fromEntries(status().processes.map((p) => [p.name, p.restarts]));
    // A late batch for the published live hour: no hand step, the hour runs again and its latest run counts it.
    await own.sendLate(liveHour(1), LATE_PRODUCT, 4);

    // Down and up again in the middle of the run, in the middle of an hour.
    await own.stop();
    expect(await sandbox(["down", "--state-dir", stateDir])).toBe(0);
    resumed = await sandbox(["up", ...flags]);
    await own.start();
    // A rerun of the start-up hour, as clearing its DAG run would: a new run id replaces its output.
    expect(await sandbox(["rerun", "--hour", startHour, "--state-dir", stateDir])).toBe(0);
    await until(
      "at least 4 live hours are loaded and the start-up hour ran again",
      () =>
        loadedThrough(liveHour(4)) &&
        runsOf(startHour) === 2 &&
        runsOf(liveHour(1)) === 2 &&
        status().latest.loaded !== undefined,
    );
    await own.stop();
    lastHour = status().latest.loaded as string;
    // The warehouse as `report` read it, beside the report it wrote again.
    expect(await sandbox(["report", "--state-dir", stateDir, "--top", "5"])).toBe(0);
    view = JSON.parse(readFileSync(join(stateDir, "report.json"), "utf8")) as LiveReportRecord;
  } finally {
    await own.stop().catch(() => undefined);
    await sandbox(["down", "--state-dir", stateDir]);
  }
  // After down, from the warehouse the state folder keeps.
  reportAfterDown = await sandbox(["report", "--state-dir", stateDir, "--top", "5"]);
  viewAfterDown = JSON.parse(readFileSync(join(stateDir, "report.json"), "utf8")) as LiveReportRecord;
  // The generator's ground truth is complete once its last session stopped; with the own producer's entries.
  const upTo = (r: HourlyActivityRow) => r.hour <= lastHour;
  reconciliation = reconcile([...groundTruthRows(l).rows, ...own.sent].filter(upTo), view.rows.filter(upTo));
}, 600_000);

afterAll(() => {
  if (!reconciliation?.matches) console.log(narration);
});

test("every hour loaded reconciles exactly with the generator's and the own producer's entries", () => {
  expect(resumed).toBe(0);
  const hours = reconciliation.hours.map((h) => h.hour);
  expect(hours[0]).toBe(startHour);
  expect(hours.length).toBeGreaterThanOrEqual(5);
  expect(hours).toEqual(Array.from({ length: hours.length }, (_, i) => liveHour(i)));
  expect(reconciliation.hours.filter((h) => !h.matches)).toEqual([]);
  // The own producer's entries reached every live hour, and no run was needed by hand.
  for (const h of hours.slice(1))
    expect(view.rows.some((r) => r.hour === h && r.product_id.startsWith("P90000"))).toBe(true);
});

test("the loader and the streaming job were killed and restarted by the supervisor", () => {
  expect(restarts).toMatchObject({ loader: 1, stream: 1 });
  expect(narration).not.toMatch(/error:/);
});

test("the rerun of an hour published under a new run id, and only its latest run counts", () => {
  expect(new Set(view.loads.filter((o) => o.hour === startHour).map((o) => o.runId)).size).toBe(2);
  expect(narration).toMatch(new RegExp(`rerun of ${startHour} requested`));
});

test("a late batch for a published hour runs it again by itself, and the latest-run view counts the late entries", () => {
  expect(new Set(view.loads.filter((o) => o.hour === liveHour(1)).map((o) => o.runId)).size).toBe(2);
  expect(view.rows.filter((r) => r.hour === liveHour(1) && r.product_id === LATE_PRODUCT)).toEqual([
    expect.objectContaining({ hour: liveHour(1), product_id: LATE_PRODUCT, visits: 4, cart_adds: 0 }),
  ]);
  expect(narration).not.toMatch(new RegExp(`rerun of ${liveHour(1)} requested`));
});

test("down then up loses and duplicates nothing: every object loaded by one job, no row twice", () => {
  expect(view.duplicateTableRows).toBe(0);
  expect(view.loads.filter((o) => o.loadJobs !== 1)).toEqual([]);
  expect(new Set(view.loads.map((o) => o.hour)).size).toBe(new Set(view.rows.map((r) => r.hour)).size);
});

test("the report written again from the live warehouse shows its hours in headless Chromium", async () => {
  const browser = await launchChromium();
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    const shown = await readRenderedReport(page, pathToFileURL(l.report).href, join(stateDir, "report.png"));
    const totals = totalsPerHour(view.rows).filter((h) => h.hour <= lastHour);
    expect(shown.visitsPerHour.slice(0, totals.length).map((b) => b.value)).toEqual(totals.map((h) => h.visits));
    expect(shown.cartAddsPerHour.slice(0, totals.length).map((b) => b.value)).toEqual(totals.map((h) => h.cartAdds));
    expect(shown.topProducts).toHaveLength(5);
    expect(shown.externalRequests).toEqual([]);
  } finally {
    await browser.close();
  }
});

test("report after down reads the warehouse the state folder keeps, and leaves nothing running", () => {
  expect(reportAfterDown).toBe(0);
  expect(viewAfterDown.generatedAt > view.generatedAt).toBe(true);
  // Up to the last hour the running report saw (the pipeline may have loaded more before down).
  const sorted = (rows: HourlyActivityRow[]) =>
    rows
      .filter((r) => r.hour <= lastHour)
      .map((r) => JSON.stringify(r))
      .sort();
  expect(sorted(viewAfterDown.rows)).toEqual(sorted(view.rows));
  expect(sorted(viewAfterDown.rows).length).toBeGreaterThan(0);
  expect(new ProcessRegistry(l.processes).alive()).toEqual([]);
});
