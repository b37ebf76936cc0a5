// The HTML report opened in real headless Chromium: the charts render with the numbers of the table.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { Browser } from "playwright-core";
import { launchChromium } from "../../sandbox/browser";
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

function writeReport(actual: HourlyActivityRow[]): string {
  const dir = mkdtempSync(join(tmpdir(), "report-"));
  const file = join(dir, "report.html");
  writeFileSync(
    file,
    renderReport({
      generatedAt: "2026-11-26T13:00:00Z",
      table: "local.weblogs.hourly_activity",
      hours: totalsPerHour(actual),
      topProducts: topProducts(actual, 10),
      reconciliation: reconcile(rows, actual),
      quarantined: 7,
      stageSeconds: [{ stage: "kafka", seconds: 3.2 }],
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
  expect(shown.externalRequests).toEqual([]);
});

test("a report whose table differs from the ground truth says so in red", async () => {
  const page = await browser.newPage();
  const shown = await readRenderedReport(page, pathToFileURL(writeReport(rows.slice(1))).href);
  await page.close();
  expect(shown.verdict).toMatch(/FAILED: 1 of 3 hours differ/);
  expect(shown.visitsPerHour[0].value).toBe(40);
});
