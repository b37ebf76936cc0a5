import defaults from "../../contract/access-log.json";
import { validateWeblogEntry } from "../../contract/weblogEntry";
import { positionEventId, SHIPPED_HOST, shippedFile } from "../../generator/accessLog";
import { GroundTruth } from "../../generator/groundTruth";
import { parseOptions } from "../../generator/options";
import { Emission, TrafficModel } from "../../generator/traffic";

const T0 = Date.parse("2026-11-26T10:00:00Z");
// The combined format, read here without the generator's own helpers.
const COMBINED =
  /^(\S+) \S+ \S+ \[(\d{2})\/(\w{3})\/(\d{4}):(\d{2}:\d{2}:\d{2}) \+0000\] "(\S+) (\S+) HTTP\/1\.1" (\d{3}) (\d+|-) "[^"]*" "([^"]*)"$/;

function lines(seed: number, n: number, malformedRate = 0): Emission[] {
  const model = new TrafficModel({ seed, products: 500, malformedRate, format: "combined" });
  return Array.from({ length: n }, (_, i) => model.next(T0 + i * 997));
}

type Envelope = { message: string; host: string; file: string; offset: number };
const envelope = (e: Emission) => JSON.parse(e.value.toString("utf8")) as Envelope;

describe("the generator's combined format", () => {
  const sample = lines(11, 3000);

  it("ships each line in a file shipper's envelope with its byte offset in the file", () => {
    let offset = 0;
    for (const e of sample) {
      const shipped = envelope(e);
      expect([shipped.host, shipped.file, shipped.offset]).toEqual([SHIPPED_HOST, shippedFile(11), offset]);
      offset += Buffer.byteLength(shipped.message) + 1;
    }
  });

  it("writes visits and cart additions the default settings map back to the same entries", () => {
    const product = new RegExp(defaults.productUrlPattern);
    const cart = new RegExp(defaults.cartUrlPattern);
    const entries = sample.filter((e) => e.entry);
    expect(entries.length).toBeGreaterThan(2000);
    expect(entries.some((e) => e.entry?.pid !== null)).toBe(true);
    for (const e of entries) {
      const entry = e.entry!;
      const m = COMBINED.exec(envelope(e).message);
      expect(m).not.toBeNull();
      const [, ip, , , , time, method, url, status, , userAgent] = m!;
      expect([ip, userAgent, method, Number(status)]).toEqual([entry.ip, entry.user_agent, entry.method, entry.status]);
      expect(time).toBe(entry.event_time.slice(11, 19));
      const rule = entry.pid === null ? product : cart;
      expect(url).toBe(entry.url);
      expect(rule.exec(url)?.groups?.product_id).toBe(entry.product_id);
      expect(entry.event_id).toBe(positionEventId(SHIPPED_HOST, shippedFile(11), envelope(e).offset));
      expect(validateWeblogEntry(entry)).toEqual({ ok: true, entry });
    }
  });

  it("writes a log file of its own per run, so two runs never share an event id", () => {
    const ids = (seed: number) => new Set(lines(seed, 500).flatMap((e) => (e.entry ? [e.entry.event_id] : [])));
    const first = ids(11);
    expect([...ids(12)].filter((id) => first.has(id))).toEqual([]);
  });

  it("adds asset requests that are no entry and counts them as ignored", () => {
    const assets = sample.filter((e) => e.ignored);
    expect(assets.length / sample.length).toBeGreaterThan(0.15);
    for (const e of assets) {
      const url = COMBINED.exec(envelope(e).message)![7];
      expect(new RegExp(defaults.productUrlPattern).test(url) || new RegExp(defaults.cartUrlPattern).test(url)).toBe(
        false,
      );
    }
    const truth = new GroundTruth();
    truth.acknowledge(sample);
    expect(truth.ignored).toBe(assets.length);
    expect(truth.valid + truth.ignored).toBe(sample.length);
  });

  it("breaks lines so that none of them reads as a combined line with a valid time", () => {
    const broken = lines(5, 4000, 0.2).filter((e) => e.malformed);
    expect(new Set(broken.map((e) => e.malformed)).size).toBe(6);
    for (const e of broken) {
      const text = e.malformed === "invalid_utf8" ? e.value.toString("latin1") : envelope(e).message;
      const m = COMBINED.exec(text);
      expect(m === null || e.malformed === "oversize" || e.malformed === "invalid_utf8").toBe(true);
    }
  });

  it("gives the same seed the same bytes", () => {
    expect(lines(11, 200).map((e) => e.value.toString("hex"))).toEqual(
      sample.slice(0, 200).map((e) => e.value.toString("hex")),
    );
  });

  it("is chosen with --format, json by default", () => {
    expect(parseOptions([])?.format).toBe("json");
    expect(parseOptions(["--format", "combined"])?.format).toBe("combined");
    expect(() => parseOptions(["--format", "apache"])).toThrow("--format must be json or combined, got 'apache'");
  });
});
