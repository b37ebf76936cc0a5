// With traffic of the user's own there is no ground truth to reconcile with: the report gives the account
// instead, every line that came in and where it went, from the streaming job's counts, the hours it marked
// complete and the table.
import { AccessLogCounts } from "./accessLogAccount";
import { Health } from "./health";
import { HourShown } from "./hourlyActivity";

export interface TrafficAccount {
  /** lines (access-log input) or messages (JSON input) the streaming job read */
  linesIn: number;
  /** of them, entries into raw */
  intoRaw: number;
  quarantined: number;
  /** access-log lines that are neither a product-page visit nor an add-to-cart (none with JSON input) */
  ignored: number;
  /** the hours loaded into the table (a quiet one too) */
  loadedHours: number;
  /** raw entries of the loaded hours, per their "hour complete" lines */
  rawOfLoaded: number;
  /** visits and cart additions the table counts for them */
  counted: number;
  /** raw entries of the loaded hours that repeat an event_id: counted once */
  repeated: number;
}

/**
 * The account; `accessLog`: the job's "access log:" counts (null with JSON input, where every message is an
 * entry or quarantined, so the hours' "hour complete" lines hold them all).
 */
export function trafficAccount(
  health: Health,
  hours: readonly HourShown[],
  accessLog: AccessLogCounts | null,
): TrafficAccount {
  const loaded = new Set(hours.filter((h) => h.outcome === "loaded" || h.outcome === "quiet").map((h) => h.hour));
  const marked = health.hours.filter((h) => h.rows !== null);
  const rawOfLoaded = marked.filter((h) => loaded.has(h.hour)).reduce((a, h) => a + (h.rows ?? 0), 0);
  const counted = hours.filter((h) => loaded.has(h.hour)).reduce((a, h) => a + h.visits + h.cartAdds, 0);
  const intoRaw = accessLog ? accessLog.visit + accessLog.cart_add : marked.reduce((a, h) => a + (h.rows ?? 0), 0);
  const quarantined = accessLog ? accessLog.malformed : marked.reduce((a, h) => a + (h.quarantined ?? 0), 0);
  const ignored = accessLog ? accessLog.ignored : 0;
  return {
    linesIn: accessLog ? accessLog.lines : intoRaw + quarantined,
    intoRaw,
    quarantined,
    ignored,
    loadedHours: loaded.size,
    rawOfLoaded,
    counted,
    repeated: rawOfLoaded - counted,
  };
}

/** The account in two sentences: what came in, and what the table counts of it. */
export function formatAccount(a: TrafficAccount): string {
  return (
    `${a.linesIn} lines in: ${a.intoRaw} entries into raw, ${a.quarantined} quarantined, ${a.ignored} ignored (neither a product-page visit nor an add-to-cart). ` +
    `Of the ${a.rawOfLoaded} raw entries of the ${a.loadedHours} loaded ${a.loadedHours === 1 ? "hour" : "hours"}, the table counts ${a.counted}; ` +
    `${a.repeated} ${a.repeated === 1 ? "was a repeated delivery" : "were repeated deliveries"} (same event_id), counted once.`
  );
}
