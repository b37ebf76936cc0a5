// The sandbox's pipeline, composed: the services (startServices.ts), each supervised (restarted with a
// back-off when it dies); the scheduler of the hourly runs on the sandbox clock; the notifier that delivers
// a storage event for every object published to the curated bucket; and, in live mode, the generator on
// the sandbox clock. `npm start` runs it once (run.ts); `npm start -- up` leaves it running in the
// background (commands/daemon.ts); liveReport.ts reads what it put in the warehouse.
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { SandboxOptions } from "../commands/options";
import { ClockState, clockNow, hourEndMs, readClock, saveClock, startClock } from "../schedule/clock";
import { CuratedNotifier, Delivery } from "../schedule/notifier";
import { HourlyScheduler } from "../schedule/scheduler";
import { readGroundTruth } from "../verdict/groundTruth";
import { HourlyWorker } from "../processes/hourlyWorker";
import { stopBroker } from "../processes/kafkaBroker";
import { completedHours, lateNotices } from "../processes/hourMarkers";
import * as parts from "../processes/parts";
import { killGroup, SandboxError, startService, stopGroup } from "../processes/processes";
import { ProcessRegistry } from "../processes/processRegistry";
import { Endpoints } from "../processes/services";
import { Shutdown } from "../processes/shutdown";
import { Started, Supervised, SupervisedState } from "../processes/supervisor";
import { SandboxLayout } from "../shared/layout";
import { sleep } from "../shared/sleep";
import { writeStateFile } from "../shared/stateFile";
import { StageClock } from "./stageClock";
import { firstAcceptancesOf, loadedHoursOf, TrafficState } from "./liveReport";
import { PipelineSettings, startServices } from "./startServices";
import { keepInput, keepMaxQuarantineShare } from "./stateFolder";

/** Live traffic's entries per second when --rate is 0 (unthrottled only makes sense for the start-up hours). */
export const DEFAULT_LIVE_RATE = 5; // as the stack's generatorRate; the usage text (commands/usage.ts) says it too

export class Pipeline {
  readonly endpoints: Endpoints = {};
  readonly supervised = new Map<string, Supervised>();
  scheduler!: HourlyScheduler;
  notifier!: CuratedNotifier;
  clock!: ClockState;
  worker?: HourlyWorker;
  private heartbeat?: NodeJS.Timeout;
  private clockRunning = false;
  private traffic: TrafficState;
  private stopped?: Promise<void>;
  private feedersStopped?: Promise<void>;
  private ingestStopped?: Promise<PromiseSettledResult<void>[]>;

