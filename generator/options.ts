// The generator's command line: every flag can also come from the environment (GENERATOR_<FLAG>, e.g.
// GENERATOR_MALFORMED_RATE), which is how the cloud's service unit configures the bundle; flags win.
import { randomInt } from "node:crypto";
import { optionsHelp, OptionTable, parseCommandLine, parseIsoTime, UsageError } from "../commandLine/commandLine";

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

export { UsageError };

/** Every option, its --help line: parsing and help both read it. */
const OPTIONS: OptionTable = {
  "clock-start": {
    value: "TIME",
    help: "live: event time starts at TIME (ISO 8601 / RFC 3339, e.g. 2026-03-01T10:05:00Z) instead of now",
  },
  "clock-factor": {
    value: "F",
    help: "live: event time runs F times as fast as the wall clock (an accelerated sandbox) [1]",
  },
  start: { value: "HOUR", help: "simulated: first UTC hour, e.g. 2026-03-01T10 or 2026-03-01T10:00:00Z" },
  hours: { value: "H", help: "simulated: number of hours" },
  "per-hour": { value: "N", help: "simulated: entries per hour (H*N in all), sent as fast as --rate allows" },
  brokers: { value: "LIST", help: "Kafka bootstrap servers, comma-separated     [127.0.0.1:9092]" },
  topic: { value: "NAME", help: "topic, created if missing                   [weblogs]" },
  partitions: { value: "N", help: "partitions when the topic is created        [3]" },
  rate: { value: "N", help: "entries per second, 0 = unthrottled         [live 100, simulated 0]" },
  count: { value: "N", help: "live: stop after N entries" },
  duration: { value: "S", help: "live: stop after S seconds" },
  seed: { value: "N", help: "0..4294967295; same seed and flags, same entries   [random, printed]" },
  "malformed-rate": {
    value: "F",
    help: "share 0..1 of deliberately broken entries   [0]\n(not JSON, invalid UTF-8, missing field, wrong type, bad timestamp, oversize)",
  },
  "duplicate-rate": {
    value: "F",
    help: "share 0..<1 of messages that deliver the previous entry again  [0]\n(same bytes and event_id, as a producer's retry or a re-shipped log does)",
  },
  products: { value: "N", help: "catalogue size                              [1000]" },
  stdout: { help: "write NDJSON to stdout instead of Kafka (a reader that stops early, like head, is a normal end)" },
  summary: { value: "FILE", help: "also write the summary (ground truth) as JSON to FILE" },
  "broker-timeout": { value: "S", help: "give up when Kafka acknowledges nothing for S seconds   [60]" },
  "batch-size": { value: "N", help: "entries per produce request                 [1000]" },
  compression: { value: "C", help: "gzip or none                                [gzip]" },
  "kafka-auth": {
    value: "A",
    help: "none, or google: TLS and SASL/OAUTHBEARER as the VM's service account\n(Google Cloud Managed Service for Apache Kafka); or scram:\nSASL/SCRAM-SHA-512 as --kafka-user, password from\nGENERATOR_KAFKA_PASSWORD (the stack's own broker)   [none]",
  },
  "kafka-user": { value: "NAME", help: "the SCRAM principal                         [generator]" },
  format: {
    value: "F",
    help: 'json: contract entries; combined: nginx/Apache access-log lines, each in a\nfile shipper\'s JSON envelope (message, host, file, offset), plus the assets\nbrowsers fetch (ignored downstream, counted as "ignored")   [json]',
  },
};

export const USAGE = `Usage: weblog-generator [options]

Sends realistic e-commerce web-log entries (product-page visits and add-to-cart requests, JSON per the
event contract) to a Kafka topic, keyed by session id, and reports the ground truth of what was sent.

Event time (two modes): live (default), event_time is now (or from --clock-start), --rate entries/s for
--count entries, --duration seconds, or until SIGINT/SIGTERM; simulated, with --start, --hours and
--per-hour, every entry of the hours. Times are ISO 8601 / RFC 3339, UTC without an offset.

Options:
${optionsHelp(OPTIONS)}

Every option can also be set as GENERATOR_<NAME> in the environment (GENERATOR_BROKERS,
GENERATOR_PER_HOUR, GENERATOR_STDOUT=1, ...); a flag wins over the environment.
Exit status: 0 all acknowledged (or the reader of --stdout stopped reading); 1 Kafka unreachable or an
entry not acknowledged; 2 bad usage.`;

const envName = (flag: string) => `GENERATOR_${flag.toUpperCase().replace(/-/g, "_")}`;

/** The options given, as text: the environment's first, the flags' over them. Null = --help. */
function readRaw(argv: readonly string[], env: NodeJS.ProcessEnv): Map<string, string> | null {
  const cl = parseCommandLine({ options: OPTIONS }, argv);
  if (cl.help) return null;
  const raw = new Map<string, string>();
  for (const flag of Object.keys(OPTIONS)) {
    const value = env[envName(flag)];
    if (value !== undefined && value !== "") raw.set(flag, value);
  }
  for (const [flag, value] of Object.entries(cl.values))
    if (value !== undefined) raw.set(flag, value === true ? "true" : value);
  return raw;
}

