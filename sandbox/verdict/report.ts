// The sandbox's HTML report: the dashboard of the original design (visits and cart additions per hour,
// top products) as one self-contained page. Hand-made SVG, no scripts, no external resources: the page
// must render offline, and opening it from disk must need nothing but a browser.
import { DAG_ID } from "../../contract/logLines";
import { Health } from "./health";
import { HourShown, ProductTotals } from "./hourlyActivity";
import { formatDuplicates, Reconciliation } from "./reconciliation";
import { Bar, columnChart, escapeHtml, productChart } from "./reportCharts";
import { formatAccount, TrafficAccount } from "./trafficAccount";

export interface ReportData {
  generatedAt: string;
  table: string;
  /** every hour the table holds or a run was made for, with what became of it */
  hours: HourShown[];
  topProducts: ProductTotals[];
  /** against the generator's ground truth; none for traffic of the user's own */
  reconciliation?: Reconciliation;
  /** where the user's own traffic went, when there is no ground truth */
  account?: TrafficAccount;
  quarantined?: number;
  stageSeconds: { stage: string; seconds: number }[];
  health?: Health;
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

/** The dashboard's figures per hour, named as its charts and alerts name them; a failed or quiet hour says so. */
function healthSection(h: Health, shown: readonly HourShown[], quarantinedInAll?: number): string {
  const none = "&ndash;";
  const outcomes = new Map(shown.map((x) => [x.hour, x]));
  const outcomeCell = (x: HourShown | undefined) =>
    !x
      ? "not run yet"
      : x.outcome === "failed"
        ? `failed: ${escapeHtml(x.error ?? "the run failed")}`
        : x.outcome === "quiet"
          ? "quiet: loaded, no entries"
          : x.outcome === "waiting"
            ? "not loaded yet"
            : "loaded";
  const rows = h.hours
    .map((x) => {
      const share =
        x.quarantineShare === null
          ? none
          : `${(x.quarantineShare * 100).toFixed(2)} %${x.quarantineAlert ? " (alert)" : ""}`;
      const failed = x.runs.filter((r) => !r.ok).length;
      const runs =
        x.runs.length === 0 ? "0" : `${x.runs.length - failed} succeeded${failed ? `, ${failed} failed` : ""}`;
      const seconds =
        x.runs.length === 0
          ? none
          : x.runs.map((r) => (r.seconds === null ? "?" : `${r.seconds.toFixed(1)} s`)).join(", ");
      const outcome = outcomes.get(x.hour);
      const bad = x.quarantineAlert || outcome?.outcome === "failed";
      return (
        `<tr class="${bad ? "bad" : "ok"}" data-hour="${x.hour}"><td>${x.hour}:00</td>` +
        `<td class="rows">${x.rows ?? none}</td><td class="quarantined">${x.quarantined ?? none}</td><td class="quarantine-share">${share}</td>` +
        `<td class="runs">${runs}</td><td class="run-seconds">${seconds}</td>` +
        `<td class="files-loaded">${x.filesLoaded}</td><td class="rows-loaded">${x.rowsLoaded}</td>` +
        `<td class="freshness">${x.freshnessSeconds === null ? none : duration(x.freshnessSeconds)}</td><td class="outcome">${outcomeCell(outcome)}</td></tr>`
      );
    })
    .join("\n");
  const l = h.loader;
  const perHour = h.hours.reduce((a, x) => a + (x.quarantined ?? 0), 0);
  const quarantineNote =
    quarantinedInAll !== undefined && quarantinedInAll !== perHour
      ? `<p class="note" id="quarantine-hours">${quarantinedInAll} entries were quarantined in all, ${perHour} of them in the hours above: the streaming job files a rejected entry under its event hour when its event time parses within the bounds, else under the hour it reached Kafka, which in a simulated run is the current hour, not a simulated one.</p>`
      : "";
  const rawBars = h.hours.map((x): Bar => {
    const o = outcomes.get(x.hour)?.outcome;
    return {
      label: hourLabel(x.hour),
      value: x.rows ?? 0,
      outcome: o === "failed" ? "failed" : x.rows === null ? "waiting" : x.rows === 0 ? "quiet" : undefined,
    };
  });
  return (
    `<h2 id="health-title">Health: the deployed dashboard's figures</h2>
<p class="meta">Computed as the Cloud Monitoring dashboard and alerts compute them, from the same log lines (contract/log-lines.json), the hourly runner's results and the load lineage table.</p>
<div class="charts">${columnChart("raw-entries-per-hour", "Entries into raw per completed hour", rawBars, "#59a14f", "entries")}</div>
<table id="health"><tr><th>hour (UTC)</th><th>entries into raw</th><th>quarantined</th><th>quarantine share (alert over ${h.maxQuarantineShare})</th>` +
    `<th>${DAG_ID} runs</th><th>${DAG_ID} run duration</th><th>hourly files loaded</th><th>rows loaded</th><th>freshness: hour end to first load (sandbox time)</th><th>outcome</th></tr>
${rows}</table>
<p id="loader-health">Loader: <b class="invocations">${l.invocations}</b> invocations, <b class="loaded-lines">${l.loadedLines}</b> &ldquo;loaded&rdquo; lines (<span class="rows-loaded">${l.rowsLoaded}</span> rows), <b class="rejected-files">${l.rejectedFiles}</b> rejected files, <b class="error-lines">${l.errorLines}</b> ERROR lines.</p>
<p class="note">Freshness runs on the sandbox clock, from the hour's end to the loader's first acceptance of its file; in the cloud, the alert &ldquo;no hour loaded for freshnessMinutes&rdquo; fires when no file loads for that long. The start-up hours of a run lie in the past, so for them freshness is mostly their age when the run loaded them, not a delay of the pipeline.</p>
${quarantineNote}`
  );
}

/** The banner: red when any hour failed; with ground truth, the reconciliation's verdict. */
function banner(d: ReportData, failed: readonly HourShown[]): string {
  const failures = failed.length
    ? `<div class="verdict bad" id="failed-hours"><p>${failed.length} of ${d.hours.length} ${d.hours.length === 1 ? "hour" : "hours"} failed and ${failed.length === 1 ? "was" : "were"} not published:</p><ul>${failed
        .map((h) => `<li data-hour="${h.hour}">${h.hour}:00: ${escapeHtml(h.error ?? "the run failed")}</li>`)
        .join("")}</ul></div>`
    : "";
  const r = d.reconciliation;
  if (!r) return failures;
  const differing = r.hours.filter((h) => !h.matches).length;
  const text = r.matches
    ? `Reconciled: ${r.hours.length === 1 ? "the 1 hour matches" : `all ${r.hours.length} hours match`} the generator's ground truth exactly${failed.length ? ", but not the failed hours below" : ""}.`
    : differing === 0 && r.hours.length > 0
      ? "Reconciliation FAILED: the repeated deliveries do not add up."
      : `Reconciliation FAILED: ${differing} of ${r.hours.length} hours differ from the generator's ground truth.`;
  return `<p class="verdict ${r.matches && !failed.length ? "ok" : "bad"}" id="verdict">${escapeHtml(text)}</p>\n${failures}`;
}

function reconciliationSection(r: Reconciliation, failed: readonly HourShown[]): string {
  const reconciled = new Set(r.hours.map((h) => h.hour));
  const recRows = [
    ...r.hours.map(
      (h) =>
        `<tr class="${h.matches ? "ok" : "bad"}" data-hour="${h.hour}"><td>${h.hour}:00</td><td>${h.expected.visits}</td><td>${h.actual.visits}</td><td>${h.expected.cartAdds}</td><td>${h.actual.cartAdds}</td><td>${h.matches ? "exact" : "differs"}</td></tr>`,
    ),
    ...failed
      .filter((h) => !reconciled.has(h.hour))
      .map(
        (h) =>
          `<tr class="bad" data-hour="${h.hour}"><td>${h.hour}:00</td><td colspan="4">&ndash;</td><td>failed: not published</td></tr>`,
      ),
  ].join("\n");
  return `<h2>Reconciliation against the generator's ground truth</h2>
<table id="reconciliation"><tr><th>hour (UTC)</th><th>visits expected</th><th>visits loaded</th><th>cart adds expected</th><th>cart adds loaded</th><th>result</th></tr>
${recRows}</table>`;
}

function accountSection(a: TrafficAccount): string {
  return `<h2>Account of your traffic</h2>
<p class="meta">No ground truth: the entries are your own, so nothing is reconciled. Where every line went:</p>
<p id="account">${escapeHtml(formatAccount(a))}</p>
<table id="account-figures"><tr><th>lines in</th><th>into raw</th><th>quarantined</th><th>ignored</th><th>raw entries of loaded hours</th><th>counted in the table</th><th>repeated deliveries</th></tr>
<tr><td class="lines-in">${a.linesIn}</td><td class="into-raw">${a.intoRaw}</td><td class="quarantined">${a.quarantined}</td><td class="ignored">${a.ignored}</td><td class="raw-of-loaded">${a.rawOfLoaded}</td><td class="counted">${a.counted}</td><td class="repeated">${a.repeated}</td></tr></table>`;
}

export function renderReport(d: ReportData): string {
  const failed = d.hours.filter((h) => h.outcome === "failed");
  const duplicatesLine = formatDuplicates(d.reconciliation?.duplicates);
  const duplicates = duplicatesLine
    ? `<p id="duplicates">${escapeHtml(duplicatesLine[0].toUpperCase() + duplicatesLine.slice(1))}.</p>`
    : "";
  const stages = d.stageSeconds.length
    ? `<h2>Stage times</h2>\n<table id="stages">${d.stageSeconds.map((s) => `<tr><td>${escapeHtml(s.stage)}</td><td>${s.seconds.toFixed(1)} s</td></tr>`).join("\n")}</table>`
    : "";
  const quarantine =
    d.quarantined === undefined
      ? ""
      : `<p id="quarantined">Malformed entries quarantined by the streaming job: <b>${d.quarantined}</b></p>`;
  const perHour = (value: (h: HourShown) => number) =>
    d.hours.map((h): Bar => ({
      label: hourLabel(h.hour),
      value: value(h),
      outcome: h.outcome === "loaded" ? undefined : h.outcome,
    }));
  const productsNote = failed.length
    ? `<p class="note" id="products-note">The top products leave out the ${failed.length} failed ${failed.length === 1 ? "hour" : "hours"}, which the table does not hold.</p>`
    : "";
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Clickstream sandbox report</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222;max-width:1360px}
h1{font-size:20px;margin:0 0 4px}.meta{color:#666;margin:0 0 12px}
.charts{display:flex;flex-wrap:wrap;gap:16px}figure{margin:0;border:1px solid #ddd;border-radius:6px;padding:8px}
figcaption{font-weight:600;margin-bottom:4px}svg text{font-size:12px;fill:#333}svg text.failed{fill:#c0392b;font-weight:600}
svg text.tick,svg text.axis-title{fill:#666}
.verdict{padding:8px 12px;border-radius:6px;font-weight:600}.ok.verdict{background:#e3f4e1}.bad.verdict{background:#fbe2e2}
.verdict p,.verdict ul{margin:0}
table{border-collapse:collapse;margin-top:8px}td,th{border:1px solid #ddd;padding:3px 8px;text-align:right}
tr.bad td{background:#fbe2e2}td.outcome{text-align:left}.note{color:#555;max-width:900px}
</style></head><body>
<h1>Clickstream sandbox: hourly activity</h1>
<p class="meta">Table <code>${escapeHtml(d.table)}</code> · generated ${escapeHtml(d.generatedAt)}</p>
${banner(d, failed)}
${quarantine}
${duplicates}
<div class="charts">
${columnChart(
  "visits-per-hour",
  "Product-page visits per hour (UTC)",
  perHour((h) => h.visits),
  "#4e79a7",
  "visits",
)}
${columnChart(
  "cart-adds-per-hour",
  "Cart additions per hour (UTC)",
  perHour((h) => h.cartAdds),
  "#f28e2b",
  "cart additions",
)}
${productChart("top-products", `Top ${d.topProducts.length} products by visits`, d.topProducts)}
</div>
${productsNote}
${d.reconciliation ? reconciliationSection(d.reconciliation, failed) : ""}
${d.account ? accountSection(d.account) : ""}
${d.health ? healthSection(d.health, d.hours, d.quarantined) : ""}
${stages}
</body></html>
`;
}
