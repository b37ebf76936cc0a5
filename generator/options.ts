// The generator's command line: every flag can also come from the environment (GENERATOR_<FLAG>, e.g.
// GENERATOR_MALFORMED_RATE), which is how the cloud's service unit configures the bundle; flags win.
import { randomInt } from "node:crypto";

export interface GeneratorOptions {
  mode: "live" | "simulated";
  brokers: string[];
  topic: string;
  partitions: number;
  /** entries per second; 0 = as fast as the destination takes them */
  rate: number;
  /** live mode: stop after this many entries / seconds (null = until stopped) */
  count: number | null;
  durationSeconds: number | null;
  /** live mode: event time of the first entry (epoch ms; null = now) and how much faster than the wall clock it runs */
  clockStartMs: number | null;
  clockFactor: number;
  /** simulated mode: first hour (epoch ms), number of hours, entries per hour */
  startMs: number | null;
  hours: number;
  perHour: number;
  seed: number;
  malformedRate: number;
  duplicateRate: number;
  products: number;
  stdout: boolean;
  summaryFile: string | null;
  brokerTimeoutSeconds: number;
  batchSize: number;
  compression: "gzip" | "none";
  kafkaAuth: KafkaAuth;
  /** scram: the SASL/SCRAM-SHA-512 principal, and its password (from the environment only, never a flag) */
  kafkaUser: string;
  kafkaPassword: string | null;
  /** json: contract entries; combined: access-log lines in a shipper's envelope */
  format: "json" | "combined";
}

export const KAFKA_AUTHS = ["none", "google", "scram"] as const;
export type KafkaAuth = (typeof KAFKA_AUTHS)[number];
/** The only way to hand the generator its SCRAM password: a flag would show it in the process list. */
export const KAFKA_PASSWORD_ENV = "GENERATOR_KAFKA_PASSWORD";

export class UsageError extends Error {}

export const USAGE = `Usage: weblog-generator [options]

Sends realistic e-commerce web-log entries (product-page visits and add-to-cart requests, JSON per the
event contract) to a Kafka topic, keyed by session id, and reports the ground truth of what was sent.

Event time (two modes):
  live (default)        event_time is now; --rate entries/s for --count entries, --duration seconds, or
                        until SIGINT/SIGTERM
  --clock-start TIME    live: event time starts at TIME (RFC 3339) instead of now
  --clock-factor F      live: event time runs F times as fast as the wall clock (an accelerated sandbox) [1]
  --start HOUR          simulated: first UTC hour, e.g. 2026-11-26T00 or 2026-11-26T00:00:00Z
  --hours H             simulated: number of hours
  --per-hour N          simulated: entries per hour (H*N in all), sent as fast as --rate allows

Options:
  --brokers LIST        Kafka bootstrap servers, comma-separated     [127.0.0.1:9092]
  --topic NAME          topic, created if missing                   [weblogs]
  --partitions N        partitions when the topic is created        [3]
  --rate N              entries per second, 0 = unthrottled         [live 100, simulated 0]
  --count N             live: stop after N entries
  --duration S          live: stop after S seconds
  --seed N              0..4294967295; same seed and flags, same entries   [random, printed]
  --malformed-rate F    share 0..1 of deliberately broken entries   [0]
                        (not JSON, invalid UTF-8, missing field, wrong type, bad timestamp, oversize)
  --duplicate-rate F    share 0..<1 of messages that deliver the previous entry again  [0]
                        (same bytes and event_id, as a producer's retry or a re-shipped log does)
  --products N          catalogue size                              [1000]
  --stdout              write NDJSON to stdout instead of Kafka
  --summary FILE        also write the summary (ground truth) as JSON to FILE
  --broker-timeout S    give up when Kafka acknowledges nothing for S seconds   [60]
  --batch-size N        entries per produce request                 [1000]
  --compression C       gzip or none                                [gzip]
  --kafka-auth A        none, or google: TLS and SASL/OAUTHBEARER as the VM's service account
                        (Google Cloud Managed Service for Apache Kafka); or scram:
                        SASL/SCRAM-SHA-512 as --kafka-user, password from
                        GENERATOR_KAFKA_PASSWORD (the stack's own broker)   [none]
  --kafka-user NAME     the SCRAM principal                         [generator]
  --format F            json: contract entries; combined: nginx/Apache access-log lines, each in a
                        file shipper's JSON envelope (message, host, file, offset), plus the assets
                        browsers fetch (ignored downstream, counted as "ignored")   [json]
  -h, --help            this help

Every option can also be set as GENERATOR_<NAME> in the environment (GENERATOR_BROKERS,
GENERATOR_PER_HOUR, GENERATOR_STDOUT=1, ...); a flag wins over the environment.
Exit status: 0 all acknowledged; 1 bad usage; 2 Kafka unreachable or an entry not acknowledged.`;

