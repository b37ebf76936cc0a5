// The HTML report opened in real headless Chromium: the charts render with the numbers of the table.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { Browser } from "playwright-core";
import { launchChromium } from "../../sandbox/verdict/browser";
import { Health } from "../../sandbox/verdict/health";
import { HourlyActivityRow, hoursShown, LatestRun, topProducts } from "../../sandbox/verdict/hourlyActivity";
import { reconcile } from "../../sandbox/verdict/reconciliation";
import { ReportData, renderReport } from "../../sandbox/verdict/report";
import { axisTicks } from "../../sandbox/verdict/reportCharts";
import { trafficAccount } from "../../sandbox/verdict/trafficAccount";
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

function writeReport(actual: HourlyActivityRow[], health?: Health, changes: Partial<ReportData> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), "report-"));
  const file = join(dir, "report.html");
  writeFileSync(
    file,
    renderReport({
      generatedAt: "2026-11-26T13:00:00Z",
      table: "local.weblogs.hourly_activity",
      hours: hoursShown(actual, [], new Set(actual.map((r) => r.hour))),
      topProducts: topProducts(actual, 10),
      reconciliation: reconcile(rows, actual, {
        duplicatesSent: 4,
        rawRows: total(actual) + 4,
        distinctEventIds: total(actual),
      }),
      quarantined: 7,
      stageSeconds: [{ stage: "kafka", seconds: 3.2 }],
      health,
      ...changes,
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
    "Repeated deliveries (same event_id): 4 sent, 4 received into raw, 4 left out of the table: each entry counted once.",
  );
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
      {
        hour: "2026-11-26T10",
        rows: 950,
        quarantined: 50,
        quarantineShare: 0.05,
        quarantineAlert: false,
        runs: [
          { runId: "a", ok: true, seconds: 12.5 },
          { runId: "b", ok: false, seconds: 10 },
        ],
        filesLoaded: 2,
        rowsLoaded: 466,
        freshnessSeconds: 7260,
      },
      {
        hour: "2026-11-26T11",
        rows: 900,
        quarantined: 100,
        quarantineShare: 0.1,
        quarantineAlert: true,
        runs: [{ runId: "c", ok: true, seconds: 7.5 }],
        filesLoaded: 1,
        rowsLoaded: 240,
        freshnessSeconds: 3665,
      },
      {
        hour: "2026-11-26T12",
        rows: null,
        quarantined: null,
        quarantineShare: null,
        quarantineAlert: false,
        runs: [],
        filesLoaded: 0,
        rowsLoaded: 0,
        freshnessSeconds: null,
      },
    ],
    loader: { invocations: 6, loadedLines: 3, rowsLoaded: 706, rejectedFiles: 1, errorLines: 2 },
  };
  const page = await browser.newPage();
  await page.goto(pathToFileURL(writeReport(rows, health)).href);
  const cells = await page.$$eval("#health tr[data-hour]", (trs) =>
    trs.map((tr) => [tr.className, ...[...tr.querySelectorAll("td")].map((td) => td.textContent)]),
  );
  const header = await page.$$eval("#health th", (ths) => ths.map((th) => th.textContent));
  const bars = await page.$$eval("#raw-entries-per-hour rect.bar", (rects) =>
    rects.map((r) => Number(r.getAttribute("data-value"))),
  );
  const loader = await page.textContent("#loader-health");
  const note = await page.textContent("#quarantine-hours");
  await page.close();
  expect(header).toEqual([
    "hour (UTC)",
    "entries into raw",
    "quarantined",
    "quarantine share (alert over 0.05)",
    "weblog_hourly runs",
    "weblog_hourly run duration",
    "hourly files loaded",
    "rows loaded",
    "freshness: hour end to first load (sandbox time)",
    "outcome",
  ]);
  expect(cells).toEqual([
    [
      "ok",
      "2026-11-26T10:00",
      "950",
      "50",
      "5.00 %",
      "1 succeeded, 1 failed",
      "12.5 s, 10.0 s",
      "2",
      "466",
      "2 h 01 min",
      "loaded",
    ],
    [
      "bad",
      "2026-11-26T11:00",
      "900",
      "100",
      "10.00 % (alert)",
      "1 succeeded",
      "7.5 s",
      "1",
      "240",
      "1 h 01 min",
      "loaded",
    ],
    ["ok", "2026-11-26T12:00", "\u2013", "\u2013", "\u2013", "0", "\u2013", "0", "0", "\u2013", "loaded"],
  ]);
  expect(bars).toEqual([950, 900, 0]);
  expect(loader).toBe("Loader: 6 invocations, 3 \u201cloaded\u201d lines (706 rows), 1 rejected files, 2 ERROR lines.");
  // The report's total (7) differs from the 150 of the hours shown.
  expect(note).toMatch(/^7 entries were quarantined in all, 150 of them in the hours above/);
});

