// The one-shot sandbox run (`npm start`: the living pipeline of `up`, plus a wait until the warehouse
// holds the simulated hours), smaller than the default run, fed web-server access-log lines (--format
// combined; livePipeline.test.ts runs JSON entries), with every failure the pipeline must absorb injected
// into the same run (one run keeps the suite inside its time budget): malformed lines, repeated ones, the
// broker killed while the generator sends and the streaming job killed after its first files (the
// supervisor restarts both), one storage event delivered twice and one hour re-run by the scheduler. The
// table must still reconcile exactly with the generator's ground truth, and the report must show it in a
// real browser. test/sandbox/livePipeline.test.ts covers `up` itself.
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { launchChromium } from "../../sandbox/verdict/browser";
import { sandboxLayout } from "../../sandbox/shared/layout";
import { defaultStart, expectedHours } from "../../sandbox/commands/options";
import { RunRecord } from "../../sandbox/pipeline/run";
import { readRenderedReport } from "./reportInBrowser";

const REPO = resolve(__dirname, "..", "..");
const stateDir = process.env.SANDBOX_TEST_STATE_DIR ?? mkdtempSync(join(tmpdir(), "sandbox-e2e-"));
// Past hours, as in the default run: the streaming job quarantines entries from more than 1 h ahead.
const start = defaultStart();
const hours = expectedHours({ start, hours: 3 });
// Smaller than the default run; the rate keeps the generator sending while the broker is killed.
const args = [
  "run",
  "--no-setup",
  "--state-dir",
  stateDir,
  "--start",
  start,
  "--hours",
  "3",
  "--per-hour",
  "800",
  "--seed",
  "7",
  "--malformed-rate",
  "0.02",
  "--duplicate-rate",
  "0.02",
  "--rate",
  "300",
  "--top",
  "5",
  "--faults",
  "all",
  "--format",
  "combined",
];

let exitCode: number | null;
let narration = "";
let result: RunRecord;

beforeAll(async () => {
  // The command as a user runs it (the same as `npm start -- run ...` once setup has run).
  const child = spawn(
    join(REPO, "node_modules", ".bin", "tsx"),
    [join(REPO, "sandbox", "commands", "cli.ts"), ...args],
    { cwd: REPO, stdio: ["ignore", "pipe", "pipe"] },
  );
  child.stdout.on("data", (d: Buffer) => (narration += d.toString()));
  child.stderr.on("data", (d: Buffer) => (narration += d.toString()));
  exitCode = await new Promise<number | null>((r) => child.on("close", r));
  result = JSON.parse(readFileSync(sandboxLayout(stateDir).result, "utf8")) as RunRecord;
}, 420_000);

afterAll(() => {
  // On failure the run's own narration says which stage did what.
  if (exitCode !== 0) console.log(narration);
});

