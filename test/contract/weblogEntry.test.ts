import { hourOf, isCartAdd, MAX_ENTRY_BYTES, validateWeblogEntry, WeblogEntry } from "../../contract/weblogEntry";

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

  it.each([
    ["a missing field", (({ status: _s, ...rest }) => rest)(cartAdd), "must have required property 'status'"],
    ["an extra field", { ...cartAdd, referer: "x" }, "must NOT have additional properties"],
    ["a timestamp without milliseconds", { ...cartAdd, event_time: "2026-11-26T14:05:01Z" }, "/event_time must match pattern"],
    ["a non-UTC timestamp", { ...cartAdd, event_time: "2026-11-26T14:05:01.123+01:00" }, "/event_time must match pattern"],
    ["a string status", { ...cartAdd, status: "200" }, "/status must be integer"],
    ["an IPv6 address", { ...cartAdd, ip: "::1" }, '/ip must match format "ipv4"'],
    ["a visit sent as POST", { ...visit, method: "POST" }, "/method must be equal to constant"],
    ["an add-to-cart sent as GET", { ...cartAdd, method: "GET" }, "/method must be equal to constant"],
    ["a malformed product id", { ...cartAdd, product_id: "123" }, "/product_id must match pattern"],
    ["an add-to-cart whose pid is another product", { ...cartAdd, pid: "P000124" }, "must have pid equal to product_id"],
  ])("refuses %s, saying why", (_name, value, reason) => {
    const result = validateWeblogEntry(value);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.errors.join("; ")).toContain(reason);
  });

  it("counts non-null pid as an add-to-cart and null pid as a visit", () => {
    expect(isCartAdd(cartAdd)).toBe(true);
    expect(isCartAdd(visit)).toBe(false);
  });

  it("places an entry in the UTC hour of its event_time", () => {
    expect(hourOf({ event_time: "2026-11-26T23:59:59.999Z" })).toBe("2026-11-26T23");
  });

  it("bounds an entry's size", () => {
    expect(MAX_ENTRY_BYTES).toBe(8192);
  });
});
