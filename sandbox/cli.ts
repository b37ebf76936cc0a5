// The sandbox's command line (`npm start`): run / up / status / down / purge.
import { spawn } from "node:child_process";
import { appendFileSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { OBJECT_FINALIZED } from "../functions/loader/src/hourlyLoader";
import { stopBroker } from "./kafkaBroker";
import { isSandboxFolder, markSandboxFolder, sandboxLayout, stateDirFrom } from "./layout";
import { parseOptions, SandboxOptions, USAGE, UsageError } from "./options";
import { REPO_ROOT, TOPIC } from "./parts";
import { runSandbox, setupIfAsked } from "./pipeline";
import { isAlive, SandboxError } from "./processes";
import { describeRecords, ProcessRegistry } from "./processRegistry";
import { formatReportSummary, reportFromStateFolder } from "./reportCommand";
import { Endpoints, readServicesFile, stopRecorded, writeServicesFile } from "./services";
import { lineWriter, ProcessHandle, Shutdown } from "./shutdown";
import { StageClock } from "./stageClock";
import { formatStatus, readStatus } from "./status";

const say = lineWriter(process.stderr);

export function formatEndpoints(e: Endpoints): string {
  return [
    "endpoints (127.0.0.1 only):",
    `  Kafka bootstrap servers   ${e.kafkaBootstrap ?? "-"}          (topic ${TOPIC})`,
    `  BigQuery API endpoint     ${e.bigqueryEndpoint ?? "-"}   (project ${e.bigqueryProject ?? "-"}; table ${e.bigqueryTable ?? "-"})`,
    `  loader function (HTTP)    ${e.loaderUrl ?? "-"}   (CloudEvents, ${OBJECT_FINALIZED})`,
    `  raw bucket folder         ${e.rawBucket ?? "-"}`,
    `  curated bucket folder     ${e.curatedBucket ?? "-"}`,
    "",
    "  e.g. curl -s -X POST -H 'content-type: application/json' \\",
    `       -d '{"query":"SELECT * FROM \`${e.bigqueryTable ?? "PROJECT.DATASET.TABLE"}\` LIMIT 5","useLegacySql":false}' \\`,
    `       ${e.bigqueryEndpoint ?? "ENDPOINT"}/bigquery/v2/projects/${e.bigqueryProject ?? "PROJECT"}/queries`,
  ].join("\n");
}

function tail(file: string, lines = 20): string {
  try {
    return readFileSync(file, "utf8").trimEnd().split("\n").slice(-lines).map((l) => `    | ${l}`).join("\n");
  } catch {
    return "";
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Stops everything the state folder recorded, whether its supervisor is alive or not. */
async function down(o: SandboxOptions): Promise<void> {
  const l = sandboxLayout(stateDirFrom(o.stateDir));
  const stopped = await stopRecorded(l);
  // A broker of a state folder older than its process records is still found through its own state.
  if (existsSync(l.kafka)) await stopBroker(l.kafka);
  say(stopped.length ? `stopped: ${describeRecords(stopped)} (state kept in ${l.root}; 'up' resumes from it)` : "nothing was running");
}

/** Starts the supervisor in the background, detached from this terminal, and waits until the pipeline runs. */
async function up(o: SandboxOptions, argv: string[], registry: ProcessRegistry): Promise<number> {
  const l = sandboxLayout(stateDirFrom(o.stateDir));
  if (!isSandboxFolder(l.root)) throw new SandboxError(`${l.root} is not empty and is not a sandbox state folder`, "choose an empty or new folder with --state-dir", undefined);
  markSandboxFolder(l.root);
  mkdirSync(l.logs, { recursive: true });
  const stages = new StageClock(say);
  await setupIfAsked(o, l, stages, say, registry);
  const log = join(l.logs, "supervisor.log");
  // Lines an earlier `up` logged are not shown again.
  let shown = existsSync(log) ? readFileSync(log, "utf8").split("\n").length - 1 : 0;
  const fd = openSync(log, "a");
  registry.assertOpen("the supervisor");
  // node with tsx's loader, not the tsx command: one process, which receives its signals itself.
  const daemon = spawn(process.execPath, ["--import", "tsx", join(REPO_ROOT, "sandbox", "daemon.ts"), ...argv], {
    cwd: REPO_ROOT, stdio: ["ignore", fd, fd], detached: true, env: registry.env(),
  });
  registry.recordChild("supervisor", daemon);
  closeSync(fd);
  daemon.unref();
  writeServicesFile(l.services, daemon.pid as number);
  say(`\u001b[1m==> starting the pipeline in the background (supervisor pid ${daemon.pid}, log ${log})\u001b[0m`);
  const until = Date.now() + 10 * 60_000;
  for (;;) {
    const lines = existsSync(log) ? readFileSync(log, "utf8").split("\n") : [];
    for (const line of lines.slice(shown, -1)) say(`    ${line}`);
    shown = Math.max(shown, lines.length - 1);
    if (readStatus(l.status)?.phase === "running") break;
    if (!isAlive(daemon.pid as number)) {
      // A supervisor that died starting (or was killed) may leave processes: none of them stays.
      await stopRecorded(l);
      throw new SandboxError("the pipeline did not start", "read the supervisor's log above; fix the cause, then run 'npm start -- up' again", log);
    }
    if (Date.now() > until) throw new SandboxError("the pipeline did not start within 10 minutes", "read the supervisor's log, then 'npm start -- down'", log);
    await sleep(500);
  }
  console.log(formatEndpoints(readStatus(l.status)?.endpoints ?? {}));
  say(`the pipeline keeps running in the background: 'npm start -- status' to watch it, 'npm start -- down' to stop it (state: ${l.root})`);
  return 0;
}

async function status(o: SandboxOptions): Promise<number> {
  const l = sandboxLayout(stateDirFrom(o.stateDir));
  for (;;) {
    const services = readServicesFile(l.services);
    const s = readStatus(l.status);
    if (!services || !s) {
      say(`no services running from ${l.root} (start them with 'npm start -- up')`);
      return 3;
    }
    const text = `${formatStatus(s)}\n\n${formatEndpoints(s.endpoints)}`;
    if (!o.watch) {
      console.log(text);
      return 0;
    }
    process.stdout.write(`\u001b[2J\u001b[H${new Date().toISOString()}  (Ctrl-C to stop watching; the pipeline keeps running)\n\n${text}\n`);
    await sleep(2000);
  }
}

/** Writes the HTML report again from the warehouse: the running one, or the one `down` kept. */
async function report(o: SandboxOptions): Promise<number> {
  const l = sandboxLayout(stateDirFrom(o.stateDir));
  const s = readStatus(l.status);
  const r = await reportFromStateFolder(l, readServicesFile(l.services) ? s?.endpoints : undefined, o.top, say);
  if (!r) {
    say(`no services running from ${l.root} and no warehouse kept there (start them with 'npm start -- up')`);
    return 3;
  }
  say(formatReportSummary(r));
  console.log(l.report);
  return 0;
}

/**
 * `npm start` and `up`: refused while a supervisor of the state folder runs; what an earlier crash left
 * running is stopped first, and said so.
 */
async function start(o: SandboxOptions, argv: string[], run: SandboxRunner, registry: ProcessRegistry, shutdown: Shutdown): Promise<number> {
  const l = sandboxLayout(stateDirFrom(o.stateDir));
  const supervisor = registry.alive([process.pid]).find((r) => r.name === "supervisor");
  if (supervisor) {
    say(`services from an earlier 'up' or 'npm start' are still running from ${l.root} (supervisor pid ${supervisor.pid}): stop them first with 'npm start -- down'`);
    return 1;
  }
  const leftovers = await stopRecorded(l);
  if (leftovers.length > 0) say(`stopped what an earlier run of ${l.root} left running when it crashed: ${describeRecords(leftovers)}`);
  if (o.command === "up") return await up(o, argv, registry);
  const result = await run(o, say, shutdown);
  console.log(result.reportPath);
  return result.reconciliation.matches ? 0 : 1;
}

/** Runs the pipeline once; `main` takes it as a parameter so that its exit codes can be checked alone. */
export type SandboxRunner = typeof runSandbox;

/** `proc` is the process whose signals and output the run or `up` listens to (a test may pass a stand-in). */
export async function main(argv: string[], run: SandboxRunner = runSandbox, proc: ProcessHandle = process): Promise<number> {
  let o: SandboxOptions | "help";
  try {
    o = parseOptions(argv);
  } catch (e) {
    if (e instanceof UsageError) {
      say(`error: ${e.message}`);
      return 2;
    }
    throw e;
  }
  if (o === "help") {
    console.log(USAGE);
    return 0;
  }
  const l = sandboxLayout(stateDirFrom(o.stateDir));
  try {
    switch (o.command) {
      case "status":
        return await status(o);
      case "report":
        return await report(o);
      case "rerun": {
        if (!o.hour) {
          say("error: rerun needs --hour YYYY-MM-DDTHH");
          return 2;
        }
        const services = readServicesFile(l.services);
        if (!services || !isAlive(services.supervisorPid)) {
          say(`no services running from ${l.root} (start them with 'npm start -- up')`);
          return 3;
        }
        appendFileSync(l.reruns, `${o.hour}\n`);
        say(`rerun of ${o.hour} requested; 'npm start -- status' shows it publish (supervisor log: ${join(l.logs, "supervisor.log")})`);
        return 0;
      }
      case "down":
        await down(o);
        return 0;
      case "purge": {
        if (!isSandboxFolder(l.root)) {
          say(`error: ${l.root} is not a sandbox state folder (no .clickstream-sandbox file in it): not removing it`);
          return 1;
        }
        // Removing the folder under running processes would leave them running, writing into nothing.
        const running = new ProcessRegistry(l.processes).alive([process.pid]);
        if (running.length > 0) {
          say(`error: not removing ${l.root}: still running from it: ${describeRecords(running)}; stop them first with 'npm start -- down'`);
          return 1;
        }
        if (existsSync(l.kafka)) await stopBroker(l.kafka);
        rmSync(l.root, { recursive: true, force: true });
        say(`removed ${l.root}`);
        return 0;
      }
      case "run":
      case "up": {
        const registry = new ProcessRegistry(l.processes);
        const shutdown = new Shutdown(proc, registry, say).install();
        try {
          return await shutdown.unlessStopping(start(o, argv, run, registry, shutdown));
        } finally {
          shutdown.uninstall();
        }
      }
    }
  } catch (e) {
    if (e instanceof SandboxError) {
      say(`\nerror: ${e.message}`);
      say(`  what to do: ${e.hint}`);
      if (e.log) say(`  log: ${e.log}\n${tail(e.log)}`);
      say(`  all logs: ${join(l.root, "logs")}`);
      return 1;
    }
    throw e;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e: unknown) => {
      say(`error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
      process.exit(1);
    },
  );
}
