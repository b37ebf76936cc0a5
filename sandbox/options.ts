// The sandbox's command line: subcommands, flags and their defaults, validated with one sentence per
// mistake.
import { ACCEPTS, ACCESS_LOG_DEFAULTS, AccessLogSettings, INPUT_FORMATS, InputFormat, invalidAccessLogSetting } from "../contract/accessLogSettings";
import { parseClockFactor } from "./clock";

export const FAULTS = ["broker-restart", "stream-restart", "redeliver", "rerun-hour"] as const;
export type Fault = (typeof FAULTS)[number];

export const COMMANDS = ["run", "up", "down", "purge", "status", "report", "rerun"] as const;
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
  /** status: refresh every few seconds until interrupted */
  watch: boolean;
  /** rerun: the hour to run again, "YYYY-MM-DDTHH" */
  hour?: string;
  /** what the generator sends and the streaming job reads: JSON entries or access-log lines */
  format: InputFormat;
  /** how the streaming job maps access-log lines to entries (format combined) */
  accessLog: AccessLogSettings;
}

export const USAGE = `usage: npm start -- [command] [options]      (or: npx tsx sandbox/cli.ts [command] [options])

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
  rerun    run an hour's steps again under a new run id (--hour), as clearing a DAG run does; its new
           output replaces the earlier run's in hourly_activity_latest
  down     stop everything the state folder recorded, whether its supervisor is alive or not
           (state is kept: 'up' resumes from it)
  purge    remove all sandbox state (the state folder); refused while anything of it runs: 'down' first

options:
  --state-dir DIR        all state lives here (default <clone>/.sandbox, or $CLICKSTREAM_SANDBOX_DIR)
  --start ISO-HOUR       first simulated hour (default: 3 hours before the current hour)
  --hours N              simulated hours of traffic (default 3)
  --per-hour N           entries per hour (default 3000)
  --malformed-rate R     share of deliberately broken entries, 0..1 (default 0.01)
  --duplicate-rate R     share of messages that repeat an entry already sent, as a retry does, 0..<1
                         (default 0.01); each entry must still count once
  --rate N               generator entries per second: the simulated hours 0 = unthrottled (default);
                         up's live traffic 5 entries/s when 0
  --seed N               same seed, same traffic (default 42)
  --top N                top products shown (default 10)
  --format F             json: the generator sends contract entries (default); combined: nginx/Apache
                         access-log lines in a file shipper's envelope, read by the streaming job's
                         access-log input with the settings below
  --product-url RE       combined: product-page URLs, named group product_id (default ${ACCESS_LOG_DEFAULTS.productUrlPattern})
  --cart-method M        combined: method of an add-to-cart request (default ${ACCESS_LOG_DEFAULTS.cartMethod})
  --cart-url RE          combined: add-to-cart URLs, named group product_id (default ${ACCESS_LOG_DEFAULTS.cartUrlPattern})
  --counted-statuses S   combined: statuses that count (default ${ACCESS_LOG_DEFAULTS.countedStatuses})
  --faults LIST          run: inject failures to show the pipeline absorbs them; comma-separated from
                         ${FAULTS.join(", ")}, or 'all'
  --clock SPEED          up: 'real' (default) or an accelerated clock like 60x: the live traffic's event
                         time and the scheduler's "now" run that much faster, from the end of the simulated
                         hours (an hour in a minute at 60x); it stands still while the sandbox is down,
                         and an 'up' without --clock resumes at the speed it ran before.
                         Accelerated live traffic has no malformed entries: the streaming job files those
                         under the wall-clock hour Kafka received them, which an accelerated hour is not
  --no-traffic           up: no live generator, for your own producer (send to the Kafka endpoint)
  --watch                status: refresh every 2 seconds
  --hour YYYY-MM-DDTHH   rerun: the UTC hour to run again
  --no-setup             skip 'scripts/setup.sh' (when it already ran)
  -h, --help             this text`;

export class UsageError extends Error {}

const ACCESS_LOG_FLAGS: Record<string, keyof AccessLogSettings> = {
  "--product-url": "productUrlPattern",
  "--cart-method": "cartMethod",
  "--cart-url": "cartUrlPattern",
  "--counted-statuses": "countedStatuses",
};

/** The default first hour: 3 hours before the current one, so every simulated hour is in the past. */
export function defaultStart(now = new Date()): string {
  const h = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate(), now.getUTCHours() - 3));
  return h.toISOString().replace(".000Z", "Z");
}

function integer(flag: string, value: string, min: number, max: number): number {
  const n = Number(value);
  if (!/^-?\d+$/.test(value) || n < min || n > max) throw new UsageError(`${flag} must be a whole number from ${min} to ${max}, got '${value}'`);
  return n;
}

