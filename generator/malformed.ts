// Deliberately broken entries, for testing the consumers' quarantine: each kind breaks the contract in
// one way a real web tier could (a truncated write, a bad encoding, a schema drift, an unparseable
// time, a runaway header). None of them counts as a visit or a cart addition.
import { MAX_ENTRY_BYTES, WeblogEntry } from "../contract/weblogEntry";
import schema from "../contract/weblog-entry.schema.json";
import type { Random } from "./random";

export const MALFORMED_KINDS = [
  "not_json",
  "invalid_utf8",
  "missing_field",
  "wrong_type",
  "bad_timestamp",
  "oversize",
] as const;
export type MalformedKind = (typeof MALFORMED_KINDS)[number];

const REQUIRED_FIELDS = schema.required as ReadonlyArray<keyof WeblogEntry>;

export function corrupt(entry: WeblogEntry, random: Random): { kind: MalformedKind; value: Buffer } {
  const kind = random.pick(MALFORMED_KINDS);
  const json = JSON.stringify(entry);
  switch (kind) {
    case "not_json":
      // a write cut short: never a newline inside, so NDJSON output keeps one message per line
      return { kind, value: Buffer.from(json.slice(0, 20 + random.int(json.length - 40))) };
    case "invalid_utf8": {
      const [before, after] = json.split(entry.user_agent);
      return {
        kind,
        value: Buffer.concat([Buffer.from(before), Buffer.from([0x4d, 0xff, 0xfe, 0xc3, 0x28]), Buffer.from(after)]),
      };
    }
    case "missing_field": {
      const copy: Partial<WeblogEntry> = { ...entry };
      delete copy[random.pick(REQUIRED_FIELDS)];
      return { kind, value: Buffer.from(JSON.stringify(copy)) };
    }
    case "wrong_type":
      return { kind, value: Buffer.from(JSON.stringify({ ...entry, status: String(entry.status) })) };
    case "bad_timestamp": {
      // the access-log time format, which is not RFC 3339
      const d = new Date(entry.event_time);
      const month = d.toLocaleString("en-US", { month: "short", timeZone: "UTC" });
      const apache = `${String(d.getUTCDate()).padStart(2, "0")}/${month}/${d.getUTCFullYear()}:${d.toISOString().slice(11, 19)} +0000`;
      return { kind, value: Buffer.from(JSON.stringify({ ...entry, event_time: apache })) };
    }
    case "oversize": {
      const padding = "x".repeat(MAX_ENTRY_BYTES + 1 - json.length + entry.user_agent.length);
      return { kind, value: Buffer.from(JSON.stringify({ ...entry, user_agent: entry.user_agent + padding })) };
    }
  }
}
