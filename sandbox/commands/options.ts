// The sandbox's command line parsed: subcommands, flags and their defaults (the table in usage.ts),
// validated with one sentence per mistake.
import {
  ACCEPTS,
  ACCESS_LOG_DEFAULTS,
  AccessLogSettings,
  INPUT_FORMATS,
  InputFormat,
  invalidAccessLogSetting,
} from "../../contract/accessLogSettings";
import { parseCommandLine, parseIsoTime, UsageError } from "../../commandLine/commandLine";
import { parseClockFactor } from "../schedule/clock";
import { ENVELOPES, Envelope } from "./ship";
import { COMMANDS, Command, Fault, FAULTS, OPTIONS, QueryOutput, QUERY_OUTPUTS } from "./usage";

export interface SandboxOptions {
  command: Command;
  stateDir?: string;
  /** first simulated UTC hour, "YYYY-MM-DDTHH:00:00Z" */
  start: string;
  hours: number;
  perHour: number;
  seed: number;
  malformedRate: number;
  /** share of messages that deliver an entry again (same event_id), counted once downstream */
  duplicateRate: number;
  /** generator send rate in entries/s, 0 = as fast as possible */
  rate: number;
  faults: Set<Fault>;
  setup: boolean;
  /** top products shown in the printed table and the report */
  top: number;
  /** up: how many times faster than the wall clock the sandbox clock runs (1 = real time; 0 = as the state folder's clock last ran, else real time) */
  clockFactor: number;
  /** up: run the live generator (false: only traffic the user sends) */
  traffic: boolean;
  /** status: refresh every few seconds until interrupted; or print JSON */
  watch: boolean;
  json: boolean;
  /** rerun: the hour to run again, "YYYY-MM-DDTHH" */
  hour?: string;
  /** what the generator sends and the streaming job reads: JSON entries or access-log lines */
  format: InputFormat;
  /** how the streaming job maps access-log lines to entries (format combined) */
  accessLog: AccessLogSettings;
  /** up: the Kafka port asked for (else the one the state folder kept, else KAFKA_PORT when free) */
  kafkaPort?: number;
  /** run, up: the largest quarantined share of an hour its data-quality check allows (else the kept one, else the stack's default) */
  maxQuarantineShare?: number;
  /** ship: the files to send ("-": stdin), the lines' format when given (else the sandbox's), the envelope */
  files: string[];
  lines?: InputFormat;
  envelope?: Envelope;
  /** query: the SQL and how its result is printed */
  sql?: string;
  output: QueryOutput;
}

export { UsageError };

const ACCESS_LOG_FLAGS: Record<string, keyof AccessLogSettings> = {
  "product-url": "productUrlPattern",
  "cart-method": "cartMethod",
  "cart-url": "cartUrlPattern",
  "counted-statuses": "countedStatuses",
};

/** The default first hour: 3 hours before the current one, so every simulated hour is in the past. */
export function defaultStart(now = new Date()): string {
  const h = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate(), now.getUTCHours() - 3));
  return h.toISOString().replace(".000Z", "Z");
}

function integer(flag: string, value: string, min: number, max: number): number {
  const n = Number(value);
  if (!/^-?\d+$/.test(value) || n < min || n > max)
    throw new UsageError(`${flag} must be a whole number from ${min} to ${max}, got '${value}'`);
  return n;
}

function share(flag: string, value: string, below: number, inclusive: boolean): number {
  const r = Number(value);
  if (value.trim() === "" || !(r >= 0 && (inclusive ? r <= below : r < below))) {
    throw new UsageError(
      `${flag} must be ${inclusive ? `between 0 and ${below}` : `from 0 up to (not including) ${below}`}, got '${value}'`,
    );
  }
  return r;
}

