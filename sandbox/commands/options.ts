// The sandbox's command line: subcommands, flags and their defaults, validated with one sentence per
// mistake.
import {
  ACCEPTS,
  ACCESS_LOG_DEFAULTS,
  AccessLogSettings,
  INPUT_FORMATS,
  InputFormat,
  invalidAccessLogSetting,
} from "../../contract/accessLogSettings";
import { optionsHelp, OptionTable, parseCommandLine, parseIsoTime, UsageError } from "../../commandLine/commandLine";
import { MAX_QUARANTINE_SHARE } from "../processes/parts";
import { parseClockFactor } from "../schedule/clock";
import { ENVELOPES, Envelope } from "./ship";

/** The Kafka port a new state folder's broker takes when it is free: the one shippers' configs name by default. */
export const KAFKA_PORT = 9092;

export const FAULTS = ["broker-restart", "stream-restart", "redeliver", "rerun-hour"] as const;
export type Fault = (typeof FAULTS)[number];

export const COMMANDS = ["run", "up", "down", "purge", "status", "report", "rerun", "ship", "query"] as const;
export type Command = (typeof COMMANDS)[number];

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

export const QUERY_OUTPUTS = ["table", "csv", "json"] as const;
export type QueryOutput = (typeof QUERY_OUTPUTS)[number];

const HOURS_TRAFFIC = ["run", "up"] as const;

/** Every option of the sandbox, the commands that take it, and its --help line: parsing and help both read it. */
export const OPTIONS: OptionTable = {
  "state-dir": { value: "DIR", help: "all state lives here (default <clone>/.sandbox, or $CLICKSTREAM_SANDBOX_DIR)" },
  start: {
    value: "ISO-HOUR",
    commands: HOURS_TRAFFIC,
    help: "first simulated UTC hour, like 2026-03-01T10 (default: 3 hours before the current hour)",
  },
  hours: { value: "N", commands: HOURS_TRAFFIC, help: "simulated hours of traffic (default 3)" },
  "per-hour": { value: "N", commands: HOURS_TRAFFIC, help: "entries per hour (default 3000)" },
  "malformed-rate": {
    value: "R",
    commands: HOURS_TRAFFIC,
    help: "share of deliberately broken entries, 0..1 (default 0.01)",
  },
  "duplicate-rate": {
    value: "R",
    commands: HOURS_TRAFFIC,
    help: "share of messages that repeat an entry already sent, as a retry does, 0..<1\n(default 0.01); each entry must still count once",
  },
  rate: {
    value: "N",
    commands: HOURS_TRAFFIC,
    help: "generator entries per second: the simulated hours 0 = unthrottled (default);\nup's live traffic 5 entries/s when 0",
  },
  seed: { value: "N", commands: HOURS_TRAFFIC, help: "same seed, same traffic (default 42)" },
  top: { value: "N", commands: ["run", "report"], help: "top products shown (default 10)" },
  format: {
    value: "F",
    commands: ["run", "up", "ship", "query"],
    help: "the generator's entries (run, up) or your lines (ship): json, contract\nentries (default; ship: as the running sandbox reads), or combined, nginx/Apache access-log\nlines, read by the streaming job's access-log input with the settings below;\nquery: the rows as a table (default), csv or json (an object a line)",
  },
  envelope: {
    value: "E",
    commands: ["ship"],
    help: "none: each line as it is (a second ship counts it again); vector or filebeat: in\nthat shipper's JSON envelope with host, file and byte offset, so a second ship of\nthe same file counts once (default: vector for combined lines, none for json)",
  },
  "kafka-port": {
    value: "N",
    commands: ["up"],
    help: `the Kafka broker's port on 127.0.0.1, kept by the state folder across down and up\n(default: the kept one, else ${KAFKA_PORT} when free, else a free one, said so)`,
  },
  "product-url": {
    value: "RE",
    commands: ["up"],
    help: `--format combined --no-traffic: product-page URLs, named group product_id\n(default ${ACCESS_LOG_DEFAULTS.productUrlPattern})`,
  },
  "cart-method": {
    value: "M",
    commands: ["up"],
    help: `--format combined --no-traffic: method of an add-to-cart request (default ${ACCESS_LOG_DEFAULTS.cartMethod})`,
  },
  "cart-url": {
    value: "RE",
    commands: ["up"],
    help: `--format combined --no-traffic: add-to-cart URLs, named group product_id\n(default ${ACCESS_LOG_DEFAULTS.cartUrlPattern})`,
  },
  "counted-statuses": {
    value: "S",
    commands: ["up"],
    help: `--format combined --no-traffic: statuses that count (default ${ACCESS_LOG_DEFAULTS.countedStatuses})`,
  },
  "quarantine-max-share": {
    value: "R",
    commands: HOURS_TRAFFIC,
    help: `the largest share of an hour's entries that may be quarantined before its data-quality\ncheck fails, 0..1, as the stack's quarantineMaxShare (default ${MAX_QUARANTINE_SHARE}; up: kept by the\nstate folder across down and up)`,
  },
  faults: {
    value: "LIST",
    commands: ["run"],
    help: `inject failures to show the pipeline absorbs them; comma-separated from\n${FAULTS.join(", ")}, or 'all'`,
  },
  clock: {
    value: "SPEED",
    commands: ["up"],
    help: "'real' (default) or an accelerated clock like 60x: the live traffic's event\ntime and the scheduler's \"now\" run that much faster, from the end of the simulated\nhours (an hour in a minute at 60x); it stands still while the sandbox is down,\nand an 'up' without --clock resumes at the speed it ran before.\nAccelerated live traffic has no malformed entries: the streaming job files those\nunder the wall-clock hour Kafka received them, which an accelerated hour is not",
  },
  "no-traffic": { commands: ["up"], help: "no live generator, for your own producer (send to the Kafka endpoint)" },
  watch: { commands: ["status"], help: "redraw the screen every 2 seconds" },
  json: { commands: ["status"], help: "the figures as one JSON object, for scripts" },
  hour: { value: "ISO-HOUR", commands: ["rerun"], help: "the UTC hour to run again, like 2026-03-01T10" },
  "no-setup": { commands: HOURS_TRAFFIC, help: "skip 'scripts/setup.sh' (when it already ran)" },
};