export function parseOptions(argv: readonly string[]): SandboxOptions | "help" {
  const o: SandboxOptions = {
    command: "run",
    start: defaultStart(),
    hours: 3,
    perHour: 3000,
    seed: 42,
    malformedRate: 0.01,
    duplicateRate: 0.01,
    rate: 0,
    faults: new Set(),
    setup: true,
    top: 10,
    clockFactor: 0,
    traffic: true,
    watch: false,
    format: "json",
    accessLog: { ...ACCESS_LOG_DEFAULTS },
  };
  const args = [...argv];
  if (args[0] && !args[0].startsWith("-")) {
    const c = args.shift() as string;
    if (!(COMMANDS as readonly string[]).includes(c)) throw new UsageError(`unknown command '${c}' (${COMMANDS.join(", ")})`);
    o.command = c as Command;
  }
  while (args.length) {
    const flag = args.shift() as string;
    if (flag === "-h" || flag === "--help") return "help";
    if (flag === "--no-setup" || flag === "--no-traffic" || flag === "--watch") {
      if (flag === "--no-setup") o.setup = false;
      if (flag === "--no-traffic") o.traffic = false;
      if (flag === "--watch") o.watch = true;
      continue;
    }
    const value = args.shift();
    if (value === undefined) throw new UsageError(`${flag} needs a value (see --help)`);
    switch (flag) {
      case "--state-dir":
        o.stateDir = value;
        break;
      case "--start": {
        const t = new Date(value);
        if (Number.isNaN(t.getTime()) || t.getUTCMinutes() || t.getUTCSeconds() || t.getUTCMilliseconds())
          throw new UsageError(`--start must be a UTC hour like 2026-11-26T10:00:00Z, got '${value}'`);
        o.start = t.toISOString().replace(".000Z", "Z");
        break;
      }
      case "--hours":
        o.hours = integer(flag, value, 1, 48);
        break;
      case "--per-hour":
        o.perHour = integer(flag, value, 1, 10_000_000);
        break;
      case "--seed":
        o.seed = integer(flag, value, 0, 2 ** 31 - 1);
        break;
      case "--rate":
        o.rate = integer(flag, value, 0, 10_000_000);
        break;
      case "--top":
        o.top = integer(flag, value, 1, 100);
        break;
      case "--malformed-rate": {
        const r = Number(value);
        if (!(r >= 0 && r <= 1)) throw new UsageError(`--malformed-rate must be between 0 and 1, got '${value}'`);
        o.malformedRate = r;
        break;
      }
      case "--hour":
        if (!/^\d{4}-\d{2}-\d{2}T\d{2}$/.test(value) || Number.isNaN(Date.parse(`${value}:00:00Z`))) throw new UsageError(`--hour must be a UTC hour like 2026-11-26T10, got '${value}'`);
        o.hour = value;
        break;
      case "--clock":
        try {
          o.clockFactor = parseClockFactor(value);
        } catch (e) {
          throw new UsageError((e as Error).message);
        }
        break;
      case "--duplicate-rate": {
        const r = Number(value);
        if (!(r >= 0 && r < 1)) throw new UsageError(`--duplicate-rate must be from 0 up to (not including) 1, got '${value}'`);
        o.duplicateRate = r;
        break;
      }
      case "--faults":
        for (const f of value.split(",").map((s) => s.trim())) {
          if (f === "all") FAULTS.forEach((x) => o.faults.add(x));
          else if ((FAULTS as readonly string[]).includes(f)) o.faults.add(f as Fault);
          else throw new UsageError(`--faults: unknown fault '${f}' (${FAULTS.join(", ")}, all)`);
        }
        break;
      case "--format":
        if (!(INPUT_FORMATS as readonly string[]).includes(value)) throw new UsageError(`--format must be ${INPUT_FORMATS.join(" or ")}, got '${value}'`);
        o.format = value as InputFormat;
        break;
      case "--product-url":
      case "--cart-method":
      case "--cart-url":
      case "--counted-statuses": {
        const key = ACCESS_LOG_FLAGS[flag];
        o.accessLog[key] = value;
        if (invalidAccessLogSetting(o.accessLog) === key) throw new UsageError(`${flag} must be ${ACCEPTS[key]}, got '${value}'`);
        break;
      }
      default:
        throw new UsageError(`unknown option '${flag}' (see --help)`);
    }
  }
  if (ownAccessLogSettings(o) && (o.command !== "up" || o.traffic || o.format !== "combined")) {
    // The generator writes the default URLs, methods and statuses: other settings are for your own lines.
    throw new UsageError(`--product-url, --cart-method, --cart-url and --counted-statuses describe your own access-log lines: use them with 'up --format combined --no-traffic' (the generator's lines follow the defaults)`);
  }
  return o;
}

/** Whether the access-log settings are the user's own (then only the user's lines reach the topic). */
export function ownAccessLogSettings(o: Pick<SandboxOptions, "accessLog">): boolean {
  return (Object.keys(ACCESS_LOG_DEFAULTS) as (keyof AccessLogSettings)[]).some((k) => o.accessLog[k] !== ACCESS_LOG_DEFAULTS[k]);
}

/** The simulated hours, as "YYYY-MM-DDTHH", that the run must load. */
export function expectedHours(o: Pick<SandboxOptions, "start" | "hours">): string[] {
  const t0 = new Date(o.start).getTime();
  return Array.from({ length: o.hours }, (_, i) => new Date(t0 + i * 3_600_000).toISOString().slice(0, 13));
}
