// The ground truth of a run: what the broker acknowledged, counted the way every downstream part counts
// (pid null = visit, non-null = cart addition, per UTC hour of event_time and per product). Broken
// entries are counted apart and never as visits or cart additions; so are repeated deliveries of an entry
// already sent, which every downstream part counts once (per event_id).
import { hourOf, isCartAdd } from "../contract/weblogEntry";
import { MALFORMED_KINDS, MalformedKind } from "./malformed";
import type { Emission } from "./traffic";

export interface ActivityCount {
  visits: number;
  cart_adds: number;
}

export interface RunSummary extends ActivityCount {
  /** true when everything generated was acknowledged and the run ended as planned or by a signal */
  complete: boolean;
  error: string | null;
  mode: "live" | "simulated";
  /** "stdout" when written as NDJSON instead of Kafka */
  destination: string;
  topic: string | null;
  seed: number;
  generated: number;
  /** acknowledged by Kafka (acks=all), or written to stdout: everything below counts these only */
  acknowledged: number;
  /** generated but never acknowledged: they may or may not be in the topic */
  unacknowledged: number;
  /** distinct valid entries */
  valid: number;
  malformed: number;
  /** messages that delivered an entry already sent (same event_id), counted once downstream */
  duplicates: number;
  /** access-log lines that are no entry (assets); the streaming job ignores and counts them */
  ignored: number;
  malformed_by_kind: Record<MalformedKind, number>;
  first_event_time: string | null;
  last_event_time: string | null;
  /** failed send attempts that the producer retried */
  errors: number;
  elapsed_seconds: number;
  /** per UTC hour, "YYYY-MM-DDTHH:00:00Z", sorted */
  hours: Array<{ hour: string } & ActivityCount>;
  /** per product, sorted by product_id (empty in a live run without --summary) */
  products: Array<{ product_id: string } & ActivityCount>;
  /** per hour and product, the rows the hourly aggregate must hold; sorted by hour, product_id */
  hourly_products: Array<{ hour: string; product_id: string } & ActivityCount>;
}

const tally = (): ActivityCount => ({ visits: 0, cart_adds: 0 });

export class GroundTruth {
  acknowledged = 0;
  valid = 0;
  duplicates = 0;
  ignored = 0;
  readonly malformedByKind = Object.fromEntries(MALFORMED_KINDS.map((k) => [k, 0])) as Record<MalformedKind, number>;
  readonly totals = tally();
  private firstEventTime: string | null = null;
  private lastEventTime: string | null = null;
  private readonly byHourAndProduct = new Map<string, Map<string, ActivityCount>>();

  /** perProduct false keeps per-hour totals only: bounded memory for a live service that runs for months. */
  constructor(private readonly perProduct = true) {}

  get malformed(): number {
    return Object.values(this.malformedByKind).reduce((a, b) => a + b, 0);
  }

  /** Counts a batch the destination has acknowledged. */
  acknowledge(batch: readonly Emission[]): void {
    this.acknowledged += batch.length;
    for (const { entry, malformed, ignored, duplicate } of batch) {
      if (duplicate) {
        this.duplicates++;
        continue;
      }
      if (malformed) this.malformedByKind[malformed]++;
      if (ignored) this.ignored++;
      if (!entry) continue;
      this.valid++;
      if (this.firstEventTime === null || entry.event_time < this.firstEventTime)
        this.firstEventTime = entry.event_time;
      if (this.lastEventTime === null || entry.event_time > this.lastEventTime) this.lastEventTime = entry.event_time;
      const hour = `${hourOf(entry)}:00:00Z`;
      let products = this.byHourAndProduct.get(hour);
      if (!products) this.byHourAndProduct.set(hour, (products = new Map()));
      const productKey = this.perProduct ? entry.product_id : "";
      let count = products.get(productKey);
      if (!count) products.set(productKey, (count = tally()));
      const field = isCartAdd(entry) ? "cart_adds" : "visits";
      count[field]++;
      this.totals[field]++;
    }
  }

  summary(
    run: Pick<
      RunSummary,
      "complete" | "error" | "mode" | "destination" | "topic" | "seed" | "generated" | "errors" | "elapsed_seconds"
    >,
  ): RunSummary {
    const hours: RunSummary["hours"] = [];
    const hourlyProducts: RunSummary["hourly_products"] = [];
    const perProduct = new Map<string, ActivityCount>();
    for (const hour of [...this.byHourAndProduct.keys()].sort()) {
      const hourTotal = tally();
      const products = this.byHourAndProduct.get(hour) as Map<string, ActivityCount>;
      for (const productId of [...products.keys()].sort()) {
        const count = products.get(productId) as ActivityCount;
        hourTotal.visits += count.visits;
        hourTotal.cart_adds += count.cart_adds;
        if (!this.perProduct) continue;
        hourlyProducts.push({ hour, product_id: productId, ...count });
        const product = perProduct.get(productId) ?? tally();
        product.visits += count.visits;
        product.cart_adds += count.cart_adds;
        perProduct.set(productId, product);
      }
      hours.push({ hour, ...hourTotal });
    }
    return {
      ...run,
      acknowledged: this.acknowledged,
      unacknowledged: run.generated - this.acknowledged,
      valid: this.valid,
      malformed: this.malformed,
      duplicates: this.duplicates,
      ignored: this.ignored,
      malformed_by_kind: { ...this.malformedByKind },
      visits: this.totals.visits,
      cart_adds: this.totals.cart_adds,
      first_event_time: this.firstEventTime,
      last_event_time: this.lastEventTime,
      hours,
      products: [...perProduct.keys()]
        .sort()
        .map((product_id) => ({ product_id, ...(perProduct.get(product_id) as ActivityCount) })),
      hourly_products: hourlyProducts,
    };
  }
}
