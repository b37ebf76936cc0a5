// The settings that map a web server's access-log line to an entry (jobs/access_log.py applies them):
// their defaults (contract/access-log.json), what each accepts, and the streaming job's flags for them.
// The stack's config and the sandbox's flags both validate with these, so both say the same thing.
import defaults from "./access-log.json";
import { urlPatternProblem } from "./urlPatterns";

export type InputFormat = "json" | "combined";
export const INPUT_FORMATS: readonly InputFormat[] = ["json", "combined"];

export interface AccessLogSettings {
  /** regex of product-page URLs (path and query), named group product_id */
  productUrlPattern: string;
  /** HTTP method of an add-to-cart request */
  cartMethod: string;
  /** regex of add-to-cart URLs, named group product_id */
  cartUrlPattern: string;
  /** statuses that count, e.g. "200-399" or "200-299,304" */
  countedStatuses: string;
}

export const ACCESS_LOG_DEFAULTS: AccessLogSettings = {
  productUrlPattern: defaults.productUrlPattern,
  cartMethod: defaults.cartMethod,
  cartUrlPattern: defaults.cartUrlPattern,
  countedStatuses: defaults.countedStatuses,
};

const SUBSET =
  "no backreference, lookaround or nested repetition, and no repetition but the last that can also match what may follow it, as .*-.* does";

/** What each setting accepts, in the words of an error message. */
export const ACCEPTS: Record<keyof AccessLogSettings, string> = {
  productUrlPattern: `a regular expression with a named group product_id in the subset that cannot backtrack for long (${SUBSET}), e.g. ^/products/(?<product_id>[^/?#]+)`,
  cartMethod: "an HTTP method in capitals, e.g. POST",
  cartUrlPattern: `a regular expression with a named group product_id in the subset that cannot backtrack for long (${SUBSET}), e.g. ^/cart/items/(?<product_id>[^/?#]+)`,
  countedStatuses: "HTTP statuses or ranges separated by commas, e.g. 200-399 or 200-299,304",
};

function isUrlPattern(value: string): boolean {
  try {
    // Every named group appears in `groups`, matched or not; the empty alternative always matches.
    const groups = new RegExp(`(?:${value})|`).exec("")?.groups;
    return groups !== undefined && "product_id" in groups && urlPatternProblem(value) === undefined;
  } catch {
    return false;
  }
}

function isStatusList(value: string): boolean {
  return value.split(",").every((part) => {
    const m = /^\s*([1-5]\d\d)(?:\s*-\s*([1-5]\d\d))?\s*$/.exec(part);
    return m !== null && Number(m[2] ?? m[1]) >= Number(m[1]);
  });
}

const VALID: Record<keyof AccessLogSettings, (value: string) => boolean> = {
  productUrlPattern: isUrlPattern,
  cartMethod: (v) => /^[A-Z]+$/.test(v),
  cartUrlPattern: isUrlPattern,
  countedStatuses: isStatusList,
};

/** The first setting whose value is not accepted, or undefined when all are. */
export function invalidAccessLogSetting(s: AccessLogSettings): keyof AccessLogSettings | undefined {
  return (Object.keys(VALID) as (keyof AccessLogSettings)[]).find((key) => !VALID[key](s[key]));
}

/** The streaming job's flags (jobs/weblog_stream.py) for an input format and its settings. */
export function streamingJobInputArgs(format: InputFormat, s: AccessLogSettings): string[] {
  if (format === "json") return ["--input-format", "json"];
  return [
    "--input-format",
    "combined",
    "--product-url-pattern",
    s.productUrlPattern,
    "--cart-method",
    s.cartMethod,
    "--cart-url-pattern",
    s.cartUrlPattern,
    "--counted-statuses",
    s.countedStatuses,
  ];
}
