// Compares what reached the BigQuery table with the generator's ground truth: every hour, and every
// product within it, must match exactly; and every repeated delivery the generator sent must have reached
// raw and been left out of the table. Counts in equal counts out; no tolerance.
import { HourlyActivityRow, HourTotals, sumBy, totalsPerHour } from "./hourlyActivity";

export interface HourReconciliation {
  hour: string;
  expected: HourTotals;
  actual: HourTotals;
  /** products of this hour whose visits or cart additions differ from the ground truth */
  productsDiffering: string[];
  matches: boolean;
}

/** Repeated deliveries of an entry (same event_id), three independent counts that must be equal. */
export interface DuplicateReconciliation {
  /** messages the generator sent that repeat an entry it had sent */
  sent: number;
  /** raw rows repeating an event_id: raw rows minus distinct event ids (the raw audit) */
  received: number;
  /** raw rows the table does not count: raw rows minus its visits and cart additions */
  dropped: number;
  matches: boolean;
}

export interface Reconciliation {
  hours: HourReconciliation[];
  duplicates?: DuplicateReconciliation;
  matches: boolean;
}

/** The raw bucket's audit (jobs/raw_audit.py) and the generator's count of repeated deliveries. */
export interface DeliveryCounts {
  duplicatesSent: number;
  rawRows: number;
  distinctEventIds: number;
}

export function reconcile(
  expected: readonly HourlyActivityRow[],
  actual: readonly HourlyActivityRow[],
  deliveries?: DeliveryCounts,
): Reconciliation {
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
  const duplicates = deliveries && duplicatesOf(deliveries, actual);
  return {
    hours: result,
    duplicates,
    matches: result.length > 0 && result.every((h) => h.matches) && (duplicates?.matches ?? true),
  };
}

function duplicatesOf(d: DeliveryCounts, actual: readonly HourlyActivityRow[]): DuplicateReconciliation {
  const counted = actual.reduce((n, r) => n + r.visits + r.cart_adds, 0);
  const received = d.rawRows - d.distinctEventIds;
  const dropped = d.rawRows - counted;
  return { sent: d.duplicatesSent, received, dropped, matches: d.duplicatesSent === received && received === dropped };
}

/** One line on repeated deliveries, or none when the run did not count them. */
export function formatDuplicates(d: DuplicateReconciliation | undefined): string | undefined {
  if (!d) return undefined;
  return `repeated deliveries (same event_id): ${d.sent} sent, ${d.received} received into raw, ${d.dropped} left out of the table: ${d.matches ? "each entry counted once" : "MISMATCH"}`;
}

/** The printed reconciliation: one line per hour and a verdict line. */
export function formatReconciliation(r: Reconciliation): string {
  const lines = ["hour (UTC)      expected visits/cart adds   loaded visits/cart adds   result"];
  for (const h of r.hours) {
    const exp = `${h.expected.visits}/${h.expected.cartAdds}`.padEnd(27);
    const act = `${h.actual.visits}/${h.actual.cartAdds}`.padEnd(25);
    const diff = h.productsDiffering.length
      ? ` (${h.productsDiffering.length} products differ: ${h.productsDiffering.slice(0, 5).join(", ")})`
      : "";
    lines.push(`${h.hour}:00   ${exp} ${act} ${h.matches ? "exact" : "MISMATCH" + diff}`);
  }
  const duplicates = formatDuplicates(r.duplicates);
  if (duplicates) lines.push(duplicates);
  const differing = r.hours.filter((h) => !h.matches).length;
  lines.push(
    r.matches
      ? `reconciliation: ${r.hours.length === 1 ? "the 1 hour matches" : `all ${r.hours.length} hours match`} the generator's ground truth exactly`
      : r.hours.length === 0
        ? "reconciliation FAILED: no hours to compare"
        : differing === 0
          ? "reconciliation FAILED: the repeated deliveries do not add up (see the line above)"
          : `reconciliation FAILED: ${differing} of ${r.hours.length} hours differ from the generator's ground truth`,
  );
  return lines.join("\n");
}
