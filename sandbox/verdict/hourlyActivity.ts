// The sandbox's view of the hourly aggregate: rows as the BigQuery table holds them, and the totals
// derived from them for the printed table, the report and the reconciliation.

/** One row of the hourly table; `hour` is "YYYY-MM-DDTHH" (UTC), the contract's hourOf format. */
export interface HourlyActivityRow {
  hour: string;
  product_id: string;
  visits: number;
  cart_adds: number;
}

export interface HourTotals {
  hour: string;
  visits: number;
  cartAdds: number;
}

export interface ProductTotals {
  productId: string;
  visits: number;
  cartAdds: number;
}

/** "2026-11-26 15:00:00", "2026-11-26T15:00:00.000Z" or "2026-11-26T15" -> "2026-11-26T15". */
export function hourKey(value: string): string {
  const m = /^(\d{4}-\d{2}-\d{2})[T ](\d{2})/.exec(value);
  if (!m) throw new Error(`not an hour: ${JSON.stringify(value)}`);
  return `${m[1]}T${m[2]}`;
}

/** Visits and cart additions summed over the rows that share a key, e.g. the hour or the product. */
export function sumBy(
  rows: readonly HourlyActivityRow[],
  key: (r: HourlyActivityRow) => string,
): Map<string, { visits: number; cartAdds: number }> {
  const sums = new Map<string, { visits: number; cartAdds: number }>();
  for (const r of rows) {
    const s = sums.get(key(r)) ?? { visits: 0, cartAdds: 0 };
    s.visits += r.visits;
    s.cartAdds += r.cart_adds;
    sums.set(key(r), s);
  }
  return sums;
}

export function totalsPerHour(rows: readonly HourlyActivityRow[]): HourTotals[] {
  return [...sumBy(rows, (r) => r.hour)]
    .map(([hour, s]) => ({ hour, ...s }))
    .sort((a, b) => a.hour.localeCompare(b.hour));
}

/** Products ranked by visits over all hours (ties by cart additions, then id, so the order is stable). */
export function topProducts(rows: readonly HourlyActivityRow[], limit: number): ProductTotals[] {
  return [...sumBy(rows, (r) => r.product_id)]
    .map(([productId, s]) => ({ productId, ...s }))
    .sort((a, b) => b.visits - a.visits || b.cartAdds - a.cartAdds || a.productId.localeCompare(b.productId))
    .slice(0, limit);
}

/**
 * What became of an hour, as every chart and table of the report shows it: loaded with entries, loaded
 * with none (a quiet hour), not published because its latest run failed (with the run's error, which
 * names each failed check with its value and limit), or not loaded yet.
 */
export type HourOutcome = "loaded" | "quiet" | "failed" | "waiting";

export interface HourShown extends HourTotals {
  outcome: HourOutcome;
  error?: string;
}

/** The latest run of an hour, as the scheduler recorded it. */
export interface LatestRun {
  hour: string;
  ok: boolean;
  error?: string;
}

/**
 * Every hour the table holds or a run was made for, oldest first. `loaded`: the hours whose latest
 * published run reached the table (a quiet hour loads a file of no rows, so it is loaded and holds none).
 */
export function hoursShown(
  rows: readonly HourlyActivityRow[],
  latestRuns: readonly LatestRun[],
  loaded: ReadonlySet<string>,
): HourShown[] {
  const totals = new Map(totalsPerHour(rows).map((t) => [t.hour, t]));
  const runs = new Map(latestRuns.map((r) => [r.hour, r]));
  const hours = [...new Set([...totals.keys(), ...runs.keys()])].sort();
  return hours.map((hour): HourShown => {
    const t = totals.get(hour) ?? { hour, visits: 0, cartAdds: 0 };
    const run = runs.get(hour);
    if (run && !run.ok) return { ...t, outcome: "failed", error: run.error };
    if (totals.has(hour)) return { ...t, outcome: "loaded" };
    return { ...t, outcome: loaded.has(hour) ? "quiet" : "waiting" };
  });
}
