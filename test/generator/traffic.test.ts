import { MAX_ENTRY_BYTES, validateWeblogEntry, WeblogEntry } from "../../contract/weblogEntry";
import { simulatedEventTimes } from "../../generator/eventTime";
import { GroundTruth } from "../../generator/groundTruth";
import { MALFORMED_KINDS } from "../../generator/malformed";
import { Emission, TrafficModel } from "../../generator/traffic";
import { consumerView, countsAs, utcHourOf } from "./readBack";

const T0 = Date.parse("2026-11-26T10:00:00Z");

function emissions(seed: number, n: number, malformedRate = 0, products = 1000, stepMs = 100): Emission[] {
  const model = new TrafficModel({ seed, products, malformedRate });
  return Array.from({ length: n }, (_, i) => model.next(T0 + i * stepMs));
}

const entriesOf = (list: Emission[]) => list.flatMap((e) => (e.entry ? [e.entry] : []));
// The contract's rule, read here without the generator's helper.
const addsToCart = (e: WeblogEntry) => countsAs(e) === "cart_adds";

/** Visits and cart additions per UTC hour and per hour and product, counted from the entries themselves. */
function countedByHand(entries: WeblogEntry[]) {
  const hours = new Map<string, { hour: string; visits: number; cart_adds: number }>();
  const cells = new Map<string, { hour: string; product_id: string; visits: number; cart_adds: number }>();
  for (const e of entries) {
    const hour = utcHourOf(e.event_time);
    const h = hours.get(hour) ?? { hour, visits: 0, cart_adds: 0 };
    const c = cells.get(`${hour} ${e.product_id}`) ?? { hour, product_id: e.product_id, visits: 0, cart_adds: 0 };
    h[countsAs(e)]++;
    c[countsAs(e)]++;
    hours.set(hour, h);
    cells.set(`${hour} ${e.product_id}`, c);
  }
  const byKey = (a: { hour: string; product_id?: string }, b: { hour: string; product_id?: string }) =>
    a.hour < b.hour
      ? -1
      : a.hour > b.hour
        ? 1
        : (a.product_id ?? "") < (b.product_id ?? "")
          ? -1
          : (a.product_id ?? "") > (b.product_id ?? "")
            ? 1
            : 0;
  return { hours: [...hours.values()].sort(byKey), hourly_products: [...cells.values()].sort(byKey) };
}

describe("the traffic model", () => {
  const sample = emissions(42, 10_000);
  const entries = entriesOf(sample);

  test("every entry it emits conforms to the event contract, byte for byte as sent", () => {
    expect(entries).toHaveLength(10_000);
    const problems = sample.flatMap((emission) => {
      const result = validateWeblogEntry(JSON.parse(emission.value.toString("utf8")));
      if (!result.ok) return [result.errors.join("; ")];
      return emission.key === result.entry.session_id ? [] : [`key ${emission.key} is not the session id`];
    });
    expect(problems).toEqual([]);
  });

  test("the same seed gives the same entries and another seed different ones", () => {
    const again = emissions(42, 2_000, 0.05);
    expect(emissions(42, 2_000, 0.05).map((e) => e.value.toString("base64"))).toEqual(
      again.map((e) => e.value.toString("base64")),
    );
    const other = emissions(43, 2_000, 0.05);
    const same = other.filter((e, i) => e.value.equals(again[i].value)).length;
    expect(same).toBe(0);
  });

  test("a few products get most visits", () => {
    const visits = new Map<string, number>();
    for (const e of entries) if (!addsToCart(e)) visits.set(e.product_id, (visits.get(e.product_id) ?? 0) + 1);
    const counts = [...visits.values()].sort((a, b) => b - a);
    const total = counts.reduce((a, b) => a + b, 0);
    const top10 = counts.slice(0, 10).reduce((a, b) => a + b, 0);
    expect(top10 / total).toBeGreaterThan(0.3);
    expect(counts.length).toBeGreaterThan(300);
  });

  test("a few percent of visits lead to an add-to-cart of the product just visited, in the same session", () => {
    const carts = entries.filter(addsToCart);
    const rate = carts.length / (entries.length - carts.length);
    expect(rate).toBeGreaterThan(0.015);
    expect(rate).toBeLessThan(0.06);
    const lastBySession = new Map<string, WeblogEntry>();
    const unexplained: WeblogEntry[] = [];
    for (const e of entries) {
      const previous = lastBySession.get(e.session_id);
      const follows =
        previous?.pid === null && previous.product_id === e.product_id && e.method === "POST" && e.url === "/cart";
      if (addsToCart(e) && !follows) unexplained.push(e);
      lastBySession.set(e.session_id, e);
    }
    expect(carts.length).toBeGreaterThan(100);
    expect(unexplained).toEqual([]);
  });

  test("sessions have several requests from one plausible public address and browser", () => {
    const sessions = new Map<string, WeblogEntry[]>();
    for (const e of entries) {
      const list = sessions.get(e.session_id) ?? [];
      list.push(e);
      sessions.set(e.session_id, list);
    }
    expect(entries.length / sessions.size).toBeGreaterThan(3);
    const mixed = [...sessions.values()].filter(
      (list) => new Set(list.map((e) => `${e.ip} ${e.user_agent}`)).size !== 1,
    );
    expect(mixed).toEqual([]);
    const privateOrReserved = /^(10|127|0|22[4-9]|2[3-5]\d)\.|^192\.168\.|^172\.(1[6-9]|2\d|3[01])\./;
    expect(entries.filter((e) => privateOrReserved.test(e.ip))).toEqual([]);
    expect(new Set(entries.map((e) => e.user_agent)).size).toBeGreaterThan(5);
  });
});

