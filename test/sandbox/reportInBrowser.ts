// Reads back what Chromium actually rendered of a sandbox report: each chart's bars (label, value,
// visible number, drawn size) and the verdict; records any request that leaves the page's own file.
import { Page } from "playwright-core";

export interface RenderedBar {
  label: string;
  value: number;
  text: string;
}

export interface RenderedReport {
  visitsPerHour: RenderedBar[];
  cartAddsPerHour: RenderedBar[];
  topProducts: RenderedBar[];
  visitsBarHeights: number[];
  verdict: string;
  externalRequests: string[];
}

export async function readRenderedReport(page: Page, url: string, screenshot?: string): Promise<RenderedReport> {
  const externalRequests: string[] = [];
  page.on("request", (r) => {
    if (r.url() !== url) externalRequests.push(r.url());
  });
  await page.goto(url, { waitUntil: "load" });
  const bars = (chart: string) =>
    page.$$eval(`#${chart} rect.bar`, (rects) =>
      rects.map((r) => {
        const box = r.getBoundingClientRect();
        const text = r.nextElementSibling?.textContent ?? "";
        return {
          label: r.getAttribute("data-label") ?? "",
          value: Number(r.getAttribute("data-value")),
          text,
          height: box.height,
          width: box.width,
        };
      }),
    );
  const visits = await bars("visits-per-hour");
  const carts = await bars("cart-adds-per-hour");
  const products = await bars("top-products");
  for (const b of [...visits, ...carts, ...products]) {
    if (b.value > 0 && (b.width <= 0 || b.height <= 0)) throw new Error(`bar ${b.label} (${b.value}) was not drawn`);
  }
  const verdict = await page.textContent("#verdict");
  if (screenshot) await page.screenshot({ path: screenshot, fullPage: true });
  const strip = ({ label, value, text }: RenderedBar) => ({ label, value, text });
  return {
    visitsPerHour: visits.map(strip),
    cartAddsPerHour: carts.map(strip),
    topProducts: products.map(strip),
    visitsBarHeights: visits.map((b) => b.height),
    verdict: verdict ?? "",
    externalRequests,
  };
}
