import {
  hourOf,
  isCartAdd,
  MAX_ENTRY_BYTES,
  utcMillisOf,
  validateWeblogEntry,
  WeblogEntry,
} from "../../contract/weblogEntry";

const cartAdd: WeblogEntry = {
  event_id: "3f2b1c9e-8a4d-4e1b-9c2a-1b2c3d4e5f60",
  event_time: "2026-11-26T14:05:01.123Z",
  session_id: "s-1",
  ip: "203.0.113.7",
  user_agent: "Mozilla/5.0 (X11; Linux x86_64)",
  method: "POST",
  url: "/cart",
  status: 200,
  product_id: "P000123",
  pid: "P000123",
};
const visit: WeblogEntry = { ...cartAdd, method: "GET", url: "/products/P000123", pid: null };

describe("the web-log entry contract", () => {
  it("accepts a product-page visit and an add-to-cart", () => {
    expect(validateWeblogEntry(visit)).toEqual({ ok: true, entry: visit });
    expect(validateWeblogEntry(cartAdd)).toEqual({ ok: true, entry: cartAdd });
  });

  it.each<[string, unknown, string]>([
    ["a missing field", (({ status: _s, ...rest }) => rest)(cartAdd), "must have required property 'status'"],
    ["an extra field", { ...cartAdd, referer: "x" }, "must NOT have additional properties"],
    [
      "a timestamp without a time zone",
      { ...cartAdd, event_time: "2026-11-26T14:05:01.123" },
      "/event_time must match pattern",
    ],
    [
      "an access-log timestamp",
      { ...cartAdd, event_time: "26/Nov/2026:14:05:01 +0000" },
      "/event_time must match pattern",
    ],
    [
      "a day that does not exist",
      { ...cartAdd, event_time: "2026-02-30T10:00:00Z" },
      '/event_time must match format "date-time"',
    ],
    ["a string status", { ...cartAdd, status: "200" }, "/status must be integer"],
    ["an address that is neither IPv4 nor IPv6", { ...cartAdd, ip: "300.1.1.1" }, "/ip must match a schema in anyOf"],
    ["a visit sent as POST", { ...visit, method: "POST" }, "/method must be equal to constant"],
    ["an add-to-cart sent as GET", { ...cartAdd, method: "GET" }, "/method must be equal to constant"],
    ["an empty product id", { ...visit, product_id: "" }, "/product_id must NOT have fewer than 1 characters"],
    [
      "a product id over 128 characters",
      { ...visit, product_id: "p".repeat(129) },
      "/product_id must NOT have more than 128 characters",
    ],
    ...[",", '"', "\\", " ", "\t", "\u00a0", "\u0007", "\u200b"].map(
      (c) =>
        [
          `a product id with ${JSON.stringify(c)}, which would corrupt the published CSV`,
          { ...visit, product_id: `sku${c}1` },
          "/product_id must match pattern",
        ] as [string, unknown, string],
    ),
    [
      "an add-to-cart whose pid is another product",
      { ...cartAdd, pid: "P000124" },
      "must have pid equal to product_id",
    ],
    ...["=2+5", "@SUM(1+1)", "+cmd|'/Ccalc'!A0", "-2+3"].map(
      (id) =>
        [
          `a product id a spreadsheet would run as a formula, ${id}`,
          { ...cartAdd, product_id: id, pid: id },
          "/product_id must match pattern",
        ] as [string, unknown, string],
    ),
    ["a status of 42", { ...cartAdd, status: 42 }, "/status must be >= 100"],
    ...(
      ["event_id", "event_time", "session_id", "ip", "user_agent", "method", "url", "status", "product_id"] as const
    ).map(
      (field) => [`a null ${field}`, { ...cartAdd, [field]: null }, `/${field} must be`] as [string, unknown, string],
    ),
  ])("refuses %s, saying why", (_name, value, reason) => {
    const result = validateWeblogEntry(value);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.errors.join("; ")).toContain(reason);
  });

  it.each([
    ["a real site's product ids and RFC 3339 times", { product_id: "sku-123", event_time: "2026-03-01T13:05:00Z" }],
    [
      "a variant id and a microsecond time with an offset",
      { product_id: "P990001-blue", event_time: "2026-03-01T14:05:00.123456+01:00" },
    ],
    ["non-ASCII ids and a lower-case t and z", { product_id: "kaffeemühle_2", event_time: "2026-03-01t14:05:00.1z" }],
    ["an IPv6 client", { product_id: "P000123", ip: "2001:db8::7", event_time: "2026-03-01T14:05:00-08:00" }],
  ])("accepts %s", (_name, fields) => {
    const entry = { ...cartAdd, ...fields, pid: fields.product_id };
    expect(validateWeblogEntry(entry)).toEqual({ ok: true, entry });
  });

  it("counts non-null pid as an add-to-cart and null pid as a visit", () => {
    expect(isCartAdd(cartAdd)).toBe(true);
    expect(isCartAdd(visit)).toBe(false);
  });

  it("places an entry in the UTC hour of its event_time", () => {
    expect(hourOf({ event_time: "2026-11-26T23:59:59.999Z" })).toBe("2026-11-26T23");
    expect(hourOf({ event_time: "2026-11-27T00:30:00+01:00" })).toBe("2026-11-26T23");
    expect(hourOf({ event_time: "2026-11-26T18:30:00.5-05:30" })).toBe("2026-11-27T00");
  });

  it("normalises any RFC 3339 time to UTC milliseconds, truncating finer fractions as raw stores them", () => {
    expect(utcMillisOf("2026-03-01T14:05:00.123456+01:00")).toBe(Date.UTC(2026, 2, 1, 13, 5, 0, 123));
    expect(utcMillisOf("2026-03-01T13:05:00Z")).toBe(Date.UTC(2026, 2, 1, 13, 5, 0, 0));
    expect(utcMillisOf("2026-02-30T10:00:00Z")).toBeNaN();
    // A calendar day that parses, in a time that is not RFC 3339 (a space for the T, no offset).
    expect(utcMillisOf("2026-03-01 13:05:00Z")).toBeNaN();
    expect(utcMillisOf("2026-03-01T13:05:00")).toBeNaN();
  });

  it("names the entry itself as the place of an error that concerns it as a whole", () => {
    const withoutPid: Record<string, unknown> = { ...visit };
    delete withoutPid.pid;
    expect(validateWeblogEntry(withoutPid)).toEqual({ ok: false, errors: ["/ must have required property 'pid'"] });
  });

  it("bounds an entry's size", () => {
    expect(MAX_ENTRY_BYTES).toBe(8192);
  });
});