describe("malformed entries", () => {
  // Two seconds apart: the sample spans four UTC hours.
  const sample = emissions(7, 6_000, 0.25, 1000, 2000);
  const broken = sample.filter((e) => e.malformed !== null);

  test("come at the requested rate, in every kind, and each one breaks the contract", () => {
    expect(broken.length / sample.length).toBeGreaterThan(0.2);
    expect(broken.length / sample.length).toBeLessThan(0.3);
    expect(new Set(broken.map((e) => e.malformed))).toEqual(new Set(MALFORMED_KINDS));
    expect(broken.filter((e) => e.entry !== null || consumerView(e.value) !== null || e.value.includes(0x0a))).toEqual(
      [],
    );
    expect(broken.filter((e) => e.malformed === "oversize").every((e) => e.value.length > MAX_ENTRY_BYTES)).toBe(true);
    const valid = sample.filter((s) => s.malformed === null);
    expect(valid.filter((e) => JSON.stringify(consumerView(e.value)) !== JSON.stringify(e.entry))).toEqual([]);
  });

  test("never count as visits or cart additions in the ground truth", () => {
    const truth = new GroundTruth();
    truth.acknowledge(sample);
    const valid = entriesOf(sample);
    const run = {
      complete: true,
      error: null,
      mode: "live",
      destination: "stdout",
      topic: null,
      seed: 7,
      generated: sample.length,
      errors: 0,
      elapsed_seconds: 1,
    } as const;
    const summary = truth.summary(run);
    expect(summary.malformed).toBe(broken.length);
    expect(summary.valid).toBe(valid.length);
    expect(summary.visits).toBe(valid.filter((e) => e.pid === null).length);
    expect(summary.cart_adds).toBe(valid.filter((e) => e.pid !== null).length);
    expect(summary.hours.map((h) => h.hour)).toEqual([
      "2026-11-26T10:00:00Z",
      "2026-11-26T11:00:00Z",
      "2026-11-26T12:00:00Z",
      "2026-11-26T13:00:00Z",
    ]);
    expect({ hours: summary.hours, hourly_products: summary.hourly_products }).toEqual(countedByHand(valid));
    expect(summary.visits + summary.cart_adds + summary.malformed).toBe(sample.length);
    expect(summary.hours.reduce((n, h) => n + h.visits + h.cart_adds, 0)).toBe(valid.length);
    expect(summary.products.reduce((n, p) => n + p.cart_adds, 0)).toBe(summary.cart_adds);
    expect(summary.hourly_products.reduce((n, p) => n + p.visits, 0)).toBe(summary.visits);
    expect(Object.values(summary.malformed_by_kind).reduce((a, b) => a + b, 0)).toBe(broken.length);

    // a long-running live service keeps hour totals only, and they are the same
    const hoursOnly = new GroundTruth(false);
    hoursOnly.acknowledge(sample);
    const lean = hoursOnly.summary(run);
    expect(lean.hours).toEqual(summary.hours);
    expect([lean.products, lean.hourly_products]).toEqual([[], []]);
  });
});

