// The sandbox's verdict: an hour matches only if its totals and every product's counts are equal.
import { HourlyActivityRow } from "../../sandbox/verdict/hourlyActivity";
import { expectedHours, parseOptions } from "../../sandbox/commands/options";
import { formatReconciliation, reconcile } from "../../sandbox/verdict/reconciliation";
import { OBJECT_FINALIZED } from "../../functions/loader/src/hourlyLoader";
import { objectFinalizedEvent } from "../../sandbox/schedule/storageEvent";

const truth: HourlyActivityRow[] = [
  { hour: "2026-11-26T10", product_id: "P1", visits: 10, cart_adds: 1 },
  { hour: "2026-11-26T10", product_id: "P2", visits: 5, cart_adds: 0 },
  { hour: "2026-11-26T11", product_id: "P1", visits: 7, cart_adds: 2 },
];

test("identical rows reconcile exactly, hour by hour", () => {
  const r = reconcile(truth, [...truth].reverse());
  expect(r.matches).toBe(true);
  expect(r.hours.map((h) => [h.hour, h.actual.visits, h.actual.cartAdds])).toEqual([
    ["2026-11-26T10", 15, 1],
    ["2026-11-26T11", 7, 2],
  ]);
  expect(formatReconciliation(r)).toMatch(/all 2 hours match the generator's ground truth exactly/);
});

test("equal hour totals with counts moved between products do not reconcile", () => {
  const swapped = [{ ...truth[0], visits: 11 }, { ...truth[1], visits: 4 }, truth[2]];
  const r = reconcile(truth, swapped);
  expect(r.matches).toBe(false);
  expect(r.hours[0].productsDiffering).toEqual(["P1", "P2"]);
  expect(r.hours[1].matches).toBe(true);
});

test("cart additions moved between products, with every visit and the hour's totals equal, do not reconcile", () => {
  const moved = [{ ...truth[0], cart_adds: 0 }, { ...truth[1], cart_adds: 1 }, truth[2]];
  const r = reconcile(truth, moved);
  expect(r.hours[0]).toMatchObject({
    expected: { visits: 15, cartAdds: 1 },
    actual: { visits: 15, cartAdds: 1 },
    productsDiffering: ["P1", "P2"],
    matches: false,
  });
  expect(r.hours[1].matches).toBe(true);
  expect(r.matches).toBe(false);
});

test("a missing hour, an extra hour and an empty table each fail", () => {
  expect(reconcile(truth, truth.slice(0, 2)).matches).toBe(false);
  expect(
    reconcile(truth, [...truth, { hour: "2026-11-26T12", product_id: "P1", visits: 1, cart_adds: 0 }]).matches,
  ).toBe(false);
  expect(reconcile([], []).matches).toBe(false);
  expect(formatReconciliation(reconcile(truth, []))).toMatch(/FAILED: 2 of 2 hours differ/);
});

describe("repeated deliveries", () => {
  // truth holds 25 distinct entries; 3 of them were delivered twice.
  const counted = 25;
  test("reconcile when as many reached raw as were sent and the table left them all out", () => {
    const r = reconcile(truth, truth, { duplicatesSent: 3, rawRows: counted + 3, distinctEventIds: counted });
    expect(r.duplicates).toEqual({ sent: 3, received: 3, dropped: 3, matches: true });
    expect(r.matches).toBe(true);
    expect(formatReconciliation(r)).toMatch(
      /3 sent, 3 received into raw, 3 left out of the table: each entry counted once/,
    );
  });

  test("fail when a repeat was counted in the table, even though every entry reached raw", () => {
    const countedTwice = [{ ...truth[0], visits: truth[0].visits + 1 }, truth[1], truth[2]];
    const r = reconcile(truth, countedTwice, { duplicatesSent: 3, rawRows: counted + 3, distinctEventIds: counted });
    expect(r.duplicates).toMatchObject({ received: 3, dropped: 2, matches: false });
    expect(r.matches).toBe(false);
  });

  test("fail when a repeat never reached raw, with hours that still match", () => {
    const r = reconcile(truth, truth, { duplicatesSent: 3, rawRows: counted + 2, distinctEventIds: counted });
    expect(r.hours.every((h) => h.matches)).toBe(true);
    expect(r.matches).toBe(false);
    expect(formatReconciliation(r)).toMatch(/reconciliation FAILED: the repeated deliveries do not add up/);
  });
});

test("the storage event carries what Eventarc puts in a finalized event", () => {
  const e = objectFinalizedEvent(
    {
      bucket: "b",
      name: "hourly/dt=2026-11-26/hr=10/run_id=R/part-00000.csv",
      generation: "1764151200000001",
      size: 12,
      contentType: "text/csv",
      md5Hash: "x",
      timeCreated: "2026-11-26T10:00:00.000Z",
    },
    "7",
  );
  expect(e.headers["ce-type"]).toBe(OBJECT_FINALIZED);
  expect(e.headers["ce-source"]).toBe("//storage.googleapis.com/projects/_/buckets/b");
  expect(e.headers["ce-subject"]).toBe("objects/hourly/dt=2026-11-26/hr=10/run_id=R/part-00000.csv");
  const data = JSON.parse(e.body);
  expect([data.bucket, data.name, data.generation, data.size]).toEqual([
    "b",
    "hourly/dt=2026-11-26/hr=10/run_id=R/part-00000.csv",
    "1764151200000001",
    "12",
  ]);
});

test("options: the default run is 3 hours, hours follow --start, bad values are refused", () => {
  const o = parseOptions(["--start", "2026-11-26T22:00:00Z", "--faults", "all"]);
  if (o === "help") throw new Error("unexpected");
  expect(expectedHours(o)).toEqual(["2026-11-26T22", "2026-11-26T23", "2026-11-27T00"]);
  expect(o.faults.size).toBe(4);
  expect(() => parseOptions(["--start", "2026-11-26T22:30:00Z"])).toThrow(/UTC hour/);
  expect(() => parseOptions(["--faults", "disk-full"])).toThrow(/unknown fault/);
  expect(() => parseOptions(["launch"])).toThrow(/unknown command/);
});

test("the printed reconciliation names each hour's counts, its verdict and the products that differ, oldest hour first", () => {
  const loaded = [
    { hour: "2026-11-26T09", product_id: "P9", visits: 1, cart_adds: 0 }, // an hour the generator never made
    { hour: "2026-11-26T10", product_id: "P0", visits: 1, cart_adds: 0 }, // a product it never made
    truth[0],
    { ...truth[1], cart_adds: 1 },
  ];
  const r = reconcile(truth, loaded, { duplicatesSent: 1, rawRows: 27, distinctEventIds: 25 });
  expect(r.hours[1].productsDiffering).toEqual(["P0", "P2"]);
  expect(formatReconciliation(r).split("\n")).toEqual([
    "hour (UTC)      expected visits/cart adds   loaded visits/cart adds   result",
    "2026-11-26T09:00   0/0                         1/0                       MISMATCH (1 products differ: P9)",
    "2026-11-26T10:00   15/1                        16/2                      MISMATCH (2 products differ: P0, P2)",
    "2026-11-26T11:00   7/2                         0/0                       MISMATCH (1 products differ: P1)",
    "repeated deliveries (same event_id): 1 sent, 2 received into raw, 8 left out of the table: MISMATCH",
    "reconciliation FAILED: 3 of 3 hours differ from the generator's ground truth",
  ]);
});

test("one matching hour and no hours at all are each said in words", () => {
  expect(formatReconciliation(reconcile(truth.slice(2), truth.slice(2))).split("\n")).toEqual([
    "hour (UTC)      expected visits/cart adds   loaded visits/cart adds   result",
    "2026-11-26T11:00   7/2                         7/2                       exact",
    "reconciliation: the 1 hour matches the generator's ground truth exactly",
  ]);
  expect(formatReconciliation(reconcile([], []))).toMatch(/\nreconciliation FAILED: no hours to compare$/);
});

test("an hour with many differing products names how many and the first five", () => {
  const extra = ["G", "F", "E", "D", "C", "B", "A"].map((p) => ({
    hour: "2026-11-26T11",
    product_id: p,
    visits: 1,
    cart_adds: 0,
  }));
  expect(formatReconciliation(reconcile(truth.slice(2), [...truth.slice(2), ...extra]))).toContain(
    "MISMATCH (7 products differ: A, B, C, D, E)\n",
  );
});
