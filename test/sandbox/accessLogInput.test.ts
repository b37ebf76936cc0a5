import { accessLogAccount, accessLogCounts } from "../../sandbox/verdict/accessLogAccount";
import { parseOptions, SandboxOptions, UsageError } from "../../sandbox/commands/options";
import { streamSpec } from "../../sandbox/processes/parts";
import { sandboxLayout } from "../../sandbox/shared/layout";

const line = (batch: number, lines: number, ignored: number) =>
  `2026-11-28 09:00:00,000 weblog_stream INFO access log: ${JSON.stringify({ query: "weblogs", batch, lines, visit: lines - ignored, cart_add: 0, ignored, malformed: 0 })}`;

describe("the sandbox's access-log input", () => {
  it("is chosen with --format combined and takes the mapping settings as flags", () => {
    const o = parseOptions([
      "up",
      "--no-traffic",
      "--format",
      "combined",
      "--product-url",
      "^/p/(?<product_id>\\w+)",
      "--counted-statuses",
      "200,304",
    ]) as SandboxOptions;
    expect(o.format).toBe("combined");
    expect(o.accessLog).toMatchObject({
      productUrlPattern: "^/p/(?<product_id>\\w+)",
      countedStatuses: "200,304",
      cartMethod: "POST",
    });
    const args = streamSpec(sandboxLayout("/tmp/sandbox-x"), "127.0.0.1:9092", { idleSeconds: 10, input: o }).args;
    expect(args.slice(args.indexOf("--input-format"))).toEqual([
      "--input-format",
      "combined",
      "--product-url-pattern",
      "^/p/(?<product_id>\\w+)",
      "--cart-method",
      "POST",
      "--cart-url-pattern",
      o.accessLog.cartUrlPattern,
      "--counted-statuses",
      "200,304",
    ]);
    expect((parseOptions([]) as SandboxOptions).format).toBe("json");
  });

  it.each([
    [["--format", "apache"], "--format must be json or combined, got 'apache'"],
    [
      ["up", "--product-url", "^/products/([^/]+)"],
      "--product-url must be a regular expression with a named group product_id",
    ],
    [["up", "--cart-url", "(?<product_id>"], "--cart-url must be a regular expression with a named group product_id"],
    [["up", "--cart-method", "post"], "--cart-method must be an HTTP method in capitals"],
    [["up", "--counted-statuses", "2xx"], "--counted-statuses must be HTTP statuses or ranges"],
    // The generator writes the default URLs: settings of your own are for your own lines only.
    [["--format", "combined", "--cart-method", "GET"], "--cart-method is an option of up, not of run"],
    [["up", "--format", "combined", "--cart-method", "GET"], "use them with 'up --format combined --no-traffic'"],
    [["up", "--no-traffic", "--cart-method", "GET"], "use them with 'up --format combined --no-traffic'"],
  ])("refuses %j in one sentence", (argv, message) => {
    expect(() => parseOptions(argv)).toThrow(UsageError);
    expect(() => parseOptions(argv)).toThrow(message);
  });

  it("accounts for every line shipped: raw + quarantined + ignored, a re-run batch counted once", () => {
    const log = ["starting", line(0, 60, 10), line(1, 40, 5), line(1, 40, 5)];
    const counts = accessLogCounts(log);
    expect(counts).toEqual({ lines: 100, visit: 85, cart_add: 0, ignored: 15, malformed: 0 });
    expect(accessLogAccount(100, 83, 2, counts)).toEqual({
      exact: true,
      text: "access-log lines shipped: 100 = 83 raw + 2 quarantined + 15 ignored (not product pages or cart additions) (exact)",
    });
    expect(accessLogAccount(100, 84, 2, counts).exact).toBe(false);
    expect(accessLogAccount(101, 84, 2, counts).exact).toBe(false);
    expect(accessLogCounts(["starting"])).toBeNull();
    expect(accessLogAccount(100, 83, 2, null).exact).toBe(false);
  });
});