type Kind = "string" | "number" | "boolean";
const FLAGS: Record<string, Kind> = {
  brokers: "string", topic: "string", partitions: "number", rate: "number", count: "number", duration: "number",
  start: "string", hours: "number", "per-hour": "number", seed: "number", "malformed-rate": "number",
  "duplicate-rate": "number",
  products: "number", stdout: "boolean", summary: "string", "broker-timeout": "number", "batch-size": "number",
  compression: "string", "kafka-auth": "string", "kafka-user": "string", format: "string", "clock-start": "string", "clock-factor": "number",
};

const envName = (flag: string) => `GENERATOR_${flag.toUpperCase().replace(/-/g, "_")}`;

function readRaw(argv: readonly string[], env: NodeJS.ProcessEnv): Map<string, string> {
  const raw = new Map<string, string>();
  for (const flag of Object.keys(FLAGS)) {
    const value = env[envName(flag)];
    if (value !== undefined && value !== "") raw.set(flag, value);
  }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith("--")) throw new UsageError(`unexpected argument '${arg}' (see --help)`);
    const [name, inline] = arg.slice(2).split(/=(.*)/s, 2);
    const kind = FLAGS[name];
    if (!kind) throw new UsageError(`unknown option '--${name}' (see --help)`);
    if (kind === "boolean") {
      raw.set(name, inline ?? "true");
      continue;
    }
    const value = inline ?? argv[++i];
    if (value === undefined) throw new UsageError(`--${name} needs a value`);
    raw.set(name, value);
  }
  return raw;
}

function numberOf(raw: Map<string, string>, flag: string, check: (n: number) => boolean, what: string): number | undefined {
  const text = raw.get(flag);
  if (text === undefined) return undefined;
  const n = Number(text);
  if (text.trim() === "" || !Number.isFinite(n) || !check(n)) throw new UsageError(`--${flag} must be ${what}, got '${text}'`);
  return n;
}

const isCount = (n: number) => Number.isInteger(n) && n >= 1;

/** "2026-11-26T14", "2026-11-26T14:00Z", "2026-11-26T14:00:00.000Z" -> epoch ms of that UTC hour */
function parseHour(text: string): number {
  const match = /^(\d{4}-\d{2}-\d{2})T(\d{2})(?::00(?::00(?:\.0+)?)?)?(?:Z|\+00:00)?$/.exec(text);
  const ms = match ? Date.parse(`${match[1]}T${match[2]}:00:00Z`) : NaN;
  if (!match || Number.isNaN(ms) || new Date(ms).toISOString().slice(0, 13) !== `${match[1]}T${match[2]}`) {
    throw new UsageError(`--start must be a whole UTC hour like 2026-11-26T14 or 2026-11-26T14:00:00Z, got '${text}'`);
  }
  return ms;
}

/** One of the choices (the first when the flag is not given). */
function choiceOf<T extends string>(raw: Map<string, string>, flag: string, choices: readonly [T, ...T[]]): T {
  const text = raw.get(flag) ?? choices[0];
  if (!(choices as readonly string[]).includes(text)) throw new UsageError(`--${flag} must be ${choices.join(" or ")}, got '${text}'`);
  return text as T;
}

function booleanOf(raw: Map<string, string>, flag: string): boolean {
  const text = raw.get(flag);
  if (text === undefined) return false;
  if (/^(1|true|yes)$/i.test(text)) return true;
  if (/^(0|false|no)$/i.test(text)) return false;
  throw new UsageError(`--${flag} takes no value (or ${envName(flag)}=1/0), got '${text}'`);
}

