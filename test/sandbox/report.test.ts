// The HTML report opened in real headless Chromium: the charts render with the numbers of the table.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { Browser } from "playwright-core";
import { launchChromium } from "../../sandbox/browser";
import { Health } from "../../sandbox/health";
import { HourlyActivityRow, topProducts, totalsPerHour } from "../../sandbox/hourlyActivity";
import { reconcile } from "../../sandbox/reconciliation";
import { renderReport } from "../../sandbox/report";
import { readRenderedReport } from "./reportInBrowser";

const rows: HourlyActivityRow[] = [
  { hour: "2026-11-26T10", product_id: "P000001", visits: 120, cart_adds: 6 },
  { hour: "2026-11-26T10", product_id: "P000002", visits: 40, cart_adds: 1 },
  { hour: "2026-11-26T11", product_id: "P000001", visits: 90, cart_adds: 4 },
  { hour: "2026-11-26T11", product_id: "P000003", visits: 75, cart_adds: 0 },
  { hour: "2026-11-26T12", product_id: "P000002", visits: 10, cart_adds: 2 },
];

let browser: Browser;
beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
});

async function textOf(url: string, selector: string): Promise<string | null> {
  const page = await browser.newPage();
  await page.goto(url);
  const text = await page.textContent(selector);
  await page.close();
  return text;
}

const total = (r: HourlyActivityRow[]) => r.reduce((n, x) => n + x.visits + x.cart_adds, 0);

function writeReport(actual: HourlyActivityRow[], health?: Health): string {
  const dir = mkdtempSync(join(tmpdir(), "report-"));
  const file = join(dir, "report.html");
  writeFileSync(
    file,
    renderReport({
      generatedAt: "2026-11-26T13:00:00Z",
      table: "local.weblogs.hourly_activity",
      hours: totalsPerHour(actual),
      topProducts: topProducts(actual, 10),
      reconciliation: reconcile(rows, actual, { duplicatesSent: 4, rawRows: total(actual) + 4, distinctEventIds: total(actual) }),
      quarantined: 7,
      stageSeconds: [{ stage: "kafka", seconds: 3.2 }],
      health,
    }),
  );
  return file;
}

test("the charts show visits and cart additions per hour and the top products with the table's numbers", async () => {
  const page = await browser.newPage();
  const shown = await readRenderedReport(page, pathToFileURL(writeReport(rows)).href);
  await page.close();
  expect(shown.visitsPerHour).toEqual([
    { label: "11-26 10:00", value: 160, text: "160" },
    { label: "11-26 11:00", value: 165, text: "165" },
    { label: "11-26 12:00", value: 10, text: "10" },
  ]);
  expect(shown.cartAddsPerHour.map((b) => [b.label, b.value, b.text])).toEqual([
    ["11-26 10:00", 7, "7"],
    ["11-26 11:00", 4, "4"],
    ["11-26 12:00", 2, "2"],
  ]);
  expect(shown.topProducts.map((b) => [b.label, b.value, b.text])).toEqual([
    ["P000001", 210, "210 visits · 10 cart adds"],
    ["P000003", 75, "75 visits · 0 cart adds"],
    ["P000002", 50, "50 visits · 3 cart adds"],
  ]);
  // bar heights as drawn are proportional to the values: the tallest is the largest hour
  expect(shown.visitsBarHeights[1]).toBeGreaterThan(shown.visitsBarHeights[0]);
  expect(shown.visitsBarHeights[2]).toBeGreaterThan(0);
  expect(shown.visitsBarHeights[2]).toBeLessThan(shown.visitsBarHeights[0] / 10);
  expect(shown.verdict).toMatch(/all 3 hours match/);
  expect(await textOf(pathToFileURL(writeReport(rows)).href, "#duplicates")).toBe(
    "Repeated deliveries (same event_id): 4 sent, 4 received into raw, 4 left out of the table: each entry counted once.");
  expect(shown.externalRequests).toEqual([]);
});

test("a report whose table differs from the ground truth says so in red", async () => {
  const page = await browser.newPage();
  const shown = await readRenderedReport(page, pathToFileURL(writeReport(rows.slice(1))).href);
  await page.close();
  expect(shown.verdict).toMatch(/FAILED: 1 of 3 hours differ/);
  expect(shown.visitsPerHour[0].value).toBe(40);
});

test("the Health section shows the dashboard's figures per hour, the loader's counts and where the other quarantined entries went", async () => {
  const health: Health = {
    maxQuarantineShare: 0.05,
    runnerStartupSeconds: [30],
    hours: [
      { hour: "2026-11-26T10", rows: 950, quarantined: 50, quarantineShare: 0.05, quarantineAlert: false, runs: [{ runId: "a", ok: true, seconds: 12.5 }, { runId: "b", ok: false, seconds: 10 }], filesLoaded: 2, rowsLoaded: 466, freshnessSeconds: 7260 },
      { hour: "2026-11-26T11", rows: 900, quarantined: 100, quarantineShare: 0.1, quarantineAlert: true, runs: [{ runId: "c", ok: true, seconds: 7.5 }], filesLoaded: 1, rowsLoaded: 240, freshnessSeconds: 3665 },
      { hour: "2026-11-26T12", rows: null, quarantined: null, quarantineShare: null, quarantineAlert: false, runs: [], filesLoaded: 0, rowsLoaded: 0, freshnessSeconds: null },
    ],
    loader: { invocations: 6, loadedLines: 3, rowsLoaded: 706, rejectedFiles: 1, errorLines: 2 },
  };
  const page = await browser.newPage();
  await page.goto(pathToFileURL(writeReport(rows, health)).href);
  const cells = await page.$$eval("#health tr[data-hour]", (trs) => trs.map((tr) => [tr.className, ...[...tr.querySelectorAll("td")].map((td) => td.textContent)]));
  const header = await page.$$eval("#health th", (ths) => ths.map((th) => th.textContent));
  const bars = await page.$$eval("#raw-entries-per-hour rect.bar", (rects) => rects.map((r) => Number(r.getAttribute("data-value"))));
  const loader = await page.textContent("#loader-health");
  const note = await page.textContent("#quarantine-hours");
  await page.close();
  expect(header).toEqual(["hour (UTC)", "entries into raw", "quarantined", "quarantine share (alert over 0.05)", "weblog_hourly runs",
    "weblog_hourly run duration", "hourly files loaded", "rows loaded", "freshness: hour end to first load"]);
  expect(cells).toEqual([
    ["ok", "2026-11-26T10:00", "950", "50", "5.00 %", "1 succeeded, 1 failed", "12.5 s, 10.0 s", "2", "466", "2 h 01 min"],
    ["bad", "2026-11-26T11:00", "900", "100", "10.00 % (alert)", "1 succeeded", "7.5 s", "1", "240", "1 h 01 min"],
    ["ok", "2026-11-26T12:00", "\u2013", "\u2013", "\u2013", "0", "\u2013", "0", "0", "\u2013"],
  ]);
  expect(bars).toEqual([950, 900, 0]);
  expect(loader).toBe("Loader: 6 invocations, 3 \u201cloaded\u201d lines (706 rows), 1 rejected files, 2 ERROR lines.");
  // The report's total (7) differs from the 150 of the hours shown.
  expect(note).toMatch(/^7 entries were quarantined in all, 150 of them in the hours above/);
});
