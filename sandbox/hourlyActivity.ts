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
export function sumBy(rows: readonly HourlyActivityRow[], key: (r: HourlyActivityRow) => string): Map<string, { visits: number; cartAdds: number }> {
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
  return [...sumBy(rows, (r) => r.hour)].map(([hour, s]) => ({ hour, ...s })).sort((a, b) => a.hour.localeCompare(b.hour));
}

/** Products ranked by visits over all hours (ties by cart additions, then id, so the order is stable). */
export function topProducts(rows: readonly HourlyActivityRow[], limit: number): ProductTotals[] {
  return [...sumBy(rows, (r) => r.product_id)]
    .map(([productId, s]) => ({ productId, ...s }))
    .sort((a, b) => b.visits - a.visits || b.cartAdds - a.cartAdds || a.productId.localeCompare(b.productId))
    .slice(0, limit);
}
