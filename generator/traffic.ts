// The pure core of the generator: a seeded model of shoppers browsing a catalogue. Each call to next()
// gives the next log entry (or, at the configured rate, a deliberately broken one) for a given event
// time. No clock, no I/O: the same seed and the same event times always give the same bytes.
import type { WeblogEntry } from "../contract/weblogEntry";
import { AccessLogFile, assetLine, combinedLine, corruptLine, SHIPPED_HOST, shippedFile } from "./accessLog";
import { corrupt, MalformedKind } from "./malformed";
import { Random, seededRandom, zipfSampler } from "./random";

export interface TrafficOptions {
  seed: number;
  /** catalogue size: products P000001..P<products> */
  products: number;
  /** share of entries, 0..1, replaced by a broken one */
  malformedRate: number;
  /** share of messages, 0..1, that deliver the previous valid entry again (same bytes), as a retry does */
  duplicateRate?: number;
  /** json: contract entries (default); combined: access-log lines in a shipper's envelope */
  format?: "json" | "combined";
}

/** One message for Kafka: key = session id; entry is null when the value is deliberately broken or ignored. */
export interface Emission {
  key: string;
  value: Buffer;
  entry: WeblogEntry | null;
  malformed: MalformedKind | null;
  /** true when this message delivers an entry already sent (at-least-once delivery) */
  duplicate?: boolean;
  /** an access-log line that is no entry (an asset): counted apart, never as a visit or cart addition */
  ignored?: boolean;
}

// Weighted like a shop's real mix: mostly mobile and desktop browsers, a few crawlers.
const USER_AGENTS: ReadonlyArray<readonly [string, number]> = [
  [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
    28,
  ],
  [
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
    20,
  ],
  [
    "Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.6778.81 Mobile Safari/537.36",
    16,
  ],
  [
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
    9,
  ],
  [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.2903.70",
    8,
  ],
  ["Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0", 6],
  ["Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36", 3],
  [
    "Mozilla/5.0 (iPad; CPU OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
    4,
  ],
  [
    "Mozilla/5.0 (Linux; Android 13; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.6778.81 Mobile Safari/537.36",
    4,
  ],
  ["Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", 1],
  ["Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)", 1],
];
const UA_TOTAL = USER_AGENTS.reduce((sum, [, weight]) => sum + weight, 0);

// First octets of large consumer ISP ranges, so addresses look public (no 10/8, 127/8, 192.168/16, multicast).
const IP_FIRST_OCTETS = [
  24, 31, 37, 46, 62, 66, 68, 71, 73, 76, 78, 81, 82, 86, 89, 90, 93, 95, 98, 99, 101, 109, 112, 115, 122, 151, 174,
  176, 178, 185, 188, 190, 195, 201, 203, 212, 213, 217,
];

const REFERRER_QUERIES = ["", "", "", "", "", "?ref=search", "?ref=home", "?utm_source=newsletter", "?ref=recommended"];

/** Page views per session: 1 + geometric, mean about 6. */
const SESSION_CONTINUE_P = 0.82;
/** How many shoppers are on the site at once; their requests interleave. */
const CONCURRENT_SESSIONS = 64;
/** combined format: share of lines that are a browser fetching an asset rather than a page. */
const ASSET_SHARE = 0.2;
/** Zipf exponent of product popularity: the top 1% of products get roughly a third of the visits. */
const POPULARITY_EXPONENT = 1.1;

interface Session {
  id: string;
  ip: string;
  userAgent: string;
  /** a cart addition waiting to follow the visit just made */
  pendingCartAdd: string | null;
  done: boolean;
}

export function productId(index: number): string {
  return `P${String(index + 1).padStart(6, "0")}`;
}

