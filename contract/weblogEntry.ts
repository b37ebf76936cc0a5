// The event contract in TypeScript: the type, and a validator compiled from the one JSON Schema.
import Ajv2020 from "ajv/dist/2020";
import addFormats from "ajv-formats";
import schema from "./weblog-entry.schema.json";

export interface WeblogEntry {
  event_id: string;
  event_time: string;
  session_id: string;
  ip: string;
  user_agent: string;
  method: "GET" | "POST";
  url: string;
  status: number;
  product_id: string;
  /** null for a product-page visit; the product id for an add-to-cart */
  pid: string | null;
}

/** Entries larger than this many bytes (UTF-8) are refused by every consumer. */
export const MAX_ENTRY_BYTES: number = schema["x-max-entry-bytes"];

/**
 * The namespace of name-based (v5) event ids: an entry made from an access-log line gets the UUIDv5 of its
 * position in its source (host, file, byte offset), so the same line shipped twice has one event_id.
 */
export const EVENT_ID_NAMESPACE: string = schema["x-event-id-namespace"];

const ajv = new Ajv2020({ allErrors: true, strict: true });
ajv.addKeyword("x-max-entry-bytes");
ajv.addKeyword("x-event-id-namespace");
// {"field": "other"}: when field is not null it must equal other (pid names the product added to cart).
ajv.addKeyword({
  keyword: "x-equal-when-set",
  type: "object",
  schemaType: "object",
  error: {
    message: (cxt) =>
      `must have ${Object.keys(cxt.schema).join(", ")} equal to ${Object.values(cxt.schema).join(", ")}`,
  },
  validate: (pairs: Record<string, string>, data: Record<string, unknown>) =>
    Object.entries(pairs).every(([field, other]) => data[field] == null || data[field] === data[other]),
});
addFormats(ajv, ["uuid", "date-time", "ipv4", "ipv6"]);
const validate = ajv.compile<WeblogEntry>(schema);

export type Validation = { ok: true; entry: WeblogEntry } | { ok: false; errors: string[] };

/** Checks a parsed value against the contract; errors read like "/status must be <= 599". */
export function validateWeblogEntry(value: unknown): Validation {
  if (validate(value)) return { ok: true, entry: value };
  const errors = (validate.errors ?? []).map((e) => `${e.instancePath || "/"} ${e.message ?? "is invalid"}`);
  return { ok: false, errors };
}

/** The original design's rule: an entry whose pid is not null is an add-to-cart. */
export function isCartAdd(entry: Pick<WeblogEntry, "pid">): boolean {
  return entry.pid !== null;
}

// The contract's own event_time pattern: group 1 is the fraction (with its dot), group 2 the offset.
const RFC3339 = new RegExp(schema.properties.event_time.pattern);

/**
 * event_time (any RFC 3339 time: any fraction, any offset) as UTC epoch milliseconds, truncated as raw
 * stores it; NaN when it is not such a time.
 */
export function utcMillisOf(eventTime: string): number {
  const m = RFC3339.exec(eventTime);
  const day = eventTime.slice(0, 10);
  // Date.parse rolls 2026-02-30 over into March: the calendar day must survive a round trip.
  const midnight = Date.parse(`${day}T00:00:00Z`);
  if (!m || Number.isNaN(midnight) || new Date(midnight).toISOString().slice(0, 10) !== day) return NaN;
  const millis = ((m[1] ?? ".").slice(1) + "000").slice(0, 3);
  return Date.parse(`${day}T${eventTime.slice(11, 19)}.${millis}${m[2].toUpperCase()}`);
}

/** The UTC hour an entry counts in, as "YYYY-MM-DDTHH". */
export function hourOf(entry: Pick<WeblogEntry, "event_time">): string {
  return new Date(utcMillisOf(entry.event_time)).toISOString().slice(0, 13);
}
