// The sandbox's HTML report: the dashboard of the original design (visits and cart additions per hour,
// top products) as one self-contained page. Hand-made SVG, no scripts, no external resources: the page
// must render offline, and opening it from disk must need nothing but a browser.
import { DAG_ID } from "../contract/logLines";
import { Health } from "./health";
import { HourTotals, ProductTotals } from "./hourlyActivity";
import { formatDuplicates, Reconciliation } from "./reconciliation";

export interface ReportData {
  generatedAt: string;
  table: string;
  hours: HourTotals[];
  topProducts: ProductTotals[];
  reconciliation: Reconciliation;
  quarantined?: number;
  stageSeconds: { stage: string; seconds: number }[];
  health?: Health;
}

interface Bar {
  label: string;
  value: number;
}

const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c] as string);

/** A vertical bar chart; every bar carries its value as data and as a visible label. */
function columnChart(id: string, title: string, bars: Bar[], color: string): string {
  const width = 640;
  const height = 260;
  const top = 24;
  const bottom = 40;
  const left = 16;
  const plotH = height - top - bottom;
  const max = Math.max(1, ...bars.map((b) => b.value));
  const slot = (width - 2 * left) / Math.max(1, bars.length);
  const barW = Math.min(80, slot * 0.7);
  const parts = bars.map((b, i) => {
    const h = Math.round((b.value / max) * plotH);
    const x = left + i * slot + (slot - barW) / 2;
    const y = top + plotH - h;
    return [
      `<rect class="bar" data-label="${escapeHtml(b.label)}" data-value="${b.value}" x="${x.toFixed(1)}" y="${y}" width="${barW.toFixed(1)}" height="${h}" fill="${color}"><title>${escapeHtml(b.label)}: ${b.value}</title></rect>`,
      `<text class="value" x="${(x + barW / 2).toFixed(1)}" y="${y - 6}" text-anchor="middle">${b.value}</text>`,
      `<text class="label" x="${(x + barW / 2).toFixed(1)}" y="${height - bottom + 18}" text-anchor="middle">${escapeHtml(b.label)}</text>`,
    ].join("");
  });
  return `<figure id="${id}"><figcaption>${escapeHtml(title)}</figcaption>
<svg role="img" aria-label="${escapeHtml(title)}" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}">
<line x1="${left}" y1="${top + plotH}" x2="${width - left}" y2="${top + plotH}" stroke="#888"/>${parts.join("\n")}</svg></figure>`;
}

/** Horizontal bars for the top products: visits, with cart additions beside each bar. */
function productChart(id: string, title: string, products: ProductTotals[]): string {
  const width = 640;
  const rowH = 26;
  const labelW = 110;
  const height = products.length * rowH + 10;
  const max = Math.max(1, ...products.map((p) => p.visits));
  const plotW = width - labelW - 190;
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
<svg role="img" aria-label="${escapeHtml(title)}" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}">${rows.join("\n")}</svg></figure>`;
}

const hourLabel = (h: string) => `${h.slice(5, 10)} ${h.slice(11, 13)}:00`;

/** "2 h 05 min", "4 min 10 s", "12 s"; negative when the event came first. */
function duration(seconds: number): string {
  const sign = seconds < 0 ? "-" : "";
  const s = Math.round(Math.abs(seconds));
  if (s >= 3600) return `${sign}${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, "0")} min`;
  if (s >= 60) return `${sign}${Math.floor(s / 60)} min ${s % 60} s`;
  return `${sign}${s} s`;
}

/** The dashboard's figures per hour, named as its charts and alerts name them. */
function healthSection(h: Health, quarantinedInAll?: number): string {
  const none = "&ndash;";
  const rows = h.hours
    .map((x) => {
      const share = x.quarantineShare === null ? none : `${(x.quarantineShare * 100).toFixed(2)} %${x.quarantineAlert ? " (alert)" : ""}`;
      const failed = x.runs.filter((r) => !r.ok).length;
      const runs = x.runs.length === 0 ? "0" : `${x.runs.length - failed} succeeded${failed ? `, ${failed} failed` : ""}`;
      const seconds = x.runs.length === 0 ? none : x.runs.map((r) => (r.seconds === null ? "?" : `${r.seconds.toFixed(1)} s`)).join(", ");
      return `<tr class="${x.quarantineAlert ? "bad" : "ok"}" data-hour="${x.hour}"><td>${x.hour}:00</td>` +
        `<td class="rows">${x.rows ?? none}</td><td class="quarantined">${x.quarantined ?? none}</td><td class="quarantine-share">${share}</td>` +
        `<td class="runs">${runs}</td><td class="run-seconds">${seconds}</td>` +
        `<td class="files-loaded">${x.filesLoaded}</td><td class="rows-loaded">${x.rowsLoaded}</td>` +
        `<td class="freshness">${x.freshnessSeconds === null ? none : duration(x.freshnessSeconds)}</td></tr>`;
    })
    .join("\n");
  const l = h.loader;
  const perHour = h.hours.reduce((a, x) => a + (x.quarantined ?? 0), 0);
  const quarantineNote =
    quarantinedInAll !== undefined && quarantinedInAll !== perHour
      ? `<p class="note" id="quarantine-hours">${quarantinedInAll} entries were quarantined in all, ${perHour} of them in the hours above: the streaming job files a rejected entry under its event hour when its event time parses within the bounds, else under the hour it reached Kafka, which in a simulated run is the current hour, not a simulated one.</p>`
      : "";
  return `<h2 id="health-title">Health: the deployed dashboard's figures</h2>
<p class="meta">Computed as the Cloud Monitoring dashboard and alerts compute them, from the same log lines (contract/log-lines.json), the hourly runner's results and the load lineage table.</p>
<div class="charts">${columnChart("raw-entries-per-hour", "Entries into raw per completed hour", h.hours.map((x) => ({ label: hourLabel(x.hour), value: x.rows ?? 0 })), "#59a14f")}</div>
<table id="health"><tr><th>hour (UTC)</th><th>entries into raw</th><th>quarantined</th><th>quarantine share (alert over ${h.maxQuarantineShare})</th>` +
    `<th>${DAG_ID} runs</th><th>${DAG_ID} run duration</th><th>hourly files loaded</th><th>rows loaded</th><th>freshness: hour end to first load</th></tr>
${rows}</table>
<p id="loader-health">Loader: <b class="invocations">${l.invocations}</b> invocations, <b class="loaded-lines">${l.loadedLines}</b> &ldquo;loaded&rdquo; lines (<span class="rows-loaded">${l.rowsLoaded}</span> rows), <b class="rejected-files">${l.rejectedFiles}</b> rejected files, <b class="error-lines">${l.errorLines}</b> ERROR lines.</p>
<p class="note">Freshness: in the cloud, the alert &ldquo;no hour loaded for freshnessMinutes&rdquo; fires when no file loads for that long. The hours of a simulated run lie in the past, so here freshness is mostly their age when the run loaded them, not a delay of the pipeline.</p>
${quarantineNote}`;
}