function numberOf(
  raw: Map<string, string>,
  flag: string,
  check: (n: number) => boolean,
  what: string,
): number | undefined {
  const text = raw.get(flag);
  if (text === undefined) return undefined;
  const n = Number(text);
  if (text.trim() === "" || !Number.isFinite(n) || !check(n))
    throw new UsageError(`--${flag} must be ${what}, got '${text}'`);
  return n;
}

const isCount = (n: number) => Number.isInteger(n) && n >= 1;

/** One of the choices (the first when the flag is not given). */
function choiceOf<T extends string>(raw: Map<string, string>, flag: string, choices: readonly [T, ...T[]]): T {
  const text = raw.get(flag) ?? choices[0];
  if (!(choices as readonly string[]).includes(text))
    throw new UsageError(`--${flag} must be ${choices.join(" or ")}, got '${text}'`);
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
  const raw = readRaw(argv, env);
  if (raw === null) return null;
  const simulated = ["start", "hours", "per-hour"].filter((f) => raw.has(f));
  if (simulated.length > 0 && simulated.length < 3) {
    throw new UsageError("simulated mode needs all of --start, --hours and --per-hour");
  }
  const mode = simulated.length === 3 ? "simulated" : "live";
  if (mode === "simulated" && (raw.has("count") || raw.has("duration"))) {
    throw new UsageError("--count and --duration are for live mode; simulated mode sends --hours x --per-hour entries");
  }
  if (mode === "simulated" && (raw.has("clock-start") || raw.has("clock-factor"))) {
    throw new UsageError(
      "--clock-start and --clock-factor are for live mode; simulated mode takes its times from --start",
    );
  }
  const clockStart = raw.get("clock-start");
  const clockStartMs = clockStart === undefined ? null : parseIsoTime("--clock-start", clockStart, "time");
  const brokers = (raw.get("brokers") ?? "127.0.0.1:9092")
    .split(",")
    .map((b) => b.trim())
    .filter(Boolean);
  for (const broker of brokers) {
    if (!/^[^\s:]+:\d{1,5}$/.test(broker))
      throw new UsageError(`--brokers must be host:port[,host:port...], got '${broker}'`);
  }
  if (brokers.length === 0) throw new UsageError("--brokers must name at least one host:port");
  const kafkaAuth = choiceOf(raw, "kafka-auth", KAFKA_AUTHS as unknown as [KafkaAuth, ...KafkaAuth[]]);
  const kafkaPassword = env[KAFKA_PASSWORD_ENV] || null;
  if (kafkaAuth === "scram" && kafkaPassword === null) {
    throw new UsageError(`--kafka-auth scram needs the password in the environment variable ${KAFKA_PASSWORD_ENV}`);
  }
  const kafkaUser = raw.get("kafka-user") ?? "generator";
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(kafkaUser))
    throw new UsageError(`--kafka-user must be 1 to 64 letters, digits, '.', '_' or '-', got '${kafkaUser}'`);
  const topic = raw.get("topic") ?? "weblogs";
  if (!/^[A-Za-z0-9._-]{1,249}$/.test(topic))
    throw new UsageError(`--topic must be a Kafka topic name ([A-Za-z0-9._-]), got '${topic}'`);
  return {
    mode,
    brokers,
    topic,
    partitions: numberOf(raw, "partitions", isCount, "a whole number >= 1") ?? 3,
    rate:
      numberOf(raw, "rate", (n) => n >= 0, "a number of entries per second >= 0 (0 = unthrottled)") ??
      (mode === "live" ? 100 : 0),
    count: numberOf(raw, "count", isCount, "a whole number >= 1") ?? null,
    durationSeconds: numberOf(raw, "duration", (n) => n > 0, "a number of seconds > 0") ?? null,
    clockStartMs,
    clockFactor: numberOf(raw, "clock-factor", (n) => n >= 1 && n <= 100_000, "a number from 1 to 100000") ?? 1,
    startMs: raw.has("start") ? parseIsoTime("--start", raw.get("start") as string, "hour") : null,
    hours: numberOf(raw, "hours", isCount, "a whole number >= 1") ?? 0,
    perHour: numberOf(raw, "per-hour", isCount, "a whole number >= 1") ?? 0,
    seed:
      numberOf(raw, "seed", (n) => Number.isInteger(n) && n >= 0 && n <= 0xffffffff, "a whole number 0..4294967295") ??
      randomInt(0, 0xffffffff),
    malformedRate: numberOf(raw, "malformed-rate", (n) => n >= 0 && n <= 1, "a share between 0 and 1") ?? 0,
    duplicateRate:
      numberOf(raw, "duplicate-rate", (n) => n >= 0 && n < 1, "a share from 0 up to (not including) 1") ?? 0,
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
