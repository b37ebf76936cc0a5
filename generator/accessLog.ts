// The generator's `--format combined`: the same traffic as a web server's access log, each line shipped as
// a file shipper sends it (Vector's file source with offset_key, encoded as JSON: message, host, file,
// offset). Between the pages, browsers also fetch assets: those lines are no entry and are ignored
// downstream. Each entry's event_id is the one the streaming job derives from the line's position.
import { v5 as uuidV5 } from "uuid";
import { EVENT_ID_NAMESPACE, MAX_ENTRY_BYTES, WeblogEntry } from "../contract/weblogEntry";
import { MALFORMED_KINDS, MalformedKind } from "./malformed";
import type { Random } from "./random";

export const SHIPPED_HOST = "web-1";

/**
 * The log file a generator run writes, one per run (seed): a restarted or second generator starts a new
 * file at offset 0, and a file of its own keeps its lines' positions, so their event ids, apart from the
 * earlier run's (one shared name would repeat them, and the hourly count would keep one of each pair).
 */
export function shippedFile(seed: number): string {
  return `/var/log/nginx/access-${seed}.log`;
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const ASSETS = ["/static/app.css", "/static/app.js", "/static/logo.svg", "/favicon.ico", "/static/fonts/inter.woff2"];

/** The cart URL of a product under the default cart pattern (contract/access-log.json; a test checks it). */
export function cartUrl(productId: string): string {
  return `/cart/items/${productId}`;
}

/** The time as the combined format writes it: 26/Nov/2026:14:05:07 +0000 (whole seconds). */
export function accessLogTime(epochMs: number): string {
  const d = new Date(epochMs);
  const two = (n: number) => String(n).padStart(2, "0");
  return `${two(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${d.toISOString().slice(11, 19)} +0000`;
}

/** An entry as nginx's `combined` line; a cart addition is a POST to its product's cart URL. */
export function combinedLine(entry: WeblogEntry, bytes: number, referer = "-"): string {
  const url = entry.pid === null ? entry.url : cartUrl(entry.product_id);
  return (
    `${entry.ip} - - [${accessLogTime(Date.parse(entry.event_time))}] "${entry.method} ${url} HTTP/1.1" ` +
    `${entry.status} ${bytes} "${referer}" "${entry.user_agent}"`
  );
}

/**
 * The ground truth's id of a line shipped with its position: host, file and offset. The streaming job's id
 * (jobs/access_log.py) also hashes the line's bytes, so the two differ; the ground truth is compared by counts.
 */
export function positionEventId(host: string, file: string, offset: number): string {
  return uuidV5(`file\0${host}\0${file}\0${offset}`, EVENT_ID_NAMESPACE);
}

export interface ShippedLine {
  value: Buffer;
  /** the entry the line stands for, with the event_id derived from its position; null for an asset or a broken line */
  entry: WeblogEntry | null;
}

/** One log file on one host: a running byte offset, as a shipper reports it. */
export class AccessLogFile {
  private offset = 0;

  constructor(
    readonly host: string,
    readonly file: string,
  ) {}

  /** plain: the line's own bytes, as a shipper sending raw text does (no position: the job uses Kafka's). */
  ship(line: Buffer | string, entry: WeblogEntry | null = null, plain = false): ShippedLine {
    const bytes = Buffer.isBuffer(line) ? line : Buffer.from(line);
    const at = this.offset;
    this.offset += bytes.length + 1; // the newline the server wrote after it
    const value = plain
      ? bytes
      : Buffer.from(
          JSON.stringify({
            message: bytes.toString("utf8"),
            host: this.host,
            file: this.file,
            offset: at,
            source_type: "file",
          }),
        );
    return {
      value,
      entry: entry && {
        ...entry,
        event_id: positionEventId(this.host, this.file, at),
        url: entry.pid === null ? entry.url : cartUrl(entry.product_id),
      },
    };
  }
}

/** An asset request of the same visitor, logged just after a page: not an entry. */
export function assetLine(entry: Pick<WeblogEntry, "ip" | "user_agent" | "event_time">, random: Random): string {
  const asset = random.pick(ASSETS);
  return `${entry.ip} - - [${accessLogTime(Date.parse(entry.event_time))}] "GET ${asset} HTTP/1.1" 200 ${1000 + random.int(90_000)} "-" "${entry.user_agent}"`;
}

/** A line broken the way a log can be: cut short, bad bytes, a field missing or mistyped, a foreign time, a runaway header. */
export function corruptLine(entry: WeblogEntry, random: Random): { kind: MalformedKind; line: Buffer } {
  const kind = random.pick(MALFORMED_KINDS);
  const line = combinedLine(entry, 512);
  switch (kind) {
    case "not_json":
      return { kind, line: Buffer.from(line.slice(0, 20 + random.int(line.length - 40))) };
    case "invalid_utf8":
      // JSON text cannot hold invalid bytes (a shipper would send U+FFFD): this kind is shipped plain.
      return { kind, line: Buffer.concat([Buffer.from(line), Buffer.from([0xff, 0xfe])]) };
    case "missing_field":
      return { kind, line: Buffer.from(line.slice(0, line.lastIndexOf(' "'))) };
    case "wrong_type":
      return { kind, line: Buffer.from(line.replace(` ${entry.status} 512 `, " OK 512 ")) };
    case "bad_timestamp":
      return { kind, line: Buffer.from(line.replace(/\[[^\]]+\]/, `[${entry.event_time}]`)) };
    case "oversize":
      return {
        kind,
        line: Buffer.from(line.replace(`"${entry.user_agent}"`, `"${entry.user_agent}${"x".repeat(MAX_ENTRY_BYTES)}"`)),
      };
  }
}