export function renderReport(d: ReportData): string {
  const differing = d.reconciliation.hours.filter((h) => !h.matches).length;
  const verdict = d.reconciliation.matches
    ? `<p class="verdict ok" id="verdict">Reconciled: ${d.reconciliation.hours.length === 1 ? "the 1 hour matches" : `all ${d.reconciliation.hours.length} hours match`} the generator's ground truth exactly.</p>`
    : differing === 0 && d.reconciliation.hours.length > 0
      ? `<p class="verdict bad" id="verdict">Reconciliation FAILED: the repeated deliveries do not add up.</p>`
      : `<p class="verdict bad" id="verdict">Reconciliation FAILED: ${differing} of ${d.reconciliation.hours.length} hours differ from the generator's ground truth.</p>`;
  const duplicatesLine = formatDuplicates(d.reconciliation.duplicates);
  const duplicates = duplicatesLine ? `<p id="duplicates">${escapeHtml(duplicatesLine[0].toUpperCase() + duplicatesLine.slice(1))}.</p>` : "";
  const recRows = d.reconciliation.hours
    .map(
      (h) =>
        `<tr class="${h.matches ? "ok" : "bad"}"><td>${h.hour}:00</td><td>${h.expected.visits}</td><td>${h.actual.visits}</td><td>${h.expected.cartAdds}</td><td>${h.actual.cartAdds}</td><td>${h.matches ? "exact" : "differs"}</td></tr>`,
    )
    .join("\n");
  const stages = d.stageSeconds.map((s) => `<tr><td>${escapeHtml(s.stage)}</td><td>${s.seconds.toFixed(1)} s</td></tr>`).join("\n");
  const quarantine =
    d.quarantined === undefined ? "" : `<p id="quarantined">Malformed entries quarantined by the streaming job: <b>${d.quarantined}</b></p>`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Clickstream sandbox report</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222;max-width:1360px}
h1{font-size:20px;margin:0 0 4px}.meta{color:#666;margin:0 0 12px}
.charts{display:flex;flex-wrap:wrap;gap:16px}figure{margin:0;border:1px solid #ddd;border-radius:6px;padding:8px}
figcaption{font-weight:600;margin-bottom:4px}svg text{font-size:12px;fill:#333}
.verdict{padding:8px 12px;border-radius:6px;font-weight:600}.ok.verdict{background:#e3f4e1}.bad.verdict{background:#fbe2e2}
table{border-collapse:collapse;margin-top:8px}td,th{border:1px solid #ddd;padding:3px 8px;text-align:right}
tr.bad td{background:#fbe2e2}.note{color:#555;max-width:900px}
</style></head><body>
<h1>Clickstream sandbox: hourly activity</h1>
<p class="meta">Table <code>${escapeHtml(d.table)}</code> · generated ${escapeHtml(d.generatedAt)}</p>
${verdict}
${quarantine}
${duplicates}
<div class="charts">
${columnChart("visits-per-hour", "Product-page visits per hour (UTC)", d.hours.map((h) => ({ label: hourLabel(h.hour), value: h.visits })), "#4e79a7")}
${columnChart("cart-adds-per-hour", "Cart additions per hour (UTC)", d.hours.map((h) => ({ label: hourLabel(h.hour), value: h.cartAdds })), "#f28e2b")}
${productChart("top-products", `Top ${d.topProducts.length} products by visits`, d.topProducts)}
</div>
<h2>Reconciliation against the generator's ground truth</h2>
<table id="reconciliation"><tr><th>hour (UTC)</th><th>visits expected</th><th>visits loaded</th><th>cart adds expected</th><th>cart adds loaded</th><th>result</th></tr>
${recRows}</table>
${d.health ? healthSection(d.health, d.quarantined) : ""}
<h2>Stage times</h2>
<table id="stages">${stages}</table>
</body></html>
`;
}
