// The access-log settings as the stack's config and the sandbox's flags both validate them, and the streaming
// job's flags they become.
import {
  ACCEPTS,
  ACCESS_LOG_DEFAULTS,
  AccessLogSettings,
  invalidAccessLogSetting,
  streamingJobInputArgs,
} from "../../contract/accessLogSettings";

const withSetting = (key: keyof AccessLogSettings, value: string) =>
  invalidAccessLogSetting({ ...ACCESS_LOG_DEFAULTS, [key]: value });

describe("the access-log settings", () => {
  it("accept their defaults", () => {
    expect(invalidAccessLogSetting(ACCESS_LOG_DEFAULTS)).toBeUndefined();
  });

  it.each([["200-399"], ["200-299,304"], ["304"], ["200-200"], [" 200 - 299 , 304 "], ["100-599"]])(
    "accept the counted statuses %j",
    (value) => {
      expect(withSetting("countedStatuses", value)).toBeUndefined();
    },
  );

  it.each([
    ["399-200", "a range whose bounds are reversed"],
    ["600", "a status above 599"],
    ["099", "a status below 100"],
    ["2000", "four digits"],
    ["x200", "a word before the status"],
    ["200x", "a word after the status"],
    ["200,abc", "one part that is no status"],
    ["200-", "a range with no end"],
    ["200--299", "two dashes"],
    ["", "nothing"],
  ])("refuse the counted statuses %j (%s)", (value) => {
    expect(withSetting("countedStatuses", value)).toBe("countedStatuses");
  });

  it.each([["POST"], ["PUT"], ["PURGE"]])("accept the cart method %s", (value) => {
    expect(withSetting("cartMethod", value)).toBeUndefined();
  });

  it.each([["post"], ["POST "], [" POST"], ["xPOST"], ["POSTx"], ["PO-ST"], [""]])(
    "refuse the cart method %j",
    (value) => {
      expect(withSetting("cartMethod", value)).toBe("cartMethod");
    },
  );

  it.each([
    ["^/p/(?<id>\\d+)$", "a named group, but not product_id"],
    ["^/p/(\\d+)$", "no named group at all"],
    ["^/p/(?<product_id>[z-a]+)$", "a class JavaScript cannot compile"],
    ["^/p/(?<product_id>.*)-(.*)$", "a pattern that can backtrack for long"],
  ])("refuse the URL pattern %s (%s), for products and for cart additions", (value) => {
    expect(withSetting("productUrlPattern", value)).toBe("productUrlPattern");
    expect(withSetting("cartUrlPattern", value)).toBe("cartUrlPattern");
  });

  it("name the first setting refused, in the order they are documented", () => {
    expect(invalidAccessLogSetting({ ...ACCESS_LOG_DEFAULTS, cartMethod: "post", countedStatuses: "600" })).toBe(
      "cartMethod",
    );
    expect(Object.keys(ACCEPTS)).toEqual(["productUrlPattern", "cartMethod", "cartUrlPattern", "countedStatuses"]);
  });
});

describe("the streaming job's input flags", () => {
  it("are the format alone for JSON entries", () => {
    expect(streamingJobInputArgs("json", ACCESS_LOG_DEFAULTS)).toEqual(["--input-format", "json"]);
  });

  it("carry every setting for access-log lines", () => {
    const settings = {
      productUrlPattern: "^/p/(?<product_id>\\d+)$",
      cartMethod: "PUT",
      cartUrlPattern: "^/c/(?<product_id>\\d+)$",
      countedStatuses: "200-299",
    };
    expect(streamingJobInputArgs("combined", settings)).toEqual([
      "--input-format",
      "combined",
      "--product-url-pattern",
      "^/p/(?<product_id>\\d+)$",
      "--cart-method",
      "PUT",
      "--cart-url-pattern",
      "^/c/(?<product_id>\\d+)$",
      "--counted-statuses",
      "200-299",
    ]);
  });
});