// Hours 10 and 12 loaded; 11 failed its checks (the table holds none of it); 13 loaded a quiet hour's empty file.
const FAILED_CHECK =
  "data-quality check failed: the quarantined share of the hour is within its limit: 0.2632 (26 of 99 entries quarantined), limit at most 0.05";
const latest: LatestRun[] = [
  { hour: "2026-11-26T10", ok: true },
  { hour: "2026-11-26T11", ok: false, error: FAILED_CHECK },
  { hour: "2026-11-26T12", ok: true },
  { hour: "2026-11-26T13", ok: true },
];
const withoutHour11 = rows.filter((r) => r.hour !== "2026-11-26T11");
const shownHours = hoursShown(withoutHour11, latest, new Set(["2026-11-26T10", "2026-11-26T12", "2026-11-26T13"]));
const healthOfHours: Health = {
  maxQuarantineShare: 0.05,
  runnerStartupSeconds: [],
  hours: [
    {
      hour: "2026-11-26T10",
      rows: 170,
      quarantined: 0,
      quarantineShare: 0,
      quarantineAlert: false,
      runs: [],
      filesLoaded: 1,
      rowsLoaded: 2,
      freshnessSeconds: 30,
    },
    {
      hour: "2026-11-26T11",
      rows: 73,
      quarantined: 26,
      quarantineShare: 26 / 99,
      quarantineAlert: true,
      runs: [],
      filesLoaded: 0,
      rowsLoaded: 0,
      freshnessSeconds: null,
    },
    {
      hour: "2026-11-26T12",
      rows: 14,
      quarantined: 0,
      quarantineShare: 0,
      quarantineAlert: false,
      runs: [],
      filesLoaded: 1,
      rowsLoaded: 1,
      freshnessSeconds: 40,
    },
    {
      hour: "2026-11-26T13",
      rows: 0,
      quarantined: 0,
      quarantineShare: null,
      quarantineAlert: false,
      runs: [],
      filesLoaded: 0,
      rowsLoaded: 0,
      freshnessSeconds: null,
    },
  ],
  loader: { invocations: 3, loadedLines: 2, rowsLoaded: 3, rejectedFiles: 0, errorLines: 0 },
};

test("a failed hour and a quiet hour show as such in every chart and table, and the banner is red with the failed check's value and limit", async () => {
  const page = await browser.newPage();
  const shown = await readRenderedReport(
    page,
    pathToFileURL(
      writeReport(withoutHour11, healthOfHours, {
        hours: shownHours,
        reconciliation: reconcile(withoutHour11, withoutHour11),
      }),
    ).href,
  );
  const outcomes = (chart: string) =>
    page.$$eval(`#${chart} rect.bar`, (rects) =>
      rects.map((r) => [r.getAttribute("data-label"), r.getAttribute("data-outcome")]),
    );
  const visitsOutcomes = await outcomes("visits-per-hour");
  const rawOutcomes = await outcomes("raw-entries-per-hour");
  const bannerClass = await page.getAttribute("#failed-hours", "class");
  const banner = await page.textContent("#failed-hours");
  const verdictClass = await page.getAttribute("#verdict", "class");
  const healthOutcomes = await page.$$eval("#health tr[data-hour]", (trs) =>
    trs.map((tr) => [tr.className, tr.querySelector("td.outcome")?.textContent]),
  );
  const recRow = await page.$$eval('#reconciliation tr[data-hour="2026-11-26T11"] td', (tds) =>
    tds.map((td) => td.textContent),
  );
  await page.close();
  expect(shown.visitsPerHour.map((b) => [b.label, b.text])).toEqual([
    ["11-26 10:00", "160"],
    ["11-26 11:00", "failed"],
    ["11-26 12:00", "10"],
    ["11-26 13:00", "0 (quiet)"],
  ]);
  expect(shown.cartAddsPerHour.map((b) => b.text)).toEqual(["7", "failed", "2", "0 (quiet)"]);
  expect(visitsOutcomes.map((o) => o[1])).toEqual(["loaded", "failed", "loaded", "quiet"]);
  expect(rawOutcomes.map((o) => o[1])).toEqual(["loaded", "failed", "loaded", "quiet"]);
  expect(bannerClass).toBe("verdict bad");
  expect(banner).toContain(`1 of 4 hours failed and was not published:2026-11-26T11:00: ${FAILED_CHECK}`);
  // The loaded hours still match; the banner is red all the same.
  expect(verdictClass).toBe("verdict bad");
  expect(shown.verdict).toBe(
    "Reconciled: all 2 hours match the generator's ground truth exactly, but not the failed hours below.",
  );
  expect(healthOutcomes).toEqual([
    ["ok", "loaded"],
    ["bad", `failed: ${FAILED_CHECK}`],
    ["ok", "loaded"],
    ["ok", "quiet: loaded, no entries"],
  ]);
  expect(recRow).toEqual(["2026-11-26T11:00", "\u2013", "failed: not published"]);
});