function uuidV4(random: Random): string {
  const hex = random.hex32() + random.hex32() + random.hex32() + random.hex32();
  const variant = ((parseInt(hex[16], 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

function pickUserAgent(random: Random): string {
  let x = random.next() * UA_TOTAL;
  for (const [agent, weight] of USER_AGENTS) {
    x -= weight;
    if (x < 0) return agent;
  }
  return USER_AGENTS[0][0];
}

export class TrafficModel {
  private readonly random: Random;
  private readonly popularity: (random: Random) => number;
  /** rank -> product index, shuffled so the best sellers are not simply P000001.. */
  private readonly productByRank: number[];
  /** each product's chance that a visit leads to an add-to-cart: 1.5%..5.5%, a few percent overall */
  private readonly conversion: Float64Array;
  private readonly sessions: Session[] = [];
  private lastValid: Emission | null = null;
  private readonly accessLog: AccessLogFile;

  constructor(private readonly options: TrafficOptions) {
    this.random = seededRandom(options.seed, 1);
    this.accessLog = new AccessLogFile(SHIPPED_HOST, shippedFile(options.seed));
    const catalogue = seededRandom(options.seed, 2);
    this.popularity = zipfSampler(options.products, POPULARITY_EXPONENT);
    this.productByRank = Array.from({ length: options.products }, (_, i) => i);
    for (let i = this.productByRank.length - 1; i > 0; i--) {
      const j = catalogue.int(i + 1);
      [this.productByRank[i], this.productByRank[j]] = [this.productByRank[j], this.productByRank[i]];
    }
    this.conversion = Float64Array.from({ length: options.products }, () => 0.015 + 0.04 * catalogue.next());
  }

  /** The next message at event time eventTimeMs (epoch milliseconds). */
  next(eventTimeMs: number): Emission {
    const duplicateRate = this.options.duplicateRate ?? 0;
    if (duplicateRate > 0 && this.lastValid && this.random.chance(duplicateRate)) {
      return { ...this.lastValid, duplicate: true };
    }
    const slot = this.random.int(CONCURRENT_SESSIONS);
    let session = this.sessions[slot];
    if (!session || session.done) {
      session = this.newSession();
      this.sessions[slot] = session;
    }
    const eventTime = new Date(eventTimeMs).toISOString();
    if (this.options.format === "combined") return this.nextLine(session, eventTime);
    const entry = this.nextRequest(session, eventTime);
    if (this.options.malformedRate > 0 && this.random.chance(this.options.malformedRate)) {
      const { kind, value } = corrupt(entry, this.random);
      return { key: session.id, value, entry: null, malformed: kind };
    }
    this.lastValid = { key: session.id, value: Buffer.from(JSON.stringify(entry)), entry, malformed: null };
    return this.lastValid;
  }

  private nextLine(session: Session, eventTime: string): Emission {
    const r = this.random;
    const key = session.id;
    if (r.chance(ASSET_SHARE)) {
      const line = assetLine({ ip: session.ip, user_agent: session.userAgent, event_time: eventTime }, r);
      return { key, value: this.accessLog.ship(line).value, entry: null, malformed: null, ignored: true };
    }
    const entry = this.nextRequest(session, eventTime);
    if (this.options.malformedRate > 0 && r.chance(this.options.malformedRate)) {
      const { kind, line } = corruptLine(entry, r);
      return {
        key,
        value: this.accessLog.ship(line, null, kind === "invalid_utf8").value,
        entry: null,
        malformed: kind,
      };
    }
    const shipped = this.accessLog.ship(combinedLine(entry, 2000 + r.int(60_000)), entry);
    // A repeat delivers the same envelope, the line's same position, as a shipper's retry does.
    this.lastValid = { key, value: shipped.value, entry: shipped.entry, malformed: null };
    return this.lastValid;
  }

  private newSession(): Session {
    const r = this.random;
    const ip = `${r.pick(IP_FIRST_OCTETS)}.${r.int(256)}.${r.int(256)}.${1 + r.int(254)}`;
    return {
      id: `s-${r.hex32()}${r.hex32()}${r.hex32()}`,
      ip,
      userAgent: pickUserAgent(r),
      pendingCartAdd: null,
      done: false,
    };
  }

  private nextRequest(session: Session, eventTime: string): WeblogEntry {
    const r = this.random;
    const eventId = uuidV4(r);
    // Whole literals, keys in the contract's order (no spread: this runs once per entry).
    if (session.pendingCartAdd) {
      const product = session.pendingCartAdd;
      session.pendingCartAdd = null;
      session.done = !r.chance(SESSION_CONTINUE_P);
      return {
        event_id: eventId,
        event_time: eventTime,
        session_id: session.id,
        ip: session.ip,
        user_agent: session.userAgent,
        method: "POST",
        url: "/cart",
        status: 200,
        product_id: product,
        pid: product,
      };
    }
    const index = this.productByRank[this.popularity(r)];
    const product = productId(index);
    if (r.chance(this.conversion[index])) session.pendingCartAdd = product;
    else session.done = !r.chance(SESSION_CONTINUE_P);
    // A browser revalidating a cached page gets 304: still a visit of that page.
    const status = r.chance(0.03) ? 304 : 200;
    return {
      event_id: eventId,
      event_time: eventTime,
      session_id: session.id,
      ip: session.ip,
      user_agent: session.userAgent,
      method: "GET",
      url: `/products/${product}${r.pick(REFERRER_QUERIES)}`,
      status,
      product_id: product,
      pid: null,
    };
  }
}
