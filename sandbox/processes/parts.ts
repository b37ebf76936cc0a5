// How the sandbox starts each part of the pipeline: the same artifacts the stack deploys, with local
// endpoints and folders instead of cloud ones. Each part's command line is written once, here.
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { CURATED_BUCKET, SandboxLayout } from "../shared/layout";
import { AccessLogSettings, InputFormat, streamingJobInputArgs } from "../../contract/accessLogSettings";
import { ServiceSpec } from "./processes";
import { DEFAULT_LOADER_ARCHIVE_DIR } from "../../functions/loader/build";
import { emulatorCommand, restPortIn } from "../../functions/loader/local/localBigQuery";
import { hourlyActivityTable, loadLogTable, WarehouseViewName } from "../../functions/loader/warehouse/warehouse";

export const REPO_ROOT = resolve(__dirname, "..", "..");
export const TOPIC = "weblogs";
/** The topic's partitions, as the stack's default on a single node. */
export const TOPIC_PARTITIONS = 3;
export const BQ_PROJECT = "clickstream-sandbox";
export const BQ_DATASET = "clickstream";
export const BQ_LOCATION = "US";
// The names the stack declares (functions/loader/warehouse); the view's name is checked by its type.
export const HOURLY_TABLE = hourlyActivityTable.tableId;
export const LOAD_LOG_TABLE = loadLogTable.tableId;
export const LATEST_VIEW: WarehouseViewName = "hourly_activity_latest";
/** The quarantine share the hourly data-quality check allows, as the stack's default quarantineMaxShare. */
export const MAX_QUARANTINE_SHARE = 0.05;

const python = join(REPO_ROOT, ".venv", "bin", "python");
/** The class-data archive of the local Spark driver, beside pyspark's jars (setup.d/80-jvm-class-archives.sh). */
const sparkClassArchive = join(REPO_ROOT, ".venv", "spark-classes.jsa");
/**
 * Spark binds to the loopback address only. Its JVMs run with the C1 compiler only and the serial
 * collector: on the sandbox's small data C2's compile work never pays back, and 2 cores are shared by
 * everything; the hourly runner went from 63 s to 35 s for two hours with this. They map the class-data
 * archive setup makes (a session's start: 4.9 s to 2.8 s); read when a part starts, so a run's own setup counts.
 */
export function sparkEnv(): NodeJS.ProcessEnv {
  return {
    ...process.env,
    SPARK_LOCAL_IP: "127.0.0.1",
    PYSPARK_PYTHON: python,
    JAVA_TOOL_OPTIONS: [
      process.env.JAVA_TOOL_OPTIONS,
      "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC",
      ...(existsSync(sparkClassArchive) ? [`-XX:SharedArchiveFile=${sparkClassArchive}`] : []),
    ]
      .filter(Boolean)
      .join(" "),
  };
}

/** What every generator run of the sandbox is given: its traffic, and where it sends and summarises. */
interface GeneratorTraffic {
  brokers: string;
  rate: number;
  seed: number;
  malformedRate: number;
  duplicateRate: number;
  format: InputFormat;
}

function generatorSpecWith(l: SandboxLayout, o: GeneratorTraffic, eventTime: string[], summary: string): ServiceSpec {
  return {
    name: "generator",
    // generator/main.ts is what `npm run generator` runs; tsx directly saves npm's start-up.
    command: join(REPO_ROOT, "node_modules", ".bin", "tsx"),
    args: [
      join(REPO_ROOT, "generator", "main.ts"),
      "--brokers",
      o.brokers,
      "--topic",
      TOPIC,
      "--partitions",
      String(TOPIC_PARTITIONS),
      ...eventTime,
      "--rate",
      String(o.rate),
      "--seed",
      String(o.seed),
      "--malformed-rate",
      String(o.malformedRate),
      "--duplicate-rate",
      String(o.duplicateRate),
      "--format",
      o.format,
      "--summary",
      summary,
    ],
    cwd: REPO_ROOT,
    log: join(l.logs, "generator.log"),
  };
}

/** The generator in simulated mode: --hours x --per-hour entries from --start, then it exits. */
export function generatorSpec(
  l: SandboxLayout,
  o: GeneratorTraffic & { start: string; hours: number; perHour: number },
  summary: string,
): ServiceSpec {
  return generatorSpecWith(
    l,
    o,
    ["--start", o.start, "--hours", String(o.hours), "--per-hour", String(o.perHour)],
    summary,
  );
}

/** The generator in live mode on the sandbox clock: event time from `clockStartMs`, `clockFactor` times the wall clock, until stopped. */
export function liveGeneratorSpec(
  l: SandboxLayout,
  o: GeneratorTraffic & { clockStartMs: number; clockFactor: number },
  summary: string,
): ServiceSpec {
  return generatorSpecWith(
    l,
    o,
    ["--clock-start", new Date(o.clockStartMs).toISOString(), "--clock-factor", String(o.clockFactor)],
    summary,
  );
}

export const streamPaths = (l: SandboxLayout) => ({
  events: join(l.rawBucket, "events"),
  quarantine: join(l.rawBucket, "quarantine"),
  checkpoint: join(l.rawBucket, "_checkpoints"),
  markers: join(l.rawBucket, "_complete"),
});

/**
 * The streaming job with a 5-second trigger by default (the cloud's is 1 minute) so simulated hours flow
 * quickly. The last hour is marked complete after `idleSeconds` without new entries, since no later traffic
 * moves the watermark past it; that must be longer than the trigger (every entry received that long ago has
 * been read) and than any pause of the generator (a broker restart). On an
 * accelerated clock event times run ahead of Kafka's timestamps by design, so the job's check of entries
 * from the future and its rule that an hour is complete only once Kafka's time has passed it are off there.
 */
