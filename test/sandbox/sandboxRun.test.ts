// The sandbox end to end, smaller than the default run, with every failure the pipeline must absorb
// injected into the same run (one run keeps the suite inside its time budget): malformed entries, the
// broker killed and restarted while the generator sends, the streaming job killed and restarted from its
// checkpoint, one storage event delivered twice and one hour re-run. The table must still reconcile
// exactly with the generator's ground truth, and the report must show it in a real browser.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { launchChromium } from "../../sandbox/browser";
import { expectedHours, FAULTS, SandboxOptions } from "../../sandbox/options";
import { runSandbox, RunResult } from "../../sandbox/pipeline";
import { readRenderedReport } from "./reportInBrowser";

const stateDir = process.env.SANDBOX_TEST_STATE_DIR ?? mkdtempSync(join(tmpdir(), "sandbox-e2e-"));
const options: SandboxOptions = {
  command: "run",
  stateDir,
  start: "2026-11-26T10:00:00Z",
  hours: 3,
  perHour: 800,
  seed: 7,
  malformedRate: 0.02,
  // slow enough that the broker is killed while entries are still being sent
  rate: 150,
  faults: new Set(FAULTS),
  setup: false,
  top: 5,
};

let result: RunResult;
const log: string[] = [];

beforeAll(async () => {
  result = await runSandbox(options, (line) => log.push(line));
}, 420_000);

afterAll(() => {
  // On failure the run's own narration says which stage did what.
  if (!result?.reconciliation.matches) console.log(log.join("\n"));
});

test("every simulated hour reconciles exactly with the generator's ground truth", () => {
  expect(result.reconciliation.hours.map((h) => h.hour)).toEqual(expectedHours(options));
  for (const h of result.reconciliation.hours) expect(h).toMatchObject({ matches: true, productsDiffering: [] });
  expect(result.reconciliation.matches).toBe(true);
  expect(log.join("\n")).toMatch(/all 3 hours match the generator's ground truth exactly/);
});

test("malformed entries are quarantined and counted; every valid entry is in the raw bucket once", () => {
  expect(result.summary.malformed).toBeGreaterThan(0);
  expect(result.audit.quarantined).toBe(result.summary.malformed);
  expect(result.audit.rows).toBe(result.summary.valid);
  expect(result.audit.distinct_event_ids).toBe(result.audit.rows);
});

test("the broker and the streaming job were killed and restarted during the run", () => {
  const narration = log.join("\n");
  expect(narration).toMatch(/fault: broker restarted/);
  expect(narration).toMatch(/fault: streaming job restarted from its checkpoint/);
});

test("an event delivered twice and an hour re-run load no row twice", () => {
  expect([...result.deliveries.values()].filter((n) => n === 2)).toHaveLength(1);
  expect(result.runIds.get(expectedHours(options)[0])).toHaveLength(2);
  expect(result.duplicateTableRows).toBe(0);
});

test("the report shows the reconciled numbers in headless Chromium", async () => {
  const browser = await launchChromium();
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    const shown = await readRenderedReport(page, pathToFileURL(result.reportPath).href, join(stateDir, "report.png"));
    expect(shown.visitsPerHour.map((b) => b.value)).toEqual(result.summary.hours.map((h) => h.visits));
    expect(shown.visitsPerHour.map((b) => b.text)).toEqual(result.summary.hours.map((h) => String(h.visits)));
    expect(shown.cartAddsPerHour.map((b) => b.value)).toEqual(result.summary.hours.map((h) => h.cart_adds));
    const topByTruth = [...result.summary.products].sort((a, b) => b.visits - a.visits || b.cart_adds - a.cart_adds || a.product_id.localeCompare(b.product_id)).slice(0, 5);
    expect(shown.topProducts.map((b) => [b.label, b.value])).toEqual(topByTruth.map((p) => [p.product_id, p.visits]));
    expect(shown.verdict).toMatch(/all 3 hours match/);
    expect(shown.externalRequests).toEqual([]);
  } finally {
    await browser.close();
  }
});
