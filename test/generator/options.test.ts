import { liveEventTime } from "../../generator/eventTime";
import { parseOptions } from "../../generator/options";

describe("the generator's options", () => {
  test("default to live mode at 100 entries per second on the local broker", () => {
    expect(parseOptions(["--seed", "5"])).toMatchObject({
      mode: "live",
      brokers: ["127.0.0.1:9092"],
      topic: "weblogs",
      rate: 100,
      count: null,
      seed: 5,
      malformedRate: 0,
      stdout: false,
    });
  });

  test("simulated mode needs --start, --hours and --per-hour, and is unthrottled by default", () => {
    expect(parseOptions(["--start", "2026-11-26T05", "--hours", "2", "--per-hour", "10"])).toMatchObject({
      mode: "simulated",
      startMs: Date.parse("2026-11-26T05:00:00Z"),
      hours: 2,
      perHour: 10,
      rate: 0,
    });
    expect(parseOptions(["--start=2026-11-26T05:00:00Z", "--hours=1", "--per-hour=1"])?.startMs).toBe(
      Date.parse("2026-11-26T05:00:00Z"),
    );
    expect(() => parseOptions(["--start", "2026-11-26T05", "--hours", "2"])).toThrow(
      "needs all of --start, --hours and --per-hour",
    );
    expect(() => parseOptions(["--start", "2026-11-26T05:30", "--hours", "1", "--per-hour", "1"])).toThrow(
      "--start must be a UTC hour like 2026-03-01T10",
    );
    expect(() => parseOptions(["--start", "2026-11-26T05", "--hours", "1", "--per-hour", "1", "--count", "3"])).toThrow(
      "--count and --duration are for live mode",
    );
  });

  test("live mode can run an accelerated clock from a given time, for the sandbox's fast hours", () => {
    expect(parseOptions(["--clock-start", "2026-11-26T05:10:00Z", "--clock-factor", "60"])).toMatchObject({
      mode: "live",
      clockStartMs: Date.parse("2026-11-26T05:10:00Z"),
      clockFactor: 60,
    });
    expect(parseOptions([])).toMatchObject({ clockStartMs: null, clockFactor: 1 });
    // one wall-clock minute at 60x is one event-time hour, counted from the clock's start
    expect(liveEventTime(1_000_060_000, 1_000_000_000, Date.parse("2026-11-26T05:10:00Z"), 60)).toBe(
      Date.parse("2026-11-26T06:10:00Z"),
    );
    expect(() => parseOptions(["--clock-factor", "0.5"])).toThrow(
      "--clock-factor must be a number from 1 to 100000, got '0.5'",
    );
    expect(() => parseOptions(["--clock-start", "yesterday"])).toThrow("--clock-start must be an ISO time");
    expect(() =>
      parseOptions(["--start", "2026-11-26T05", "--hours", "1", "--per-hour", "1", "--clock-factor", "60"]),
    ).toThrow("--clock-start and --clock-factor are for live mode");
  });

  test("bad values are refused with a sentence naming the option", () => {
    expect(() => parseOptions(["--rate=-5"])).toThrow(
      "--rate must be a number of entries per second >= 0 (0 = unthrottled), got '-5'",
    );
    expect(() => parseOptions(["--bogus"])).toThrow("unknown option '--bogus'");
    expect(() => parseOptions(["--count"])).toThrow("--count needs a value");
    expect(() => parseOptions(["--malformed-rate", "1.5"])).toThrow("--malformed-rate must be a share between 0 and 1");
    expect(() => parseOptions(["--brokers", "localhost"])).toThrow("--brokers must be host:port");
    expect(() => parseOptions(["--seed", "abc"])).toThrow("--seed must be a whole number");
    expect(() => parseOptions(["stray"])).toThrow("unexpected argument 'stray'");
  });

  test("every option can come from the environment, and a flag wins over it", () => {
    const env = {
      GENERATOR_BROKERS: "10.0.0.5:9092",
      GENERATOR_TOPIC: "clicks",
      GENERATOR_RATE: "250",
      GENERATOR_STDOUT: "1",
      GENERATOR_MALFORMED_RATE: "0.1",
    };
    expect(parseOptions([], env)).toMatchObject({
      brokers: ["10.0.0.5:9092"],
      topic: "clicks",
      rate: 250,
      stdout: true,
      malformedRate: 0.1,
    });
    expect(parseOptions(["--rate", "7"], env)?.rate).toBe(7);
    expect(() => parseOptions([], { GENERATOR_RATE: "fast" })).toThrow("--rate must be");
  });

  test("--help asks for the usage text", () => {
    expect(parseOptions(["--count", "1", "--help"])).toBeNull();
  });
});
