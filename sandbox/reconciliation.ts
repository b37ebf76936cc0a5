// Compares what reached the BigQuery table with the generator's ground truth: every hour, and every
// product within it, must match exactly. Counts in equal counts out; no tolerance.
import { HourlyActivityRow, HourTotals, sumBy, totalsPerHour } from "./hourlyActivity";

export interface HourReconciliation {
  hour: string;
  expected: HourTotals;
  actual: HourTotals;
  /** products of this hour whose visits or cart additions differ from the ground truth */
  productsDiffering: string[];
  matches: boolean;
}

export interface Reconciliation {
  hours: HourReconciliation[];
  matches: boolean;
}

export function reconcile(expected: readonly HourlyActivityRow[], actual: readonly HourlyActivityRow[]): Reconciliation {
  const expectedTotals = new Map(totalsPerHour(expected).map((t) => [t.hour, t]));
  const actualTotals = new Map(totalsPerHour(actual).map((t) => [t.hour, t]));
  const cell = (r: HourlyActivityRow) => `${r.hour}|${r.product_id}`;
  const expectedCells = sumBy(expected, cell);
  const actualCells = sumBy(actual, cell);

  const hours = [...new Set([...expectedTotals.keys(), ...actualTotals.keys()])].sort();
  const result = hours.map((hour): HourReconciliation => {
    const zero = { hour, visits: 0, cartAdds: 0 };
    const e = expectedTotals.get(hour) ?? zero;
    const a = actualTotals.get(hour) ?? zero;
    const products = new Set<string>();
    for (const key of [...expectedCells.keys(), ...actualCells.keys()]) {
      if (!key.startsWith(`${hour}|`)) continue;
      const ec = expectedCells.get(key);
      const ac = actualCells.get(key);
      if (ec?.visits !== ac?.visits || ec?.cartAdds !== ac?.cartAdds) products.add(key.slice(hour.length + 1));
    }
    const productsDiffering = [...products].sort();
    return {
      hour,
      expected: e,
      actual: a,
      productsDiffering,
      matches: e.visits === a.visits && e.cartAdds === a.cartAdds && productsDiffering.length === 0,
    };
  });
  return { hours: result, matches: result.length > 0 && result.every((h) => h.matches) };
}

/** The printed reconciliation: one line per hour and a verdict line. */
export function formatReconciliation(r: Reconciliation): string {
  const lines = ["hour (UTC)      expected visits/cart adds   loaded visits/cart adds   result"];
  for (const h of r.hours) {
    const exp = `${h.expected.visits}/${h.expected.cartAdds}`.padEnd(27);
    const act = `${h.actual.visits}/${h.actual.cartAdds}`.padEnd(25);
    const diff = h.productsDiffering.length ? ` (${h.productsDiffering.length} products differ: ${h.productsDiffering.slice(0, 5).join(", ")})` : "";
    lines.push(`${h.hour}:00   ${exp} ${act} ${h.matches ? "exact" : "MISMATCH" + diff}`);
  }
  lines.push(
    r.matches
      ? `reconciliation: ${r.hours.length === 1 ? "the 1 hour matches" : `all ${r.hours.length} hours match`} the generator's ground truth exactly`
      : r.hours.length === 0
        ? "reconciliation FAILED: no hours to compare"
        : `reconciliation FAILED: ${r.hours.filter((h) => !h.matches).length} of ${r.hours.length} hours differ from the generator's ground truth`,
  );
  return lines.join("\n");
}
