// The sandbox's command line as --help shows it: the commands, and one table of flags that both parsing
// (options.ts) and the help text read.
import { ACCESS_LOG_DEFAULTS } from "../../contract/accessLogSettings";
import { optionsHelp, OptionTable } from "../../commandLine/commandLine";
import { MAX_QUARANTINE_SHARE } from "../processes/parts";

/** The Kafka port a new state folder's broker takes when it is free: the one shippers' configs name by default. */
export const KAFKA_PORT = 9092;

export const FAULTS = ["broker-restart", "stream-restart", "redeliver", "rerun-hour"] as const;
export type Fault = (typeof FAULTS)[number];

export const COMMANDS = ["run", "up", "down", "purge", "status", "report", "rerun", "ship", "query"] as const;
export type Command = (typeof COMMANDS)[number];

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