test("with no ground truth the report gives the account of the traffic, and no verdict", async () => {
  const own = hoursShown(
    rows,
    rows.map((r) => ({ hour: r.hour, ok: true })),
    new Set(rows.map((r) => r.hour)),
  );
  const health: Health = {
    ...healthOfHours,
    hours: healthOfHours.hours
      .slice(0, 3)
      .map((h, i) => ({ ...h, rows: [171, 172, 14][i], quarantined: [1, 2, 0][i] })),
  };
  // 1000 access-log lines: 357 visits and cart additions into raw, 3 quarantined, 640 ignored; the table counts 348.
  const account = trafficAccount(health, own, { lines: 1000, visit: 338, cart_add: 19, ignored: 640, malformed: 3 });
  expect(account).toEqual({
    linesIn: 1000,
    intoRaw: 357,
    quarantined: 3,
    ignored: 640,
    loadedHours: 3,
    rawOfLoaded: 357,
    counted: 348,
    repeated: 9,
  });
  const page = await browser.newPage();
  await page.goto(
    pathToFileURL(writeReport(rows, health, { hours: own, reconciliation: undefined, account, quarantined: undefined }))
      .href,
  );
  const verdicts = await page.$$("#verdict, #failed-hours, #reconciliation, #duplicates");
  const text = await page.textContent("body");
  const figures = await page.$$eval("#account-figures td", (tds) => tds.map((td) => Number(td.textContent)));
  await page.close();
  expect(verdicts).toHaveLength(0);
  expect(text).not.toMatch(/MISMATCH|FAILED|differ|ground truth exactly/);
  expect(text).toContain("1000 lines in: 357 entries into raw, 3 quarantined, 640 ignored");
  expect(text).toContain(
    "Of the 357 raw entries of the 3 loaded hours, the table counts 348; 9 were repeated deliveries (same event_id), counted once.",
  );
  expect(figures).toEqual([1000, 357, 3, 640, 357, 348, 9]);
});

test("with JSON input the account's lines are the hours' raw and quarantined entries", () => {
  // Hour 12 ran but is not loaded yet: its 14 raw entries are in, not yet counted.
  const own = hoursShown(
    rows.filter((r) => r.hour !== "2026-11-26T12"),
    [latest[0], { hour: "2026-11-26T11", ok: true }, latest[2]],
    new Set(["2026-11-26T10", "2026-11-26T11"]),
  );
  expect(own.map((h) => h.outcome)).toEqual(["loaded", "loaded", "waiting"]);
  const health: Health = {
    ...healthOfHours,
    hours: healthOfHours.hours
      .slice(0, 3)
      .map((h, i) => ({ ...h, rows: [170, 172, 14][i], quarantined: [1, 2, 0][i] })),
  };
  expect(trafficAccount(health, own, null)).toEqual({
    linesIn: 359,
    intoRaw: 356,
    quarantined: 3,
    ignored: 0,
    loadedHours: 2,
    rawOfLoaded: 342,
    counted: 336,
    repeated: 6,
  });
});

test("every chart has a y axis with round ticks up to at least its largest value, and axis titles", async () => {
  expect(axisTicks(165)).toEqual([0, 50, 100, 150, 200]);
  expect(axisTicks(7)).toEqual([0, 2, 4, 6, 8]);
  expect(axisTicks(0)).toEqual([0, 1]);
  const page = await browser.newPage();
  await page.goto(pathToFileURL(writeReport(rows, healthOfHours)).href);
  const axes = await page.$$eval("figure", (figs) =>
    figs.map((f) => [
      f.id,
      [...f.querySelectorAll(".tick")].map((t) => t.textContent),
      [...f.querySelectorAll(".axis-title")].map((t) => t.textContent),
    ]),
  );
  await page.close();
  expect(axes).toEqual([
    ["visits-per-hour", ["0", "50", "100", "150", "200"], ["visits", "hour (UTC)"]],
    ["cart-adds-per-hour", ["0", "2", "4", "6", "8"], ["cart additions", "hour (UTC)"]],
    ["top-products", ["0", "100", "200", "300"], ["product-page visits, all hours"]],
    ["raw-entries-per-hour", ["0", "50", "100", "150", "200"], ["entries", "hour (UTC)"]],
  ]);
});

test("a report with no stage times prints no Stage times heading", async () => {
  const page = await browser.newPage();
  await page.goto(pathToFileURL(writeReport(rows, undefined, { stageSeconds: [] })).href);
  const headings = await page.$$eval("h2", (hs) => hs.map((h) => h.textContent));
  await page.close();
  expect(headings).not.toContain("Stage times");
  expect(await textOf(pathToFileURL(writeReport(rows)).href, "#stages")).toBe("kafka3.2 s");
});