describe("repeated deliveries", () => {
  const model = new TrafficModel({ seed: 11, products: 1000, malformedRate: 0.05, duplicateRate: 0.2 });
  const sample = Array.from({ length: 5_000 }, (_, i) => model.next(T0 + i * 1000));
  const repeats = sample.filter((e) => e.duplicate);

  test("come at the requested rate, each one the same bytes as a valid entry sent before it", () => {
    expect(repeats.length / sample.length).toBeGreaterThan(0.15);
    expect(repeats.length / sample.length).toBeLessThan(0.25);
    const sentBefore = new Map<string, number>();
    sample.forEach((e, i) => {
      if (!e.duplicate && e.entry) sentBefore.set(e.value.toString("base64"), i);
    });
    sample.forEach((e, i) => {
      if (!e.duplicate) return;
      expect(e.malformed).toBeNull();
      expect(sentBefore.get(e.value.toString("base64"))).toBeLessThan(i);
    });
  });

  test("count once in the ground truth: the same summary as counting distinct event ids by hand", () => {
    const truth = new GroundTruth();
    truth.acknowledge(sample);
    const summary = truth.summary({
      complete: true,
      error: null,
      mode: "live",
      destination: "stdout",
      topic: null,
      seed: 11,
      generated: sample.length,
      errors: 0,
      elapsed_seconds: 1,
    });
    const distinct = new Map<string, WeblogEntry>();
    for (const e of sample) {
      const view = consumerView(e.value); // null unless the bytes are a contract-valid entry
      if (view && !distinct.has(view.event_id)) distinct.set(view.event_id, view);
    }
    expect(summary.duplicates).toBe(repeats.length);
    expect(summary.valid).toBe(distinct.size);
    expect(summary.valid + summary.malformed + summary.duplicates).toBe(sample.length);
    expect({ hours: summary.hours, hourly_products: summary.hourly_products }).toEqual(
      countedByHand([...distinct.values()]),
    );
  });

  test("of access-log lines re-send the same envelope: the line's same position, so the same event id", () => {
    const lines = new TrafficModel({
      seed: 11,
      products: 1000,
      malformedRate: 0.05,
      duplicateRate: 0.2,
      format: "combined",
    });
    const shipped = Array.from({ length: 2_000 }, (_, i) => lines.next(T0 + i * 1000));
    const offsets = new Map<number, string>();
    for (const e of shipped.filter((s) => s.entry)) {
      const { offset, message } = JSON.parse(e.value.toString()) as { offset: number; message: string };
      if (e.duplicate) expect(offsets.get(offset)).toBe(message);
      else offsets.set(offset, message);
    }
    expect(shipped.filter((e) => e.duplicate).length).toBeGreaterThan(300);
    expect(shipped.filter((e) => e.duplicate && !e.entry)).toEqual([]);
  });
});

describe("simulated event time", () => {
  test("gives exactly the requested number of entries in each hour, in ascending order", () => {
    const times = [...simulatedEventTimes(T0, 3, 500, 1)];
    expect(times).toHaveLength(1500);
    expect([...times].sort((a, b) => a - b)).toEqual(times);
    const perHour = new Map<string, number>();
    for (const t of times) {
      const hour = new Date(t).toISOString().slice(0, 13);
      perHour.set(hour, (perHour.get(hour) ?? 0) + 1);
    }
    expect(Object.fromEntries(perHour)).toEqual({ "2026-11-26T10": 500, "2026-11-26T11": 500, "2026-11-26T12": 500 });
  });
});