test("every simulated hour reconciles exactly with the generator's ground truth", () => {
  expect(exitCode).toBe(0);
  expect(result.reconciliation.hours.map((h) => h.hour)).toEqual(hours);
  for (const h of result.reconciliation.hours) expect(h).toMatchObject({ matches: true, productsDiffering: [] });
  expect(result.reconciliation.matches).toBe(true);
  expect(narration).toMatch(/all 3 hours match the generator's ground truth exactly/);
});

test("malformed lines are quarantined and counted; every delivery is in the raw bucket once, every entry counted once", () => {
  expect(result.summary.malformed).toBeGreaterThan(0);
  expect(result.audit.quarantined).toBe(result.summary.malformed);
  // Every line shipped is a raw row, a quarantined record or an ignored line (an asset), as the job logged.
  const account = /access-log lines shipped: (\d+) = (\d+) raw \+ (\d+) quarantined \+ (\d+) ignored .* \(exact\)/.exec(
    narration,
  );
  expect(account?.slice(1).map(Number)).toEqual([
    result.summary.generated,
    result.audit.rows,
    result.audit.quarantined,
    result.summary.ignored,
  ]);
  expect(result.summary.ignored).toBeGreaterThan(0);
  // Raw keeps what was delivered: each valid entry, plus each repeated delivery the generator sent.
  expect(result.summary.duplicates).toBeGreaterThan(0);
  expect(result.audit.distinct_event_ids).toBe(result.summary.valid);
  expect(result.audit.rows).toBe(result.summary.valid + result.summary.duplicates);
  expect(result.reconciliation.duplicates).toEqual({
    sent: result.summary.duplicates,
    received: result.summary.duplicates,
    dropped: result.summary.duplicates,
    matches: true,
  });
  expect(narration).toMatch(
    /repeated deliveries \(same event_id\): \d+ sent, \d+ received into raw, \d+ left out of the table: each entry counted once/,
  );
});

test("the broker and the streaming job were killed during the run and restarted by the supervisor", () => {
  expect(result.restarts).toMatchObject({ kafka: 1, stream: 1, loader: 0, bigquery: 0, hourly: 0 });
  expect(narration).toMatch(/supervisor: kafka exited .*; restart 1 in 1 s/);
  expect(narration).toMatch(/supervisor: stream exited \(SIGKILL\); restart 1 in 1 s/);
  const starts = (file: string, line: string) => readFileSync(file, "utf8").split(line).length - 1;
  expect(starts(join(stateDir, "kafka", "broker.log"), "Kafka Server started")).toBe(2);
  // The generator met the outage (failed sends it retried) and still had every entry acknowledged.
  expect(result.summary.errors).toBeGreaterThan(0);
  expect(starts(join(stateDir, "logs", "stream.log"), "Setting default log level")).toBe(2);
});

test("an event delivered twice and an hour re-run load no row twice", () => {
  // The loader found the redelivered event's job already done, once.
  expect(
    readFileSync(join(stateDir, "logs", "loader.log"), "utf8").split(
      '"message":"already loaded by an earlier delivery"',
    ).length - 1,
  ).toBe(1);
  // The lineage table: every object appended by exactly one load job, the re-run hour published by two runs.
  expect(result.loads.length).toBeGreaterThan(hours.length);
  expect(result.loads.filter((o) => o.loadJobs !== 1)).toEqual([]);
  expect(new Set(result.loads.map((o) => o.hour))).toEqual(new Set(hours));
  // The re-run hour by its first run and the re-run; by more only when a batch committed entries for it once it
  // was marked complete (sends the generator retried across the broker's outage): the scheduler runs it again.
  const runs = new Set(result.loads.filter((o) => o.hour === hours[0]).map((o) => o.runId)).size;
  const late = readFileSync(join(stateDir, "logs", "stream.log"), "utf8").includes(
    `late entries: {"hour": "${hours[0]}"`,
  );
  if (late) expect(runs).toBeGreaterThanOrEqual(2);
  else expect(runs).toBe(2);
  expect(result.duplicateTableRows).toBe(0);
  // The report's health figures: an hour's entries into raw are the generator's valid entries of that hour plus
  // their repeated deliveries; a malformed entry whose event time parses is filed under its simulated hour, the
  // rest under the hour it reached Kafka (now), so the simulated hours hold at most the run's malformed entries;
  // the re-run hour ran twice; every published object loaded once, with one "loaded" line; no ERROR line.
  const objectsOf = (hour: string) =>
    Object.keys(result.deliveries).filter((o) => o.includes(`dt=${hour.slice(0, 10)}/hr=${hour.slice(11, 13)}/`))
      .length;
  expect({
    hours: result.health.hours.map((h) => [h.hour, h.runs.filter((r) => r.ok).length, h.filesLoaded]),
    loadedLines: result.health.loader.loadedLines,
    errorLines: result.health.loader.errorLines,
  }).toEqual({
    hours: result.summary.hours.map((_, i) => [hours[i], i === 0 ? 2 : 1, objectsOf(hours[i])]),
    loadedLines: Object.keys(result.deliveries).length,
    errorLines: 0,
  });
  expect(result.health.hours.reduce((a, h) => a + (h.quarantined ?? 0), 0)).toBeLessThanOrEqual(
    result.summary.malformed,
  );
  result.health.hours.forEach((h, i) =>
    expect(h.rows).toBeGreaterThanOrEqual(result.summary.hours[i].visits + result.summary.hours[i].cart_adds),
  );
  expect(result.health.hours.reduce((n, h) => n + (h.rows ?? 0), 0)).toBe(
    result.summary.valid + result.summary.duplicates,
  );
});

test("the report shows the reconciled numbers in headless Chromium", async () => {
  const browser = await launchChromium();
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    const shown = await readRenderedReport(page, pathToFileURL(result.reportPath).href, join(stateDir, "report.png"));
    expect(shown.visitsPerHour.map((b) => b.value)).toEqual(result.summary.hours.map((h) => h.visits));
    expect(shown.visitsPerHour.map((b) => b.text)).toEqual(result.summary.hours.map((h) => String(h.visits)));
    expect(shown.cartAddsPerHour.map((b) => b.value)).toEqual(result.summary.hours.map((h) => h.cart_adds));
    // The top 5 by the truth's visits, whatever the order among equals: each shown count is the truth's,
    // counts never rise down the list, and no product left out has more visits than the last one shown.
    const truthVisits = new Map(result.summary.products.map((p) => [p.product_id, p.visits]));
    const shownTop = shown.topProducts.map((b) => ({ product: b.label, visits: b.value }));
    expect(shownTop).toHaveLength(5);
    expect(new Set(shownTop.map((p) => p.product)).size).toBe(5);
    expect(shownTop.filter((p) => truthVisits.get(p.product) !== p.visits)).toEqual([]);
    expect(shownTop.filter((p, i) => i > 0 && p.visits > shownTop[i - 1].visits)).toEqual([]);
    const lowestShown = shownTop[4].visits;
    expect(
      result.summary.products.filter(
        (p) => p.visits > lowestShown && !shownTop.some((s) => s.product === p.product_id),
      ),
    ).toEqual([]);
    expect(shown.verdict).toMatch(/all 3 hours match/);
    expect(shown.externalRequests).toEqual([]);
  } finally {
    await browser.close();
  }
});