export function parseOptions(argv: readonly string[]): SandboxOptions | "help" {
  const cl = parseCommandLine(
    { options: OPTIONS, commands: COMMANDS, defaultCommand: "run", takeOperands: ["ship", "query"] },
    argv,
  );
  if (cl.help) return "help";
  const v = cl.values as Record<string, string | undefined>;
  const o: SandboxOptions = {
    command: cl.command as Command,
    stateDir: v["state-dir"],
    start:
      v.start === undefined
        ? defaultStart()
        : new Date(parseIsoTime("--start", v.start, "hour")).toISOString().replace(".000Z", "Z"),
    hours: v.hours === undefined ? 3 : integer("--hours", v.hours, 1, 48),
    perHour: v["per-hour"] === undefined ? 3000 : integer("--per-hour", v["per-hour"], 1, 10_000_000),
    seed: v.seed === undefined ? 42 : integer("--seed", v.seed, 0, 2 ** 31 - 1),
    malformedRate: v["malformed-rate"] === undefined ? 0.01 : share("--malformed-rate", v["malformed-rate"], 1, true),
    duplicateRate: v["duplicate-rate"] === undefined ? 0.01 : share("--duplicate-rate", v["duplicate-rate"], 1, false),
    rate: v.rate === undefined ? 0 : integer("--rate", v.rate, 0, 10_000_000),
    faults: new Set(),
    setup: !cl.values["no-setup"],
    top: v.top === undefined ? 10 : integer("--top", v.top, 1, 100),
    clockFactor: 0,
    traffic: !cl.values["no-traffic"],
    watch: Boolean(cl.values.watch),
    json: Boolean(cl.values.json),
    format: "json",
    accessLog: { ...ACCESS_LOG_DEFAULTS },
    files: [],
    output: "table",
  };
  if (v.hour !== undefined) o.hour = new Date(parseIsoTime("--hour", v.hour, "hour")).toISOString().slice(0, 13);
  if (v.clock !== undefined) {
    try {
      o.clockFactor = parseClockFactor(v.clock);
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
  }
  for (const f of (v.faults ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean)) {
    if (f === "all") FAULTS.forEach((x) => o.faults.add(x));
    else if ((FAULTS as readonly string[]).includes(f)) o.faults.add(f as Fault);
    else throw new UsageError(`--faults: unknown fault '${f}' (${FAULTS.join(", ")}, all)`);
  }
  if (v.format !== undefined && o.command === "query") {
    if (!(QUERY_OUTPUTS as readonly string[]).includes(v.format))
      throw new UsageError(`--format of query must be ${QUERY_OUTPUTS.join(", ")}, got '${v.format}'`);
    o.output = v.format as QueryOutput;
  } else if (v.format !== undefined) {
    if (!(INPUT_FORMATS as readonly string[]).includes(v.format))
      throw new UsageError(`--format must be ${INPUT_FORMATS.join(" or ")}, got '${v.format}'`);
    if (o.command === "ship") o.lines = v.format as InputFormat;
    else o.format = v.format as InputFormat;
  }
  if (v.envelope !== undefined) {
    if (!(ENVELOPES as readonly string[]).includes(v.envelope))
      throw new UsageError(`--envelope must be ${ENVELOPES.join(", ")}, got '${v.envelope}'`);
    if (o.lines === "json" && v.envelope !== "none")
      throw new UsageError(
        "--envelope is for access-log lines (--format combined); JSON entries carry their own event_id",
      );
    o.envelope = v.envelope as Envelope;
  }
  if (v["kafka-port"] !== undefined) o.kafkaPort = integer("--kafka-port", v["kafka-port"], 1024, 65535);
  if (v["quarantine-max-share"] !== undefined)
    o.maxQuarantineShare = share("--quarantine-max-share", v["quarantine-max-share"], 1, true);
  if (o.watch && o.json) throw new UsageError("status takes --watch or --json, not both");
  if (o.command === "ship") {
    if (cl.operands.length === 0) throw new UsageError("ship needs the files to send (FILE..., or - for stdin)");
    if (cl.operands.filter((f) => f === "-").length > 1) throw new UsageError("ship reads stdin (-) once");
    o.files = cl.operands;
  }
  if (o.command === "query") {
    if (cl.operands.length !== 1 || !cl.operands[0].trim())
      throw new UsageError(`query needs one SQL statement, quoted as one argument: query "SELECT ..."`);
    o.sql = cl.operands[0];
  }
  for (const [flag, key] of Object.entries(ACCESS_LOG_FLAGS)) {
    const value = v[flag];
    if (value === undefined) continue;
    o.accessLog[key] = value;
    if (invalidAccessLogSetting(o.accessLog) === key)
      throw new UsageError(`--${flag} must be ${ACCEPTS[key]}, got '${value}'`);
  }
  if (ownAccessLogSettings(o) && (o.command !== "up" || o.traffic || o.format !== "combined")) {
    // The generator writes the default URLs, methods and statuses: other settings are for your own lines.
    throw new UsageError(
      `--product-url, --cart-method, --cart-url and --counted-statuses describe your own access-log lines: use them with 'up --format combined --no-traffic' (the generator's lines follow the defaults)`,
    );
  }
  if (o.command === "rerun" && !o.hour)
    throw new UsageError("rerun needs --hour, the UTC hour to run again, like 2026-03-01T10");
  return o;
}

/** Whether the access-log settings are the user's own (then only the user's lines reach the topic). */
export function ownAccessLogSettings(o: Pick<SandboxOptions, "accessLog">): boolean {
  return (Object.keys(ACCESS_LOG_DEFAULTS) as (keyof AccessLogSettings)[]).some(
    (k) => o.accessLog[k] !== ACCESS_LOG_DEFAULTS[k],
  );
}

/** The simulated hours, as "YYYY-MM-DDTHH", that the run must load. */
export function expectedHours(o: Pick<SandboxOptions, "start" | "hours">): string[] {
  const t0 = new Date(o.start).getTime();
  return Array.from({ length: o.hours }, (_, i) => new Date(t0 + i * 3_600_000).toISOString().slice(0, 13));
}