/** What the streaming job reads: JSON entries, or access-log lines mapped by these settings. */
export interface StreamInput {
  format: InputFormat;
  accessLog: AccessLogSettings;
}

export function streamSpec(
  l: SandboxLayout,
  brokers: string,
  o: { idleSeconds?: number; triggerSeconds?: number; clockFactor?: number; input: StreamInput },
): ServiceSpec {
  const p = streamPaths(l);
  return {
    name: "stream",
    command: python,
    args: [
      "-m",
      "jobs.weblog_stream",
      "--bootstrap-servers",
      brokers,
      "--topic",
      TOPIC,
      "--raw",
      p.events,
      "--quarantine",
      p.quarantine,
      "--checkpoint",
      p.checkpoint,
      "--markers",
      p.markers,
      "--trigger-seconds",
      String(o.triggerSeconds ?? 5),
      // The job looks at committed batches this often: an hour's marker follows its last batch by at most that.
      "--poll-seconds",
      "0.5",
      ...(o.idleSeconds === undefined ? [] : ["--idle-complete-seconds", String(o.idleSeconds)]),
      // On the real clock an hour is complete 30 s after its end by Kafka's time: every entry of the sandbox's
      // own sources is read within a 5-second trigger, and the simulated hours of a run end when it starts.
      ...((o.clockFactor ?? 1) > 1
        ? ["--max-future-seconds", "0", "--completion-by-event-time-only"]
        : ["--grace-seconds", "30"]),
      ...streamingJobInputArgs(o.input.format, o.input.accessLog),
    ],
    cwd: REPO_ROOT,
    env: sparkEnv(),
    log: join(l.logs, "stream.log"),
  };
}

/** The hourly steps' worker (the DAG's steps on Spark SQL, one session for every run), its retry delays on the sandbox clock. */
export function hourlyWorkerSpec(
  l: SandboxLayout,
  clockFactor: number,
  maxQuarantineShare: number,
  warmUp = false,
): ServiceSpec {
  const p = streamPaths(l);
  return {
    name: "hourly",
    command: python,
    args: [
      "-m",
      "jobs.hourly_local",
      "--serve",
      // One made-up hour in a scratch database while the stream writes its first batch: the first real hour
      // then runs as fast as the next ones.
      ...(warmUp ? ["--warm-up"] : []),
      "--clock-factor",
      String(clockFactor),
      "--raw",
      p.events,
      "--quarantine",
      p.quarantine,
      "--markers",
      p.markers,
      "--staging",
      l.staging,
      "--curated",
      l.curatedBucket,
      "--warehouse",
      l.hive,
      "--max-quarantine-share",
      String(maxQuarantineShare),
    ],
    cwd: REPO_ROOT,
    env: sparkEnv(),
    log: join(l.logs, "hourly.log"),
  };
}

/** What the runner printed for each hour: its run id and the curated-bucket names it published. */
export interface HourlyRunResult {
  hour: string;
  run_id: string;
  ok: boolean;
  published: string[];
  error?: string;
  /** the worker's (--serve) tries of a step that failed before the run's outcome (the DAG's retries) */
  failed_tries?: string[];
}

/** The local BigQuery server on a fixed port, its data kept in the state folder; gs://BUCKET/NAME resolves under the buckets folder. */
export function bigqueryServerSpec(l: SandboxLayout, port: number): ServiceSpec {
  return {
    name: "bigquery",
    ...emulatorCommand({ gcsRoot: l.buckets, project: BQ_PROJECT, restPort: port, dataDir: join(l.bigquery, "data") }),
    cwd: l.bigquery,
    log: join(l.logs, "bigquery.log"),
  };
}

/** The REST port the local BigQuery server logged once it listens. */
export function bigqueryRestPort(log: string): number | undefined {
  return existsSync(log) ? restPortIn(readFileSync(log, "utf8")) : undefined;
}

export function loaderSpec(l: SandboxLayout, port: number, bigqueryEndpoint: string): ServiceSpec {
  return {
    name: "loader",
    // The Functions Framework's server on 127.0.0.1 only (its own command line listens on every interface).
    command: join(REPO_ROOT, "node_modules", ".bin", "tsx"),
    args: [
      join(REPO_ROOT, "functions", "loader", "local", "serve.ts"),
      "--source",
      DEFAULT_LOADER_ARCHIVE_DIR,
      "--port",
      String(port),
    ],
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      WAREHOUSE_PROJECT: BQ_PROJECT,
      WAREHOUSE_DATASET: BQ_DATASET,
      WAREHOUSE_LOCATION: BQ_LOCATION,
      HOURLY_TABLE,
      LOAD_LOG_TABLE,
      CURATED_BUCKET,
      BIGQUERY_API_ENDPOINT: bigqueryEndpoint,
      // The buckets folder stands for Cloud Storage: the loader reads live generations there.
      LOCAL_GCS_ROOT: l.buckets,
      LOAD_WAIT_SECONDS: "60",
    },
    log: join(l.logs, "loader.log"),
  };
}

export function rawAuditSpec(l: SandboxLayout, output: string): ServiceSpec {
  const p = streamPaths(l);
  return {
    name: "raw-audit",
    command: python,
    args: [join(REPO_ROOT, "jobs", "raw_audit.py"), "--events", p.events, "--quarantine", p.quarantine],
    cwd: REPO_ROOT,
    log: join(l.logs, "raw-audit.log"),
    stdout: output,
  };
}
