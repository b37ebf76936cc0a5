// The report's two charts as hand-made SVG: a column per hour (a failed or waiting hour drawn as such,
// never as a zero) and a bar per top product, each with its axes and a title per bar.
import { HourOutcome, ProductTotals } from "./hourlyActivity";

export interface Bar {
  label: string;
  value: number;
  /** a failed or waiting hour has no value: drawn as such, never as a zero */
  outcome?: HourOutcome;
}

export const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c] as string);

/** Round tick values for an axis from 0 to at least `max`: 1, 2 or 5 times a power of ten apart. */
export function axisTicks(max: number, count = 4): number[] {
  if (max <= 0) return [0, 1];
  const raw = max / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw) as number;
  const ticks = [];
  for (let v = 0; v < max + step; v += step) ticks.push(Math.round(v * 1e9) / 1e9);
  return ticks;
}

const OUTCOME_TEXT: Record<HourOutcome, string> = {
  loaded: "",
  quiet: "0 (quiet)",
  failed: "failed",
  waiting: "not loaded yet",
};

/** A vertical bar chart with a y axis (ticks, title) and an x axis (hour labels, title); every bar carries its value as data and as a visible label. */
export function columnChart(id: string, title: string, bars: Bar[], color: string, yTitle: string): string {
  const width = 640;
  const height = 280;
  const top = 24;
  const bottom = 56;
  const left = 64;
  const right = 16;
  const plotH = height - top - bottom;
  const plotW = width - left - right;
  const ticks = axisTicks(Math.max(0, ...bars.map((b) => b.value)));
  const max = ticks[ticks.length - 1];
  const slot = plotW / Math.max(1, bars.length);
  const barW = Math.min(80, slot * 0.7);
  const base = top + plotH;
  const yAxis = ticks
    .map((t) => {
      const y = base - Math.round((t / max) * plotH);
      return `<line class="gridline" x1="${left}" y1="${y}" x2="${width - right}" y2="${y}" stroke="#eee"/><text class="tick" x="${left - 6}" y="${y + 4}" text-anchor="end">${t}</text>`;
    })
    .join("");
  const parts = bars.map((b, i) => {
    const missing = b.outcome === "failed" || b.outcome === "waiting";
    const h = missing ? plotH : Math.round((b.value / max) * plotH);
    const x = left + i * slot + (slot - barW) / 2;
    const y = base - h;
    const fill = b.outcome === "failed" ? "#f6d1d1" : b.outcome === "waiting" ? "#eeeeee" : color;
    const stroke = b.outcome === "failed" ? ` stroke="#c0392b" stroke-dasharray="4 3"` : "";
    const shown = b.outcome && OUTCOME_TEXT[b.outcome] ? OUTCOME_TEXT[b.outcome] : String(b.value);
    return [
      `<rect class="bar${b.outcome ? ` ${b.outcome}` : ""}" data-label="${escapeHtml(b.label)}" data-value="${missing ? "" : b.value}" data-outcome="${b.outcome ?? "loaded"}" x="${x.toFixed(1)}" y="${y}" width="${barW.toFixed(1)}" height="${h}" fill="${fill}"${stroke}><title>${escapeHtml(b.label)}: ${escapeHtml(shown)}</title></rect>`,
      `<text class="value${b.outcome === "failed" ? " failed" : ""}" x="${(x + barW / 2).toFixed(1)}" y="${missing ? top + plotH / 2 : y - 6}" text-anchor="middle">${escapeHtml(shown)}</text>`,
      `<text class="label" x="${(x + barW / 2).toFixed(1)}" y="${base + 18}" text-anchor="middle">${escapeHtml(b.label)}</text>`,
    ].join("");
  });
  return `<figure id="${id}"><figcaption>${escapeHtml(title)}</figcaption>
<svg role="img" aria-label="${escapeHtml(title)}" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}">
<g class="axis y">${yAxis}<line x1="${left}" y1="${top}" x2="${left}" y2="${base}" stroke="#888"/>
<text class="axis-title" transform="translate(14 ${top + plotH / 2}) rotate(-90)" text-anchor="middle">${escapeHtml(yTitle)}</text></g>
<g class="axis x"><line x1="${left}" y1="${base}" x2="${width - right}" y2="${base}" stroke="#888"/>
<text class="axis-title" x="${left + plotW / 2}" y="${height - 8}" text-anchor="middle">hour (UTC)</text></g>
${parts.join("\n")}</svg></figure>`;
}

/** Horizontal bars for the top products: visits, with cart additions beside each bar. */
export function productChart(id: string, title: string, products: ProductTotals[]): string {
  const width = 640;
  const rowH = 26;
  const labelW = 110;
  const plotBottom = products.length * rowH + 10;
  const height = plotBottom + 44;
  const ticks = axisTicks(Math.max(0, ...products.map((p) => p.visits)));
  const max = ticks[ticks.length - 1];
  const plotW = width - labelW - 190;
  const xAxis = ticks
    .map((t) => {
      const x = labelW + Math.round((t / max) * plotW);
      return `<line class="gridline" x1="${x}" y1="5" x2="${x}" y2="${plotBottom}" stroke="#eee"/><text class="tick" x="${x}" y="${plotBottom + 16}" text-anchor="middle">${t}</text>`;
    })
    .join("");
  const rows = products.map((p, i) => {
    const y = 5 + i * rowH;
    const w = Math.round((p.visits / max) * plotW);
    return [
      `<text class="label" x="${labelW - 8}" y="${y + 17}" text-anchor="end">${escapeHtml(p.productId)}</text>`,
      `<rect class="bar" data-label="${escapeHtml(p.productId)}" data-value="${p.visits}" data-cart-adds="${p.cartAdds}" x="${labelW}" y="${y + 3}" width="${w}" height="${rowH - 8}" fill="#4e79a7"><title>${escapeHtml(p.productId)}: ${p.visits} visits, ${p.cartAdds} cart additions</title></rect>`,
      `<text class="value" x="${labelW + w + 6}" y="${y + 17}">${p.visits} visits · ${p.cartAdds} cart adds</text>`,
    ].join("");
  });
  return `<figure id="${id}"><figcaption>${escapeHtml(title)}</figcaption>
<svg role="img" aria-label="${escapeHtml(title)}" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}">
<g class="axis x">${xAxis}<line x1="${labelW}" y1="${plotBottom}" x2="${labelW + plotW}" y2="${plotBottom}" stroke="#888"/>
<text class="axis-title" x="${labelW + plotW / 2}" y="${height - 6}" text-anchor="middle">product-page visits, all hours</text></g>
<g class="axis y"><line x1="${labelW}" y1="5" x2="${labelW}" y2="${plotBottom}" stroke="#888"/></g>
${rows.join("\n")}</svg></figure>`;
}
