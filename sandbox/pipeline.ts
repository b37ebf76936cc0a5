// One sandbox run: start the services, send simulated traffic, load every hour through the same steps
// the DAG runs, then reconcile the BigQuery table with the generator's ground truth and write the report.
import { spawn } from "node:child_process";
import { createWriteStream, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { startBroker, stopBroker, freePort, assertJava } from "./kafkaBroker";
import { HourlyActivityRow, topProducts, totalsPerHour } from "./hourlyActivity";
import { CURATED_BUCKET, isSandboxFolder, markSandboxFolder, SandboxLayout, sandboxLayout, stateDirFrom } from "./layout";
import { Health, HourlyRunnerInvocation, pipelineHealth } from "./health";
import { clientQuery, latestHourlyActivity, loadLineage, loadsPerObject, localClient, ObjectLoads, rowsLoadedTwice } from "./localBigQuery";
import { createLocalWarehouse } from "../functions/loader/local/localWarehouse";
import { expectedHours, SandboxOptions } from "./options";
import * as parts from "./parts";
import { isAlive, killGroup, runToCompletion, SandboxError, startService, stopGroup, waitUntil } from "./processes";
import { formatReconciliation, reconcile, Reconciliation } from "./reconciliation";
import { renderReport } from "./report";
import { Services } from "./services";
import { StageClock } from "./stageClock";
import { accessLogAccount, accessLogCounts } from "./accessLogAccount";
import { deliver, md5Base64, objectFinalizedEvent } from "./storageEvent";
import { expectedActivity, GeneratorSummary, readGroundTruth } from "./groundTruth";

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
  summary: Pick<GeneratorSummary, "generated" | "valid" | "malformed" | "duplicates" | "errors" | "hours" | "products">;
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
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
// The local BigQuery server needs no credentials: skip the client library's probe of a GCE metadata server.
process.env.METADATA_SERVER_DETECTION ??= "none";

/** Runs the setup scripts with their progress on the terminal and in the setup log. */
async function runSetup(l: SandboxLayout, say: (s: string) => void): Promise<void> {
  const log = join(l.logs, "setup.log");
  const out = createWriteStream(log, { flags: "a" });
  const child = spawn("bash", [join(parts.REPO_ROOT, "scripts", "setup.sh")], { cwd: parts.REPO_ROOT, stdio: ["ignore", "pipe", "pipe"] });
  const relay = (chunk: Buffer) => {
    out.write(chunk);
    for (const line of chunk.toString().split("\n")) if (line.trim()) say(`    ${line}`);
  };
  child.stdout.on("data", relay);
  child.stderr.on("data", relay);
  const code = await new Promise<number | null>((r) => child.on("close", r));
  out.end();
  if (code !== 0) throw new SandboxError(`installing dependencies (scripts/setup.sh) failed (exit ${code})`, "read the error above (a download that failed: check the network to the package registries), then run 'npm start' again", log);
}

export async function runSandbox(o: SandboxOptions, say: (s: string) => void, opts: { keepRunning?: boolean } = {}): Promise<RunRecord> {
  const l = sandboxLayout(stateDirFrom(o.stateDir));
  const clock = new StageClock(say);
  const services = new Services();
  const hours = expectedHours(o);
  // Longer than the generator's pause while the broker restarts, so no hour is marked complete early.
  const idleSeconds = o.faults.has("broker-restart") ? 20 : 10;
  let detached = false;
  let interrupted = false;
  // Ctrl-C reaches us twice (from the terminal and relayed by tsx): the first stops everything, later
  // ones are ignored rather than left to Node's default, which would exit with the services running.
  const interrupt = () => {
    if (interrupted) return;
    interrupted = true;
    say("interrupted: stopping every service the sandbox started");
    void services.stopAll().then(() => process.exit(130));
  };
  process.on("SIGINT", interrupt);
  process.on("SIGTERM", interrupt);
  try {
    // A run starts from empty data: the reconciliation compares this run's traffic with this run's table.
    if (!isSandboxFolder(l.root)) throw new SandboxError(`${l.root} is not empty and is not a sandbox state folder`, "choose an empty or new folder with --state-dir", undefined);
    if (existsSync(l.kafka)) await stopBroker(l.kafka);
    rmSync(l.root, { recursive: true, force: true });
    markSandboxFolder(l.root);
    for (const d of [l.logs, l.bigquery, l.rawBucket, l.curatedBucket, l.staging, l.hive]) mkdirSync(d, { recursive: true });

    if (o.setup) await clock.stage("setup", "installing what is missing (scripts/setup.sh)", () => runSetup(l, say));

    const kafka = await clock.stage("kafka", "starting the Kafka broker", async () => {
      try {
        assertJava();
        return await startBroker({ stateDir: l.kafka, detached: true });
      } catch (e) {
        throw new SandboxError(`the Kafka broker did not start: ${(e as Error).message}`, "fix the cause named above (Java 17 on PATH, 'npm run setup' for the jars), then run again", join(l.kafka, "broker.log"));
      }
    });
    const trackBroker = (pid: number) => services.track("kafka", pid, kafka.log, () => stopBroker(l.kafka));
    trackBroker(kafka.pid);
    services.endpoints.kafkaBootstrap = kafka.bootstrapServers;

    // Everything else overlaps: the streaming job starts with the generator (it reads the topic from its
    // start), while the BigQuery server and the loader function start beside them.
    say("\u001b[1m==> starting the Spark streaming job (it keeps running)\u001b[0m");
    let streamService = services.add(startService(parts.streamSpec(l, kafka.bootstrapServers, idleSeconds, o)));
    services.endpoints.rawBucket = l.rawBucket;
    services.endpoints.curatedBucket = l.curatedBucket;

    const warehouse = clock.stage("bigquery", "starting the local BigQuery server and the loader function", async () => {
      const bq = services.add(startService(parts.bigqueryServerSpec(l)));
      let port: number | undefined;
      await waitUntil("the local BigQuery server listens", () => (port = parts.bigqueryRestPort(bq.log)) !== undefined, {
        timeoutMs: 60_000, service: bq, log: bq.log, hint: "check that 'npm run setup' installed the BigQuery emulator (scripts/setup.d/50-bigquery-emulator.sh)",
      });
      const endpoint = `http://127.0.0.1:${port}`;
      services.endpoints.bigqueryEndpoint = endpoint;
      services.endpoints.bigqueryProject = parts.BQ_PROJECT;
      services.endpoints.bigqueryTable = `${parts.BQ_PROJECT}.${parts.BQ_DATASET}.${parts.HOURLY_TABLE}`;
      // The dataset, tables and views as the stack declares them in the cloud.
      await createLocalWarehouse(localClient(endpoint, parts.BQ_PROJECT), { project: parts.BQ_PROJECT, dataset: parts.BQ_DATASET, location: parts.BQ_LOCATION });

      // The archive the stack deploys, served by the Functions Framework as Cloud Run functions serve it.
      await runToCompletion({
        name: "build-loader", command: "npm", args: ["run", "--silent", "build:loader"], cwd: parts.REPO_ROOT,
        log: join(l.logs, "build-loader.log"), timeoutMs: 120_000, hint: "fix the build error in the log (functions/loader)",
      });
      const loaderPort = await freePort();
      const loader = services.add(startService(parts.loaderSpec(l, loaderPort, endpoint)));
      services.endpoints.loaderUrl = `http://127.0.0.1:${loaderPort}/`;
      await waitUntil("the loader function answers", () => answers(services.endpoints.loaderUrl as string), {
        timeoutMs: 60_000, service: loader, log: loader.log, hint: "run 'npm run build:loader' and read the loader's log",
      });
    });

    const faults: Promise<void>[] = [];
    const generated = clock.stage("generator", `sending ${o.hours} h x ${o.perHour} entries of simulated traffic from ${o.start}`, async () => {
      const gen = services.add(startService(parts.generatorSpec(l, { brokers: kafka.bootstrapServers, ...o })));
      if (o.faults.has("broker-restart")) {
        faults.push(
          (async () => {
            await sleep(3000);
            say("    fault: killing the Kafka broker (SIGKILL) while the generator sends");
            await killGroup(kafka.pid);
            const again = await startBroker({ stateDir: l.kafka, detached: true }).catch((e: Error) => {
              throw new SandboxError(`the Kafka broker did not restart: ${e.message}`, "read the broker's log", kafka.log);
            });
            trackBroker(again.pid);
            say(`    fault: broker restarted on ${again.bootstrapServers}`);
          })(),
        );
      }
      if (o.faults.has("stream-restart")) {
        faults.push(
          (async () => {
            await waitUntil("the streaming job wrote its first raw files", () => countFiles(parts.streamPaths(l).events, ".parquet") > 0, {
              timeoutMs: 180_000, service: streamService, log: streamService.log, hint: "read the streaming job's log",
            });
            say("    fault: killing the streaming job (SIGKILL) after its first raw files");
            await killGroup(streamService.pid);
            streamService = services.add(startService(parts.streamSpec(l, kafka.bootstrapServers, idleSeconds, o)));
            say("    fault: streaming job restarted from its checkpoint");
          })(),
        );
      }
      const code = await gen.exited;
      services.forget("generator");
      if (code !== 0) throw new SandboxError(`the generator failed (exit ${code})`, "read the generator's log; a broker that did not come back is named there", gen.log);
    });
    await Promise.all([warehouse, generated, ...faults]);
    const summary = readGroundTruth(l.summary, join(l.logs, "generator.log"));

    const deliveries = new Map<string, number>();
    const runIds = new Map<string, string[]>();
    const loaded = new Set<string>();
    let eventSeq = 0;
    let hourlyRuns = 0;
    const runnerInvocations: HourlyRunnerInvocation[] = [];
    /** One invocation of the hourly runner (one Spark start-up) for every hour in `batch`, then the events. */
    const publishAndLoad = async (batch: string[]) => {
      say(`    hourly run: ${batch.join(", ")}: register partition, aggregate, data-quality checks, publish`);
      const results = join(l.logs, `hourly-run-${++hourlyRuns}.jsonl`);
      const t0 = Date.now();
      await runToCompletion({
        ...parts.hourlyRunnerSpec(l, batch, results),
        timeoutMs: 10 * 60_000,
        hint: `a failed data-quality check or HiveQL error is named in the log (the runner's per-hour results: ${results})`,
      });
      const t1 = Date.now();
      clock.addDetail("hours", "hourly runs (Spark SQL)", (t1 - t0) / 1000);
      const hourResults = parts.readHourlyResults(results);
      runnerInvocations.push({ startedAtMs: t0, endedAtMs: t1, results: hourResults });
      for (const { hour, run_id: runId, published: objects } of hourResults) {
        runIds.set(hour, [...(runIds.get(hour) ?? []), runId]);
        if (objects.length === 0) throw new SandboxError(`the hourly run ${runId} published nothing for ${hour}`, "read the hourly run's log", join(l.logs, "hourly.log"));
        for (const name of objects) {
          const event = finalizedEventFor(l, name, String(++eventSeq));
          const times = o.faults.has("redeliver") && deliveries.size === 0 ? 2 : 1;
          for (let i = 0; i < times; i++) {
            if (i === 1) say(`    fault: delivering the event for ${name} a second time`);
            await deliver(services.endpoints.loaderUrl as string, event);
            deliveries.set(name, (deliveries.get(name) ?? 0) + 1);
          }
        }
        loaded.add(hour);
      }
      clock.addDetail("hours", "loader (events -> BigQuery)", (Date.now() - t1) / 1000);
    };

    await clock.stage("hours", `running the hourly steps (HiveQL + data-quality checks) and loading ${hours.length} hours`, async () => {
      // Spark starts in ~30 s, an hour's steps take seconds: hours that complete close together share a run.
      const batchWindowMs = 15_000;
      const stageStart = Date.now();
      let busyMs = 0;
      const deadline = Date.now() + 10 * 60_000;
      let firstReadyAt: number | undefined;
      let rerunPending = o.faults.has("rerun-hour");
      let streamStopped = false;
      while (loaded.size < hours.length) {
        const completed = parts.completedHours(l);
        if (!opts.keepRunning && !streamStopped && hours.every((h) => completed.includes(h))) {
          // Every hour of this run is in the raw bucket: the job's core is better spent on the hourly runs.
          streamStopped = true;
          await stopGroup(streamService.pid);
          services.forget(streamService.name);
        }
        const ready = completed.filter((h) => hours.includes(h) && !loaded.has(h));
        const allReady = ready.length === hours.length - loaded.size;
        if (ready.length) firstReadyAt ??= Date.now();
        if (ready.length && (allReady || Date.now() - (firstReadyAt as number) >= batchWindowMs)) {
          // The re-run rides along with a later batch once its first run is loaded.
          const rerun = rerunPending && loaded.has(hours[0]) ? [hours[0]] : [];
          if (rerun.length) say(`    fault: re-running the hour ${hours[0]} (a new run id replaces its published output)`);
          const b0 = Date.now();
          await publishAndLoad([...ready, ...rerun]);
          busyMs += Date.now() - b0;
          if (rerun.length) rerunPending = false;
          firstReadyAt = undefined;
          continue;
        }
        if (!streamStopped && !isAlive(streamService.pid)) {
          throw new SandboxError(`the streaming job exited after marking ${loaded.size + ready.length} of ${hours.length} hours complete`, "read the streaming job's log (a Spark or Kafka error is named there)", streamService.log);
        }
        if (Date.now() > deadline) throw new SandboxError(`the streaming job marked ${loaded.size + ready.length} of ${hours.length} hours complete within 10 minutes`, "read the streaming job's log", streamService.log);
        await sleep(500);
      }
      clock.addDetail("hours", "waiting for the stream", (Date.now() - stageStart - busyMs) / 1000);
      if (rerunPending) {
        say(`    fault: re-running the hour ${hours[0]} (a new run id replaces its published output)`);
        await publishAndLoad([hours[0]]);
      }
    });

    const audit = await clock.stage("audit", "auditing the raw bucket (rows, duplicate event ids, quarantine)", async () => {
      const out = join(l.root, "raw-audit.json");
      await runToCompletion({ ...parts.rawAuditSpec(l, out), timeoutMs: 120_000, hint: "read the audit's log" });
      return JSON.parse(readFileSync(out, "utf8")) as RawAudit;
    });

    const bigquery = localClient(services.endpoints.bigqueryEndpoint as string, parts.BQ_PROJECT);
    const dataset = `${parts.BQ_PROJECT}.${parts.BQ_DATASET}`;
    const { rows, duplicateTableRows, loads, lineage } = await clock.stage("query", "reading the hourly table from the local BigQuery server", async () => ({
      rows: await latestHourlyActivity(bigquery, `${dataset}.${parts.LATEST_VIEW}`),
      duplicateTableRows: await rowsLoadedTwice(clientQuery(bigquery), `${dataset}.${parts.HOURLY_TABLE}`),
      loads: await loadsPerObject(clientQuery(bigquery), `${dataset}.${parts.LOAD_LOG_TABLE}`),
      lineage: await loadLineage(clientQuery(bigquery), `${dataset}.${parts.LOAD_LOG_TABLE}`),
    }));
    const logLines = (name: string) => readFileSync(join(l.logs, name), "utf8").split("\n");
    const health = pipelineHealth({
      hours,
      streamLog: logLines("stream.log"),
      runnerInvocations,
      loads: lineage,
      loaderLog: logLines("loader.log"),
      loaderInvocations: [...deliveries.values()].reduce((a, b) => a + b, 0),
      maxQuarantineShare: parts.MAX_QUARANTINE_SHARE,
    });

    const reconciliation = reconcile(expectedActivity(summary), rows, {
      duplicatesSent: summary.duplicates,
      rawRows: audit.rows,
      distinctEventIds: audit.distinct_event_ids,
    });
    const reportPath = l.report;
    writeFileSync(
      reportPath,
      renderReport({
        generatedAt: new Date().toISOString(),
        table: `${parts.BQ_PROJECT}.${parts.BQ_DATASET}.${parts.LATEST_VIEW}`,
        hours: totalsPerHour(rows),
        topProducts: topProducts(rows, o.top),
        reconciliation,
        quarantined: audit.quarantined,
        stageSeconds: clock.times,
        health,
      }),
    );

    say("");
    say(formatHourlyTable(rows, o.top));
    say("");
    say(`malformed entries sent: ${summary.malformed}, quarantined by the streaming job: ${audit.quarantined}`);
    if (o.format === "combined") {
      const account = accessLogAccount(summary.acknowledged, audit.rows, audit.quarantined, accessLogCounts(logLines("stream.log")));
      say(account.text);
      if (!account.exact) throw new SandboxError("the access-log lines shipped do not add up to raw, quarantined and ignored lines", "read the streaming job's 'access log:' lines", join(l.logs, "stream.log"));
    }
    say(`raw entries: ${audit.rows}, distinct event ids: ${audit.distinct_event_ids}; repeated deliveries sent by the generator: ${summary.duplicates}`);
    say(`events delivered to the loader: ${[...deliveries.values()].reduce((a, b) => a + b, 0)} for ${deliveries.size} objects; table rows loaded twice: ${duplicateTableRows}; objects loaded by more than one job: ${loads.filter((o) => o.loadJobs > 1).length}`);
    say(formatReconciliation(reconciliation));
    say(`report: ${reportPath}`);

    const record: RunRecord = {
      reconciliation,
      reportPath,
      audit,
      summary: { generated: summary.generated, valid: summary.valid, malformed: summary.malformed, duplicates: summary.duplicates, errors: summary.errors, hours: summary.hours, products: summary.products },
      deliveries: Object.fromEntries(deliveries),
      duplicateTableRows,
      loads,
      runIds: Object.fromEntries(runIds),
      stageTimes: clock.times,
      health,
    };
    writeFileSync(l.result, JSON.stringify(record, null, 2) + "\n");

    if (opts.keepRunning) {
      services.detach(l.services);
      detached = true;
    }
    return record;
  } finally {
    process.removeListener("SIGINT", interrupt);
    process.removeListener("SIGTERM", interrupt);
    if (!detached) await clock.stage("stop", "stopping every service", () => services.stopAll());
    say(clock.format(o.hours * o.perHour));
  }
}

async function answers(url: string): Promise<boolean> {
  try {
    await fetch(url, { signal: AbortSignal.timeout(1000) });
    return true;
  } catch {
    return false;
  }
}

/** The event Eventarc would deliver for a published object of the curated bucket. */
function finalizedEventFor(l: SandboxLayout, name: string, id: string) {
  const content = parts.objectContent(l, name);
  const st = statSync(join(l.curatedBucket, name));
  return objectFinalizedEvent(
    {
      bucket: CURATED_BUCKET,
      name,
      // GCS generations are microsecond timestamps; the file's mtime stands in for the write time.
      generation: String(Math.floor(st.mtimeMs * 1000)),
      size: content.length,
      contentType: "text/csv",
      md5Hash: md5Base64(content),
      timeCreated: st.mtime.toISOString(),
    },
    id,
  );
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