  private constructor(
    readonly l: SandboxLayout,
    readonly settings: PipelineSettings,
    readonly say: (line: string) => void,
    readonly registry: ProcessRegistry,
  ) {
    this.traffic = existsSync(l.traffic)
      ? (JSON.parse(readFileSync(l.traffic, "utf8")) as TrafficState)
      : { startupSent: false, sessions: 0 };
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
  static async start(
    l: SandboxLayout,
    settings: PipelineSettings,
    say: (line: string) => void,
    stages: StageClock,
    registry: ProcessRegistry,
    shutdown?: Shutdown,
  ): Promise<Pipeline> {
    const p = new Pipeline(l, settings, say, registry);
    shutdown?.stopFirst(() => p.stop());
    for (const d of [l.logs, l.bigquery, l.rawBucket, l.curatedBucket, l.staging, l.hive, l.truth])
      mkdirSync(d, { recursive: true });
    keepInput(l, settings.input);
    keepMaxQuarantineShare(l, settings.maxQuarantineShare);
    p.clock = startClock(settings.clockFactor, readClock(l.clock), settings.clockStartMs);
    if (settings.clockFactor === 1) p.runClock();
    const log = (line: string) => say(`    ${line}`);
    try {
      await startServices(p, stages, log);
    } catch (e) {
      await p.stop();
      throw e;
    }
    p.scheduler = new HourlyScheduler(
      { state: l.scheduler, runLog: join(l.logs, "hourly-runs.jsonl") },
      () => completedHours(l),
      () => p.now(),
      () => p.worker,
      log,
      () => lateNotices(l),
    );
    p.notifier = new CuratedNotifier(
      l.curatedBucket,
      l.notifier,
      () => p.endpoints.loaderUrl as string,
      () => p.now(),
      log,
    );
    p.scheduler.start();
    p.notifier.start();
    return p;
  }

  keep(
    name: string,
    start: () => Promise<Started>,
    log: (line: string) => void,
    onRestart?: (s: Started) => void | Promise<void>,
  ): Supervised {
    const s = new Supervised(name, start, log, onRestart);
    this.supervised.set(name, s);
    return s;
  }

  /** Sends the simulated hours once (the generator exits when done); their ground truth is kept. */
  async sendStartupHours(
    o: Pick<
      SandboxOptions,
      "start" | "hours" | "perHour" | "rate" | "seed" | "malformedRate" | "duplicateRate" | "format"
    >,
    faults: { brokerRestart?: boolean } = {},
  ): Promise<void> {
    const summary = join(this.l.truth, "startup.json");
    const gen = startService(
      parts.generatorSpec(this.l, { brokers: this.endpoints.kafkaBootstrap as string, ...o }, summary),
      this.registry,
    );
    if (faults.brokerRestart) {
      await sleep(3000);
      this.say("    fault: killing the Kafka broker (SIGKILL) while the generator sends; the supervisor restarts it");
      await killGroup(this.supervised.get("kafka")?.pid as number);
    }
    const code = await gen.exited;
    if (code !== 0)
      throw new SandboxError(
        `the generator failed (exit ${code})`,
        "read the generator's log; a broker that did not come back is named there",
        gen.log,
      );
    readGroundTruth(summary, gen.log);
    this.traffic.startupSent = true;
    writeStateFile(this.l.traffic, this.traffic);
  }

  /** The live generator on the sandbox clock, supervised; each session (and restart) has its own seed and summary. */
  async startLiveTraffic(
    o: Pick<SandboxOptions, "rate" | "seed" | "malformedRate" | "duplicateRate" | "format">,
  ): Promise<void> {
    this.runClock();
    this.traffic.liveFromMs ??= this.now();
    writeStateFile(this.l.traffic, this.traffic);
    const generator = this.keep(
      "generator",
      async () => {
        const session = ++this.traffic.sessions;
        (this.traffic.sessionsFromMs ??= []).push(this.now());
        writeStateFile(this.l.traffic, this.traffic);
        return startService(
          parts.liveGeneratorSpec(
            this.l,
            {
              brokers: this.endpoints.kafkaBootstrap as string,
              rate: o.rate || DEFAULT_LIVE_RATE,
              seed: o.seed + session,
              // The streaming job files a malformed entry under the hour Kafka received it (it has no trustworthy
              // event time): on an accelerated clock that wall-clock hour would hold a whole hour's malformed
              // entries and fail its quarantine check, so accelerated live traffic sends none.
              malformedRate: this.clock.factor === 1 ? o.malformedRate : 0,
              duplicateRate: o.duplicateRate,
              format: o.format,
              clockStartMs: this.now(),
              clockFactor: this.clock.factor,
            },
            join(this.l.truth, `live-${String(session).padStart(4, "0")}.json`),
          ),
          this.registry,
        );
      },
      (line) => this.say(`    ${line}`),
    );
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
      .map(([hour, d]) => ({
        hour,
        clockSeconds: (d.acceptedAtClockMs - hourEndMs(hour)) / 1000,
        wallSeconds: (d.acceptedAtClockMs - hourEndMs(hour)) / 1000 / this.clock.factor,
      }));
  }

  /** Stops every process (the generator first, so its summary is written; then the stream; then the rest together) and saves the clock; once, whoever asks. */
  stop(): Promise<void> {
    this.stopped ??= this.stopInOrder();
    return this.stopped;
  }

  /**
   * Stops what only brings entries in (the generator, the stream, the scheduler, then the hourly worker and the
   * broker side by side) and leaves the loader and the BigQuery server running: a one-shot run that holds
   * every hour calls it while it audits and queries. Once, whoever asks; stop() finishes it.
   */
  stopIngest(): Promise<PromiseSettledResult<void>[]> {
    this.ingestStopped ??= this.stopFeeders().then(() =>
      Promise.allSettled(["hourly", "kafka"].map((name) => this.end(name))),
    );
    return this.ingestStopped;
  }

  private stopFeeders(): Promise<void> {
    this.feedersStopped ??= (async () => {
      const gen = this.supervised.get("generator");
      if (gen) await gen.end((pid) => stopGroup(pid, 30_000, true));
      // Saved after the generator stopped: the next start resumes after the last event time it sent.
      if (this.heartbeat) clearInterval(this.heartbeat);
      if (this.clock) saveClock(this.l.clock, this.clock, this.clockRunning ? Date.now() : this.clock.wallMs);
      // The stream next, before anything can wait: it marks no hour that the generator would still add to.
      await this.supervised.get("stream")?.end((pid) => stopGroup(pid, 30_000));
      await this.scheduler?.stop();
    })();
    return this.feedersStopped;
  }

  private async end(name: string): Promise<void> {
    await this.supervised
      .get(name)
      ?.end(name === "kafka" ? () => stopBroker(this.l.kafka) : (pid) => stopGroup(pid, 30_000));
  }

  private async stopInOrder(): Promise<void> {
    await this.stopFeeders();
    const ingest = this.stopIngest(); // the hourly worker and the broker, unless a one-shot run stopped them already
    await this.notifier?.stop();
    // The rest stop side by side with the hourly worker and the broker (each stop also waits up to a second for
    // its supervisor's loop): the notifier has finished its delivery in flight to the loader, the only writer to
    // the BigQuery server.
    const rest = Promise.allSettled(["loader", "bigquery"].map((name) => this.end(name)));
    const ends = [...(await ingest), ...(await rest)];
    const failed = ends.find((end): end is PromiseRejectedResult => end.status === "rejected");
    if (failed) throw failed.reason;
  }
}
