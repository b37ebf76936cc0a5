// The sandbox's pipeline, one definition for both uses: the Kafka broker, the Spark streaming job, the
// local BigQuery server, the loader function and the hourly steps' worker, each supervised (restarted
// with a back-off when it dies); the scheduler of the hourly runs on the sandbox clock; the notifier that
// delivers a storage event for every object published to the curated bucket; and, in live mode, the
// generator on the sandbox clock. `npm start` (run) starts it, sends the simulated hours, waits until the
// warehouse holds them and reconciles; `npm start -- up` leaves it running in the background (daemon.ts).
import { createWriteStream, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { spawn } from "node:child_process";
import { join } from "node:path";
import { boldFor } from "../../commandLine/commandLine";
import { createLocalWarehouse } from "../../functions/loader/local/localWarehouse";
import { classifyObjectName } from "../../functions/loader/src/publishedObject";
import { accessLogAccount, accessLogCounts } from "../verdict/accessLogAccount";
import { ClockState, clockNow, HOUR_MS, hourEndMs, readClock, saveClock, startClock } from "../schedule/clock";
import { expectedActivity, GeneratorSummary, readGroundTruth } from "../verdict/groundTruth";
import { Health, pipelineHealth } from "../verdict/health";
import { HourlyActivityRow, HourShown, hoursShown, LatestRun, topProducts, totalsPerHour } from "../verdict/hourlyActivity";
import { HourlyWorker, startHourlyWorker } from "../processes/hourlyWorker";
import { assertJava, ensureTopic, freePort, startBroker, stopBroker } from "../processes/kafkaBroker";
import { isSandboxFolder, markSandboxFolder, sandboxCommand, SandboxLayout, sandboxLayout, stateDirFrom } from "../shared/layout";
import { clientQuery, latestHourlyActivity, loadLineage, loadsPerObject, localClient, ObjectLoads, rowsLoadedTwice } from "../verdict/localBigQuery";
import { CuratedNotifier, Delivery } from "../schedule/notifier";
import { expectedHours, SandboxOptions } from "../commands/options";
import * as parts from "../processes/parts";
import { killGroup, runToCompletion, SandboxError, startService, stopGroup, waitUntil } from "../processes/processes";
import { ProcessRegistry } from "../processes/processRegistry";
import { formatReconciliation, reconcile, Reconciliation } from "../verdict/reconciliation";
import { renderReport } from "../verdict/report";
import { HourlyScheduler, HourRun } from "../schedule/scheduler";
import { Endpoints } from "../processes/services";
import { Shutdown } from "../processes/shutdown";
import { StageClock } from "./stageClock";
import { exitOf, Started, Supervised, SupervisedState } from "../processes/supervisor";
import { writeStateFile } from "../shared/stateFile";
import { TrafficAccount, trafficAccount } from "../verdict/trafficAccount";

export interface RawAudit {
  rows: number;
  distinct_event_ids: number;
  quarantined: number;
}

/** What a run writes to result.json: the verdict and the evidence behind it, for tests and scripts. */
export interface RunRecord {
  reconciliation: Reconciliation;
  reportPath: string;
  audit: RawAudit;
  summary: Pick<GeneratorSummary, "generated" | "valid" | "malformed" | "duplicates" | "ignored" | "errors" | "hours" | "products">;
  /** object name -> number of deliveries of its event */
  deliveries: Record<string, number>;
  duplicateTableRows: number;
  /** every object the loader recorded in the lineage table, with the number of load jobs that appended it */
  loads: ObjectLoads[];
  /** hour -> the run ids that published it, in order */
  runIds: Record<string, string[]>;
  stageTimes: { stage: string; seconds: number }[];
  /** the health figures the report shows, as the deployed dashboard computes them */
  health: Health;
  /** processes the supervisor restarted, with how often */
  restarts: Record<string, number>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Live traffic's entries per second when --rate is 0 (unthrottled only makes sense for the start-up hours). */
export const DEFAULT_LIVE_RATE = 5; // as the stack's generatorRate; the usage text (options.ts) says it too
// The local BigQuery server needs no credentials: skip the client library's probe of a GCE metadata server.
process.env.METADATA_SERVER_DETECTION ??= "none";

export interface PipelineSettings {
  /** the streaming job marks the latest hour complete after this long without entries (none: only the watermark closes hours) */
  idleSeconds?: number;
  clockFactor: number;
  /** where an accelerated clock starts the first time (event time, epoch ms) */
  clockStartMs: number;
  /** what the streaming job reads: JSON entries or access-log lines, and how lines map to entries */
  input: parts.StreamInput;
  /** the Kafka port asked for (kept by the state folder from then on) */
  kafkaPort?: number;
  /** a new state folder's Kafka port when it is free */
  preferredKafkaPort?: number;
}

/** The live traffic's record: whether the start-up hours were sent, and each live generator session. */
interface TrafficState {
  startupSent: boolean;
  sessions: number;
  /** event time at which live traffic first started: hours ending after it count for freshness */
  liveFromMs?: number;
  /** event time at which each live session started (its summary is written when it stops) */
  sessionsFromMs?: number[];
}

export class Pipeline {
  readonly endpoints: Endpoints = {};
  readonly supervised = new Map<string, Supervised>();
  scheduler!: HourlyScheduler;
  notifier!: CuratedNotifier;
  clock!: ClockState;
  private worker?: HourlyWorker;
  private heartbeat?: NodeJS.Timeout;
  private clockRunning = false;
  private traffic: TrafficState;
  private stopped?: Promise<void>;

  private constructor(
    readonly l: SandboxLayout,
    readonly settings: PipelineSettings,
    readonly say: (line: string) => void,
    readonly registry: ProcessRegistry,
  ) {
    this.traffic = existsSync(l.traffic) ? (JSON.parse(readFileSync(l.traffic, "utf8")) as TrafficState) : { startupSent: false, sessions: 0 };
  }

  get startupSent(): boolean {
    return this.traffic.startupSent;
  }

  /** The sandbox clock; an accelerated one stands still until runClock (no simulated hour passes while services start). */
  now(): number {
    return this.clockRunning ? clockNow(this.clock) : this.clock.eventMs;
  }

  get clockIsRunning(): boolean {
    return this.clockRunning;
  }

  runClock(): void {
    if (this.clockRunning) return;
    this.clock = { ...this.clock, wallMs: Date.now() };
    this.clockRunning = true;
    saveClock(this.l.clock, this.clock);
    this.heartbeat = setInterval(() => saveClock(this.l.clock, this.clock), 1000);
  }

  /**
   * Starts every service (resuming from the state folder's checkpoints and data) and the loops, each
   * process recorded in `registry` as it starts; the shutdown is given the pipeline's ordered stop before
   * the first process starts.
   */
  static async start(l: SandboxLayout, settings: PipelineSettings, say: (line: string) => void, stages: StageClock, registry: ProcessRegistry, shutdown?: Shutdown): Promise<Pipeline> {
    const p = new Pipeline(l, settings, say, registry);
    shutdown?.stopFirst(() => p.stop());
    for (const d of [l.logs, l.bigquery, l.rawBucket, l.curatedBucket, l.staging, l.hive, l.truth]) mkdirSync(d, { recursive: true });
    keepInput(l, settings.input);
    p.clock = startClock(settings.clockFactor, readClock(l.clock), settings.clockStartMs);
    if (settings.clockFactor === 1) p.runClock();
    const log = (line: string) => say(`    ${line}`);
    try {
      await p.startServices(stages, log);
    } catch (e) {
      await p.stop();
      throw e;
    }
    p.scheduler = new HourlyScheduler({ state: l.scheduler, runLog: join(l.logs, "hourly-runs.jsonl") }, () => parts.completedHours(l), () => p.now(), () => p.worker, log, () => parts.lateNotices(l));
    p.notifier = new CuratedNotifier(l.curatedBucket, l.notifier, () => p.endpoints.loaderUrl as string, () => p.now(), log);
    p.scheduler.start();
    p.notifier.start();
    return p;
  }

  private keep(name: string, start: () => Promise<Started>, log: (line: string) => void, onRestart?: (s: Started) => void | Promise<void>): Supervised {
    const s = new Supervised(name, start, log, onRestart);
    this.supervised.set(name, s);
    return s;
  }

  private async startServices(stages: StageClock, log: (line: string) => void): Promise<void> {
    const l = this.l;
    const kafka = await stages.stage("kafka", "starting the Kafka broker", async () => {
      try {
        assertJava();
      } catch (e) {
        throw new SandboxError(`the Kafka broker did not start: ${(e as Error).message}`, "fix the cause named above (Java 17 on PATH, 'npm run setup' for the jars), then run again", join(l.kafka, "broker.log"));
      }
      let bootstrap = "";
      const broker = this.keep("kafka", async () => {
        this.registry.assertOpen("kafka");
        const b = await startBroker({
          stateDir: l.kafka, detached: true, env: this.registry.env(), onSpawn: (child) => this.registry.recordChild("kafka", child),
          port: this.settings.kafkaPort, preferredPort: this.settings.preferredKafkaPort,
        });
        const { kafkaPort, preferredKafkaPort } = this.settings;
        if (bootstrap === "" && kafkaPort === undefined && preferredKafkaPort !== undefined && !b.bootstrapServers.endsWith(`:${preferredKafkaPort}`)) {
          log(`Kafka listens on ${b.bootstrapServers}, not on the default port ${preferredKafkaPort} (taken when this state folder's broker first started); the port is kept across down and up; choose one with 'up --kafka-port N'`);
        }
        bootstrap = b.bootstrapServers;
        return { pid: b.pid, exited: exitOf(b.pid), log: b.log };
      }, log);
      await broker.begin().catch((e: Error) => {
        throw new SandboxError(`the Kafka broker did not start: ${e.message}`, "fix the cause named above (Java 17 on PATH, 'npm run setup' for the jars), then run again", join(l.kafka, "broker.log"));
      });
      // Before the streaming job subscribes to it (on a resumed state folder it exists already).
      await ensureTopic(bootstrap, parts.TOPIC, parts.TOPIC_PARTITIONS);
      return bootstrap;
    });
    this.endpoints.kafkaBootstrap = kafka;
    this.endpoints.rawBucket = l.rawBucket;
    this.endpoints.curatedBucket = l.curatedBucket;

    // The streaming job, the hourly worker, the BigQuery server and the loader start side by side.
    announce(this.say, "starting the Spark streaming job and the hourly steps' worker (they keep running)");
    const stream = this.keep("stream", async () => startService(parts.streamSpec(l, kafka, this.settings), this.registry), log);
    await stream.begin();
    const worker = this.keep("hourly", async () => (this.worker = startHourlyWorker(parts.hourlyWorkerSpec(l, this.settings.clockFactor), this.registry)), log);
    await worker.begin();

    await stages.stage("bigquery", "starting the local BigQuery server and the loader function", async () => {
      // The archive the stack deploys, built while the server starts.
      const built = runToCompletion({
        name: "build-loader", command: "npm", args: ["run", "--silent", "build:loader"], cwd: parts.REPO_ROOT,
        log: join(l.logs, "build-loader.log"), timeoutMs: 120_000, hint: "fix the build error in the log (functions/loader)",
      }, this.registry);
      built.catch(() => undefined);
      const bqPort = await freePort();
      const bq = this.keep("bigquery", async () => startService(parts.bigqueryServerSpec(l, bqPort), this.registry), log);
      const bqService = await bq.begin();
      const endpoint = `http://127.0.0.1:${bqPort}`;
      await waitUntil("the local BigQuery server listens", () => answers(endpoint), {
        timeoutMs: 60_000, log: bqService.log, hint: "check that 'npm run setup' installed the BigQuery emulator (scripts/setup.d/50-bigquery-emulator.sh)",
      });
      this.endpoints.bigqueryEndpoint = endpoint;
      this.endpoints.bigqueryProject = parts.BQ_PROJECT;
      this.endpoints.bigqueryTable = `${parts.BQ_PROJECT}.${parts.BQ_DATASET}.${parts.HOURLY_TABLE}`;
      // The dataset, tables and views as the stack declares them in the cloud (kept by the server across down/up).
      const client = localClient(endpoint, parts.BQ_PROJECT);
      const [exists] = await client.dataset(parts.BQ_DATASET).exists();
      if (!exists) await createLocalWarehouse(client, { project: parts.BQ_PROJECT, dataset: parts.BQ_DATASET, location: parts.BQ_LOCATION });

      // Served by the Functions Framework as Cloud Run functions serve it.
      await built;
      const loaderPort = await freePort();
      this.endpoints.loaderUrl = `http://127.0.0.1:${loaderPort}/`;
      const loader = this.keep("loader", async () => startService(parts.loaderSpec(l, loaderPort, endpoint), this.registry), log);
      const loaderService = await loader.begin();
      await waitUntil("the loader function answers", () => answers(this.endpoints.loaderUrl as string), {
        timeoutMs: 60_000, log: loaderService.log, hint: "run 'npm run build:loader' and read the loader's log",
      });
    });
  }

  /** Sends the simulated hours once (the generator exits when done); their ground truth is kept. */
  async sendStartupHours(o: Pick<SandboxOptions, "start" | "hours" | "perHour" | "rate" | "seed" | "malformedRate" | "duplicateRate" | "format">, faults: { brokerRestart?: boolean } = {}): Promise<void> {
    const summary = join(this.l.truth, "startup.json");
    const gen = startService(parts.generatorSpec(this.l, { brokers: this.endpoints.kafkaBootstrap as string, ...o }, summary), this.registry);
    if (faults.brokerRestart) {
      await sleep(3000);
      this.say("    fault: killing the Kafka broker (SIGKILL) while the generator sends; the supervisor restarts it");
      await killGroup(this.supervised.get("kafka")?.pid as number);
    }
    const code = await gen.exited;
    if (code !== 0) throw new SandboxError(`the generator failed (exit ${code})`, "read the generator's log; a broker that did not come back is named there", gen.log);
    readGroundTruth(summary, gen.log);
    this.traffic.startupSent = true;
    writeStateFile(this.l.traffic, this.traffic);
  }

  /** The live generator on the sandbox clock, supervised; each session (and restart) has its own seed and summary. */
  async startLiveTraffic(o: Pick<SandboxOptions, "rate" | "seed" | "malformedRate" | "duplicateRate" | "format">): Promise<void> {
    this.runClock();
    this.traffic.liveFromMs ??= this.now();
    writeStateFile(this.l.traffic, this.traffic);
    const generator = this.keep("generator", async () => {
      const session = ++this.traffic.sessions;
      (this.traffic.sessionsFromMs ??= []).push(this.now());
      writeStateFile(this.l.traffic, this.traffic);
      return startService(parts.liveGeneratorSpec(this.l, {
        brokers: this.endpoints.kafkaBootstrap as string, rate: o.rate || DEFAULT_LIVE_RATE, seed: o.seed + session,
        // The streaming job files a malformed entry under the hour Kafka received it (it has no trustworthy
        // event time): on an accelerated clock that wall-clock hour would hold a whole hour's malformed
        // entries and fail its quarantine check, so accelerated live traffic sends none.
        malformedRate: this.clock.factor === 1 ? o.malformedRate : 0,
        duplicateRate: o.duplicateRate, format: o.format,
        clockStartMs: this.now(), clockFactor: this.clock.factor,
      }, join(this.l.truth, `live-${String(session).padStart(4, "0")}.json`)), this.registry);
    }, (line) => this.say(`    ${line}`));
    await generator.begin();
  }

  /** Restarts of each supervised process so far. */
  restarts(): Record<string, number> {
    return Object.fromEntries([...this.supervised.values()].map((s) => [s.name, s.restarts]));
  }

  processes(): SupervisedState[] {
    return [...this.supervised.values()].map((s) => s.state());
  }

  /** Hours whose latest published run has every object accepted by the loader. */
  loadedHours(): string[] {
    return loadedHoursOf(this.scheduler.runs, this.notifier.deliveries);
  }

  /** Per hour ("YYYY-MM-DDTHH"), the loader's first acceptance of one of its published objects: its rows are queryable from then. */
  firstAcceptances(): Map<string, Delivery> {
    return firstAcceptancesOf(this.notifier.deliveries);
  }

  /** Hour end (sandbox clock) to the first acceptance of the hour's objects by the loader, for hours that ended while live. */
  freshness(): { hour: string; clockSeconds: number; wallSeconds: number }[] {
    const from = this.traffic.liveFromMs;
    if (from === undefined) return [];
    return [...this.firstAcceptances().entries()]
      .filter(([hour]) => hourEndMs(hour) > from)
      .sort()
      .map(([hour, d]) => ({ hour, clockSeconds: (d.acceptedAtClockMs - hourEndMs(hour)) / 1000, wallSeconds: (d.acceptedAtClockMs - hourEndMs(hour)) / 1000 / this.clock.factor }));
  }

  /** Stops every process (the generator first, so its summary is written; the broker last) and saves the clock; once, whoever asks. */
  stop(): Promise<void> {
    this.stopped ??= this.stopInOrder();
    return this.stopped;
  }

  private async stopInOrder(): Promise<void> {
    const gen = this.supervised.get("generator");
    if (gen) await gen.end((pid) => stopGroup(pid, 30_000, true));
    // Saved after the generator stopped: the next start resumes after the last event time it sent.
    if (this.heartbeat) clearInterval(this.heartbeat);
    if (this.clock) saveClock(this.l.clock, this.clock, this.clockRunning ? Date.now() : this.clock.wallMs);
    // The stream next, before anything can wait: it marks no hour that the generator would still add to.
    await this.supervised.get("stream")?.end((pid) => stopGroup(pid, 30_000));
    await this.scheduler?.stop();
    await this.notifier?.stop();
    for (const name of ["hourly", "loader", "bigquery", "kafka"]) {
      const s = this.supervised.get(name);
      if (!s) continue;
      await s.end(name === "kafka" ? () => stopBroker(this.l.kafka) : (pid) => stopGroup(pid, 30_000));
    }
  }
}

/**
 * The topic's format is the state folder's: its checkpoint resumes in the middle of the topic, whose
 * entries a different input format would read as malformed. The first start records it; a later `up` must match.
 */
export function keepInput(l: SandboxLayout, input: parts.StreamInput): void {
  const wanted = JSON.stringify(input);
  if (!existsSync(l.input)) {
    writeFileSync(l.input, wanted + "\n");
    return;
  }
  const kept = readFileSync(l.input, "utf8").trim();
  if (kept === wanted) return;
  const { format } = JSON.parse(kept) as parts.StreamInput;
  throw new SandboxError(
    `this state folder's pipeline reads ${format === "json" ? "JSON entries" : "access-log lines"} with the settings in ${l.input}; the streaming job would read the rest of its topic as something else`,
    `start it with the same --format and access-log flags, or run ${sandboxCommand(l.root, "purge")} to start over`,
    undefined,
  );
}

const bold = boldFor(process.stderr);

function announce(to: (line: string) => void, what: string): void {
  to(bold(`==> ${what}`));
}

/** Hours whose latest published run has every object accepted by the loader (a quiet hour's file too). */
export function loadedHoursOf(runs: readonly HourRun[], delivered: Readonly<Record<string, Delivery>>): string[] {
  const latest = new Map<string, HourRun>();
  for (const r of runs) if (r.ok) latest.set(r.hour, r);
  return [...latest.values()].filter((r) => r.published.length > 0 && r.published.every((name) => delivered[name])).map((r) => r.hour).sort();
}

/** Per hour ("YYYY-MM-DDTHH"), the loader's first acceptance of one of its published objects. */
export function firstAcceptancesOf(deliveries: Readonly<Record<string, Delivery>>): Map<string, Delivery> {
  const first = new Map<string, Delivery>();
  for (const [name, d] of Object.entries(deliveries)) {
    const named = classifyObjectName(name);
    if (!named.published) continue;
    const hour = named.file.hour.slice(0, 13);
    const seen = first.get(hour);
    if (!seen || d.acceptedAtMs < seen.acceptedAtMs) first.set(hour, d);
  }
  return first;
}

/** The latest run of every hour (the scheduler records them in the order they ran). */
export function latestRuns(runs: readonly HourRun[]): LatestRun[] {
  const latest = new Map<string, LatestRun>();
  for (const r of runs) latest.set(r.hour, { hour: r.hour, ok: r.ok, error: r.error });
  return [...latest.values()];
}

/** Every generator summary of the state folder, as one ground truth (per hour and product). */
export function groundTruthRows(l: SandboxLayout): { rows: HourlyActivityRow[]; summaries: GeneratorSummary[] } {
  const summaries = existsSync(l.truth)
    ? readdirSync(l.truth).filter((f) => f.endsWith(".json")).sort().map((f) => readGroundTruth(join(l.truth, f), join(l.logs, "generator.log")))
    : [];
  return { rows: summaries.flatMap(expectedActivity), summaries };
}

/**
 * The report of a sandbox, from its warehouse (running, or started on the kept state by `report`). With the
 * generator's ground truth, the reconciliation covers the loaded hours its finished runs account for (a live
 * session still running writes its ground truth when it stops); without (the user's own traffic), the report
 * gives the account of the traffic instead.
 */
export async function liveReport(l: SandboxLayout, endpoints: Endpoints, top: number): Promise<LiveReportRecord> {
  const view = await readWarehouse({ endpoints });
  const traffic = existsSync(l.traffic) ? (JSON.parse(readFileSync(l.traffic, "utf8")) as TrafficState) : { startupSent: false, sessions: 0 };
  const { rows: truth, summaries } = groundTruthRows(l);
  const runningFrom = (traffic.sessionsFromMs?.length ?? 0) + (traffic.startupSent ? 1 : 0) > summaries.length ? traffic.sessionsFromMs?.at(-1) : undefined;
  const readJson = <T>(file: string, empty: T): T => (existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as T) : empty);
  const scheduler = { runs: readJson<{ runs: HourRun[] }>(l.scheduler, { runs: [] }).runs };
  const notifier = { deliveries: readJson<{ objects: Record<string, Delivery> }>(l.notifier, { objects: {} }).objects };
  const withRows = new Set(view.rows.map((r) => r.hour));
  const hours = hoursShown(view.rows, latestRuns(scheduler.runs), new Set([...withRows, ...loadedHoursOf(scheduler.runs, notifier.deliveries)]));
  const health = healthOf({ l, scheduler, notifier }, hours.map((h) => h.hour), view);
  let reconciliation: Reconciliation | undefined;
  let account: TrafficAccount | undefined;
  if (summaries.length > 0) {
    const covered = (hour: string) => withRows.has(hour) && (runningFrom === undefined || hourEndMs(hour) <= Math.floor(runningFrom / HOUR_MS) * HOUR_MS);
    reconciliation = reconcile(truth.filter((r) => covered(r.hour)), view.rows.filter((r) => covered(r.hour)));
  } else {
    account = trafficAccount(health, hours, accessLogCounts(logLines(l, "stream.log")));
  }
  writeReport(l, { rows: view.rows, hours, reconciliation, account, top, stageSeconds: [], health });
  const record: LiveReportRecord = { generatedAt: new Date().toISOString(), reportPath: l.report, reconciliation, account, hours, ...view };
  writeFileSync(join(l.root, "report.json"), JSON.stringify(record, null, 2) + "\n");
  return record;
}

/** What `report` writes beside the report (report.json): the warehouse as read, and the reconciliation or the account. */
export interface LiveReportRecord extends WarehouseView {
  generatedAt: string;
  reportPath: string;
  /** against the generator's ground truth, when there is one */
  reconciliation?: Reconciliation;
  /** where the user's own traffic went, when there is no ground truth */
  account?: TrafficAccount;
  hours: HourShown[];
}

/** Runs the setup scripts with their progress on the terminal and in the setup log (in a group of their own, recorded). */
async function runSetup(l: SandboxLayout, say: (s: string) => void, registry: ProcessRegistry): Promise<void> {
  const log = join(l.logs, "setup.log");
  mkdirSync(l.logs, { recursive: true });
  const out = createWriteStream(log, { flags: "a" });
  registry.assertOpen("setup");
  const child = spawn("bash", [join(parts.REPO_ROOT, "scripts", "setup.sh")], { cwd: parts.REPO_ROOT, stdio: ["ignore", "pipe", "pipe"], detached: true, env: registry.env() });
  registry.recordChild("setup", child);
  const relay = (chunk: Buffer) => {
    out.write(chunk);
    for (const line of chunk.toString().split("\n")) if (line.trim()) say(`    ${line}`);
  };
  child.stdout.on("data", relay);
  child.stderr.on("data", relay);
  const code = await new Promise<number | null>((r) => child.on("close", r));
  out.end();
  if (code !== 0) throw new SandboxError(`installing dependencies (scripts/setup.sh) failed (exit ${code})`, "read the error above (a download that failed: check the network to the package registries), then run the same command again", log);
}

export async function setupIfAsked(o: SandboxOptions, l: SandboxLayout, stages: StageClock, say: (s: string) => void, registry: ProcessRegistry): Promise<void> {
  if (o.setup) await stages.stage("setup", "installing what is missing (scripts/setup.sh)", () => runSetup(l, say, registry));
}

/** A run starts from empty data: the reconciliation compares this run's traffic with this run's table. */
export async function freshStateFolder(l: SandboxLayout): Promise<void> {
  if (!isSandboxFolder(l.root)) throw new SandboxError(`${l.root} is not empty and is not a sandbox state folder`, "choose an empty or new folder with --state-dir", undefined);
  if (existsSync(l.kafka)) await stopBroker(l.kafka);
  rmSync(l.root, { recursive: true, force: true });
  markSandboxFolder(l.root);
}

/**
 * The one-shot run: the pipeline, the simulated hours, a wait until the warehouse holds them, the
 * reconciliation. The caller's shutdown (installed before this starts) stops it from any moment.
 */
export async function runSandbox(o: SandboxOptions, say: (s: string) => void, shutdown?: Shutdown): Promise<RunRecord> {
  const l = sandboxLayout(stateDirFrom(o.stateDir));
  // The shutdown's registry: once it is closed, nothing of this run starts any more.
  const registry = shutdown?.registry ?? new ProcessRegistry(l.processes);
  const stages = new StageClock(say);
  const hours = expectedHours(o);
  let pipeline: Pipeline | undefined;
  try {
    await freshStateFolder(l);
    // This process is the supervisor: `down` and `purge` from another terminal find it here.
    registry.recordSelf("supervisor");
    await setupIfAsked(o, l, stages, say, registry);
    const started = await Pipeline.start(l, {
      // Longer than the generator's pause while the broker restarts, so no hour is marked complete early.
      idleSeconds: o.faults.has("broker-restart") ? 20 : 10,
      clockFactor: 1,
      clockStartMs: Date.now(),
      input: { format: o.format, accessLog: o.accessLog },
    }, say, stages, registry, shutdown);
    pipeline = started;

    const faults: Promise<void>[] = [];
    if (o.faults.has("stream-restart")) {
      faults.push((async () => {
        await waitUntil("the streaming job wrote its first raw files", () => countFiles(parts.streamPaths(l).events, ".parquet") > 0, {
          timeoutMs: 180_000, log: join(l.logs, "stream.log"), hint: "read the streaming job's log",
        });
        say("    fault: killing the streaming job (SIGKILL) after its first raw files; the supervisor restarts it from its checkpoint");
        await killGroup(started.supervised.get("stream")?.pid as number);
      })());
    }
    if (o.faults.has("redeliver")) started.notifier.redeliverNext = 1;
    await stages.stage("generator", `sending ${o.hours} h x ${o.perHour} entries of simulated traffic from ${o.start}`, () =>
      started.sendStartupHours(o, { brokerRestart: o.faults.has("broker-restart") }));
    await Promise.all(faults);

    await stages.stage("hours", `waiting until the warehouse holds all ${hours.length} hours (hourly steps on the scheduler, events to the loader)`, async () => {
      let rerunPending = o.faults.has("rerun-hour");
      let streamStopped = false;
      const deadline = Date.now() + 10 * 60_000;
      for (;;) {
        const loaded = started.loadedHours();
        const failed = started.scheduler.runs.find((r) => !r.ok && hours.includes(r.hour));
        if (failed) throw new SandboxError(`the hourly run ${failed.runId} of ${failed.hour} failed: ${failed.error}`, "read the hourly steps' log (a failed data-quality check is named there)", join(l.logs, "hourly.log"));
        if (!streamStopped && hours.every((h) => parts.completedHours(l).includes(h))) {
          // Every hour of this run is in the raw bucket: the job's core is better spent on the hourly runs.
          streamStopped = true;
          await started.supervised.get("stream")?.end((pid) => stopGroup(pid));
        }
        if (rerunPending && loaded.includes(hours[0])) {
          say(`    fault: re-running the hour ${hours[0]} (a new run id replaces its published output)`);
          started.scheduler.requestRerun(hours[0]);
          rerunPending = false;
        }
        const reran = !o.faults.has("rerun-hour") || started.scheduler.runs.filter((r) => r.ok && r.hour === hours[0]).length >= 2;
        if (hours.every((h) => loaded.includes(h)) && reran && !rerunPending && started.notifier.pending().length === 0) break;
        if (Date.now() > deadline) throw new SandboxError(`${loaded.length} of ${hours.length} hours reached the warehouse within 10 minutes`, "read the streaming job's and the hourly steps' logs", join(l.logs, "stream.log"));
        await sleep(250);
      }
    });

    const audit = await stages.stage("audit", "auditing the raw bucket (rows, duplicate event ids, quarantine)", async () => {
      const out = join(l.root, "raw-audit.json");
      await runToCompletion({ ...parts.rawAuditSpec(l, out), timeoutMs: 120_000, hint: "read the audit's log" }, registry);
      return JSON.parse(readFileSync(out, "utf8")) as RawAudit;
    });
    const { rows: truth, summaries } = groundTruthRows(l);
    const summary = summaries[0];
    const view = await stages.stage("query", "reading the hourly table from the local BigQuery server", () => readWarehouse(started));
    registry.assertOpen("the report"); // a run being stopped writes no verdict
    const reconciliation = reconcile(truth, view.rows, {
      duplicatesSent: summary.duplicates,
      rawRows: audit.rows,
      distinctEventIds: audit.distinct_event_ids,
    });
    const health = healthOf(started, hours, view);
    const shown = hoursShown(view.rows, latestRuns(started.scheduler.runs), new Set(started.loadedHours()));
    writeReport(l, { rows: view.rows, hours: shown, reconciliation, top: o.top, stageSeconds: stages.times, health, quarantined: audit.quarantined });

    say("");
    say(formatHourlyTable(view.rows, o.top));
    say("");
    const deliveries = Object.fromEntries(Object.entries(started.notifier.deliveries).map(([name, d]) => [name, d.times]));
    const delivered = Object.values(deliveries).reduce((a, b) => a + b, 0);
    say(`malformed entries sent: ${summary.malformed}, quarantined by the streaming job: ${audit.quarantined}`);
    if (o.format === "combined") {
      const streamLog = readFileSync(join(l.logs, "stream.log"), "utf8").split("\n");
      const account = accessLogAccount(summary.acknowledged, audit.rows, audit.quarantined, accessLogCounts(streamLog));
      say(account.text);
      if (!account.exact) throw new SandboxError("the access-log lines shipped do not add up to raw, quarantined and ignored lines", "read the streaming job's 'access log:' lines", join(l.logs, "stream.log"));
    }
    say(`raw entries: ${audit.rows}, distinct event ids: ${audit.distinct_event_ids}; repeated deliveries sent by the generator: ${summary.duplicates}`);
    say(`events delivered to the loader: ${delivered} for ${Object.keys(deliveries).length} objects; table rows loaded twice: ${view.duplicateTableRows}; objects loaded by more than one job: ${view.loads.filter((x) => x.loadJobs > 1).length}`);
    say(formatReconciliation(reconciliation));
    say(`report: ${l.report}`);

    const runIds: Record<string, string[]> = {};
    for (const r of started.scheduler.runs) if (r.ok) (runIds[r.hour] ??= []).push(r.runId);
    const record: RunRecord = {
      reconciliation,
      reportPath: l.report,
      audit,
      summary: { generated: summary.generated, valid: summary.valid, malformed: summary.malformed, duplicates: summary.duplicates, ignored: summary.ignored, errors: summary.errors, hours: summary.hours, products: summary.products },
      deliveries,
      duplicateTableRows: view.duplicateTableRows,
      loads: view.loads,
      runIds,
      stageTimes: stages.times,
      health,
      restarts: started.restarts(),
    };
    writeFileSync(l.result, JSON.stringify(record, null, 2) + "\n");
    return record;
  } finally {
    if (!shutdown?.requested) {
      if (pipeline) await stages.stage("stop", "stopping every service", () => (pipeline as Pipeline).stop());
      // What a failed start left (the loader's build, a server that never answered) goes too.
      await registry.stopAll({ except: [process.pid] });
      registry.forget(process.pid);
      say(stages.format(o.hours * o.perHour));
    }
  }
}

export interface WarehouseView {
  rows: HourlyActivityRow[];
  duplicateTableRows: number;
  loads: ObjectLoads[];
  lineage: Awaited<ReturnType<typeof loadLineage>>;
}

/** What analysts see: the latest run of every hour, and the lineage behind it. */
export async function readWarehouse(p: { endpoints: Endpoints }): Promise<WarehouseView> {
  const bigquery = localClient(p.endpoints.bigqueryEndpoint as string, parts.BQ_PROJECT);
  const dataset = `${parts.BQ_PROJECT}.${parts.BQ_DATASET}`;
  return {
    rows: await latestHourlyActivity(bigquery, `${dataset}.${parts.LATEST_VIEW}`),
    duplicateTableRows: await rowsLoadedTwice(clientQuery(bigquery), `${dataset}.${parts.HOURLY_TABLE}`),
    loads: await loadsPerObject(clientQuery(bigquery), `${dataset}.${parts.LOAD_LOG_TABLE}`),
    lineage: await loadLineage(clientQuery(bigquery), `${dataset}.${parts.LOAD_LOG_TABLE}`),
  };
}

const logLines = (l: SandboxLayout, name: string) => (existsSync(join(l.logs, name)) ? readFileSync(join(l.logs, name), "utf8").split("\n") : []);

/** The health figures, as the deployed dashboard computes them, from the state folder's logs and records. */
export function healthOf(p: { l: SandboxLayout; scheduler: { runs: readonly HourRun[] }; notifier: { deliveries: Readonly<Record<string, Delivery>> } }, hours: string[], view: WarehouseView): Health {
  return pipelineHealth({
    hours,
    streamLog: logLines(p.l, "stream.log"),
    runnerInvocations: p.scheduler.runs.map((r) => ({ startedAtMs: r.startedAtMs, endedAtMs: r.endedAtMs, results: [{ hour: r.hour, run_id: r.runId, ok: r.ok }] })),
    loads: view.lineage,
    loaderLog: logLines(p.l, "loader.log"),
    loaderInvocations: Object.values(p.notifier.deliveries).reduce((a, d) => a + d.times, 0),
    maxQuarantineShare: parts.MAX_QUARANTINE_SHARE,
    firstAcceptedClockMs: new Map([...firstAcceptancesOf(p.notifier.deliveries)].map(([hour, d]) => [hour, d.acceptedAtClockMs])),
  });
}

export interface ReportContent {
  rows: HourlyActivityRow[];
  hours: HourShown[];
  reconciliation?: Reconciliation;
  account?: TrafficAccount;
  top: number;
  stageSeconds: { stage: string; seconds: number }[];
  health: Health;
  quarantined?: number;
}

export function writeReport(l: SandboxLayout, c: ReportContent): void {
  writeFileSync(
    l.report,
    renderReport({
      generatedAt: new Date().toISOString(),
      table: `${parts.BQ_PROJECT}.${parts.BQ_DATASET}.${parts.LATEST_VIEW}`,
      hours: c.hours,
      topProducts: topProducts(c.rows, c.top),
      reconciliation: c.reconciliation,
      account: c.account,
      quarantined: c.quarantined,
      stageSeconds: c.stageSeconds,
      health: c.health,
    }),
  );
}

export async function answers(url: string): Promise<boolean> {
  try {
    await fetch(url, { signal: AbortSignal.timeout(1000) });
    return true;
  } catch {
    return false;
  }
}

function countFiles(dir: string, suffix: string): number {
  if (!existsSync(dir)) return 0;
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) if (e.isFile() && e.name.endsWith(suffix) && !e.name.startsWith(".")) n++;
  return n;
}

export function formatHourlyTable(rows: HourlyActivityRow[], top: number): string {
  const lines = ["hour (UTC)        product-page visits   cart additions"];
  for (const h of totalsPerHour(rows)) lines.push(`${h.hour}:00     ${String(h.visits).padStart(19)}   ${String(h.cartAdds).padStart(14)}`);
  lines.push("", `top ${top} products      visits   cart additions`);
  for (const p of topProducts(rows, top)) lines.push(`  ${p.productId.padEnd(16)} ${String(p.visits).padStart(8)}   ${String(p.cartAdds).padStart(14)}`);
  return lines.join("\n");
}