/** Parses flags over environment; throws UsageError with one sentence naming the bad option. Null = --help. */
export function parseOptions(argv: readonly string[], env: NodeJS.ProcessEnv = {}): GeneratorOptions | null {
  if (argv.includes("--help") || argv.includes("-h")) return null;
  const raw = readRaw(argv, env);
  const simulated = ["start", "hours", "per-hour"].filter((f) => raw.has(f));
  if (simulated.length > 0 && simulated.length < 3) {
    throw new UsageError("simulated mode needs all of --start, --hours and --per-hour");
  }
  const mode = simulated.length === 3 ? "simulated" : "live";
  if (mode === "simulated" && (raw.has("count") || raw.has("duration"))) {
    throw new UsageError("--count and --duration are for live mode; simulated mode sends --hours x --per-hour entries");
  }
  if (mode === "simulated" && (raw.has("clock-start") || raw.has("clock-factor"))) {
    throw new UsageError("--clock-start and --clock-factor are for live mode; simulated mode takes its times from --start");
  }
  const clockStart = raw.get("clock-start");
  const clockStartMs = clockStart === undefined ? null : Date.parse(clockStart);
  if (clockStartMs !== null && (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(clockStart as string) || Number.isNaN(clockStartMs))) {
    throw new UsageError(`--clock-start must be an RFC 3339 time like 2026-11-26T14:05:00Z, got '${clockStart}'`);
  }
  const brokers = (raw.get("brokers") ?? "127.0.0.1:9092").split(",").map((b) => b.trim()).filter(Boolean);
  for (const broker of brokers) {
    if (!/^[^\s:]+:\d{1,5}$/.test(broker)) throw new UsageError(`--brokers must be host:port[,host:port...], got '${broker}'`);
  }
  if (brokers.length === 0) throw new UsageError("--brokers must name at least one host:port");
  const kafkaAuth = choiceOf(raw, "kafka-auth", KAFKA_AUTHS as unknown as [KafkaAuth, ...KafkaAuth[]]);
  const kafkaPassword = env[KAFKA_PASSWORD_ENV] || null;
  if (kafkaAuth === "scram" && kafkaPassword === null) {
    throw new UsageError(`--kafka-auth scram needs the password in the environment variable ${KAFKA_PASSWORD_ENV}`);
  }
  const kafkaUser = raw.get("kafka-user") ?? "generator";
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(kafkaUser)) throw new UsageError(`--kafka-user must be 1 to 64 letters, digits, '.', '_' or '-', got '${kafkaUser}'`);
  const topic = raw.get("topic") ?? "weblogs";
  if (!/^[A-Za-z0-9._-]{1,249}$/.test(topic)) throw new UsageError(`--topic must be a Kafka topic name ([A-Za-z0-9._-]), got '${topic}'`);
  return {
    mode,
    brokers,
    topic,
    partitions: numberOf(raw, "partitions", isCount, "a whole number >= 1") ?? 3,
    rate: numberOf(raw, "rate", (n) => n >= 0, "a number of entries per second >= 0 (0 = unthrottled)") ?? (mode === "live" ? 100 : 0),
    count: numberOf(raw, "count", isCount, "a whole number >= 1") ?? null,
    durationSeconds: numberOf(raw, "duration", (n) => n > 0, "a number of seconds > 0") ?? null,
    clockStartMs,
    clockFactor: numberOf(raw, "clock-factor", (n) => n >= 1 && n <= 100_000, "a number from 1 to 100000") ?? 1,
    startMs: raw.has("start") ? parseHour(raw.get("start") as string) : null,
    hours: numberOf(raw, "hours", isCount, "a whole number >= 1") ?? 0,
    perHour: numberOf(raw, "per-hour", isCount, "a whole number >= 1") ?? 0,
    seed: numberOf(raw, "seed", (n) => Number.isInteger(n) && n >= 0 && n <= 0xffffffff, "a whole number 0..4294967295") ?? randomInt(0, 0xffffffff),
    malformedRate: numberOf(raw, "malformed-rate", (n) => n >= 0 && n <= 1, "a share between 0 and 1") ?? 0,
    duplicateRate: numberOf(raw, "duplicate-rate", (n) => n >= 0 && n < 1, "a share from 0 up to (not including) 1") ?? 0,
    products: numberOf(raw, "products", (n) => isCount(n) && n <= 999_999, "a whole number 1..999999") ?? 1000,
    stdout: booleanOf(raw, "stdout"),
    summaryFile: raw.get("summary") ?? null,
    brokerTimeoutSeconds: numberOf(raw, "broker-timeout", (n) => n > 0, "a number of seconds > 0") ?? 60,
    batchSize: numberOf(raw, "batch-size", (n) => isCount(n) && n <= 100_000, "a whole number 1..100000") ?? 1000,
    compression: choiceOf(raw, "compression", ["gzip", "none"]),
    kafkaAuth,
    kafkaUser,
    kafkaPassword,
    format: choiceOf(raw, "format", ["json", "combined"]),
  };
}