export const USAGE = `usage: npm start -- [command] [options]      (or: npx tsx sandbox/commands/cli.ts [command] [options])

The whole pipeline on this machine: Kafka -> Spark streaming -> hourly HiveQL + data-quality checks
-> publish -> loader function (Functions Framework) -> local BigQuery server; then the hourly table,
a reconciliation against the generator's ground truth and an HTML report.

commands:
  run      (default) install what is missing, start the pipeline, send the simulated hours, wait until the
           warehouse holds them, print the hourly table and the reconciliation, write the report, stop.
           Exit 0 only if every hour matches the ground truth exactly.
  up       the same pipeline, left running in the background and processing new traffic on its own: the
           simulated hours first (on a new state folder), then live traffic on the sandbox clock; the
           streaming job, the hourly runs (the DAG's schedule, catch-up and retries), the storage events
           to the loader; each process restarted when it dies. On an existing state folder it resumes
           from the checkpoints, the warehouse and the clock where 'down' left them.
  status   per stage: running or not and restarts, the latest hour marked complete, published and loaded,
           freshness (hour end to rows queryable), entries per second in and out, quarantined entries
  report   write the HTML report again from the running warehouse
  ship     send log files (FILE..., or - for stdin) to the running sandbox's topic as a file shipper
           does; prints the lines sent
  query    run a SQL query ("SQL") over the local warehouse; timestamps as ISO times
  rerun    run an hour's steps again under a new run id (--hour), as clearing a DAG run does; its new
           output replaces the earlier run's in hourly_activity_latest
  down     stop everything the state folder recorded, whether its supervisor is alive or not
           (state is kept: 'up' resumes from it)
  purge    remove all sandbox state (the state folder); refused while anything of it runs: 'down' first

options (an option of other commands is refused; times are ISO 8601 / RFC 3339 UTC, an hour alone is fine):
${optionsHelp(OPTIONS)}

Exit status: 0 done; 1 failed (run: an hour differs from the ground truth); 2 bad usage; 3 nothing running.`;

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
