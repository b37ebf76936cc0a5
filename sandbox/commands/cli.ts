// The sandbox's command line (`npm start`): run / up / status / down / purge.
import { appendFileSync, existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { endWhenReaderGoes, USAGE_EXIT } from "../../commandLine/commandLine";
import { stopBroker } from "../processes/kafkaBroker";
import { isSandboxFolder, sandboxCommand, sandboxLayout, stateDirFrom } from "../shared/layout";
import { parseOptions, SandboxOptions, UsageError } from "./options";
import { USAGE } from "./usage";
import { StreamInput, TOPIC } from "../processes/parts";
import { runSandbox } from "../pipeline/run";
import { isAlive, SandboxError } from "../processes/processes";
import { describeRecords, ProcessRegistry } from "../processes/processRegistry";
import { formatReportSummary, reportFromStateFolder } from "./reportCommand";
import { readServicesFile, stopRecorded } from "../processes/services";
import { lineWriter, ProcessHandle, Shutdown } from "../processes/shutdown";
import { formatStatus, PipelineStatus, readStatus } from "./status";
import { formatRows, readableRows } from "./query";
import { shipFiles } from "./ship";
import { localClient, queryRows } from "../verdict/localBigQuery";
import { sleep } from "../shared/sleep";
import { down, formatEndpoints, up } from "./background";

const say = lineWriter(process.stderr);

function tail(file: string, lines = 20): string {
  try {
    return readFileSync(file, "utf8")
      .trimEnd()
      .split("\n")
      .slice(-lines)
      .map((l) => `    | ${l}`)
      .join("\n");
  } catch {
    return "";
  }
}

async function status(o: SandboxOptions): Promise<number> {
  const l = sandboxLayout(stateDirFrom(o.stateDir));
  endWhenReaderGoes(process.stdout);
  for (;;) {
    const services = readServicesFile(l.services);
    const s = readStatus(l.status);
    if (!services || !s) {
      say(`no services running from ${l.root} (start them with ${sandboxCommand(l.root, "up")})`);
      return 3;
    }
    if (o.json) {
      process.stdout.write(`${JSON.stringify(s, null, 2)}\n`);
      return 0;
    }
    if (!o.watch) {
      console.log(`${formatStatus(s)}\n\n${formatEndpoints(s.endpoints, l.root)}`);
      return 0;
    }
    // One screen, redrawn: cleared on a terminal, one block per refresh into a pipe or file.
    const clear = process.stdout.isTTY ? "\u001b[2J\u001b[H" : "";
    process.stdout.write(
      `${clear}${new Date().toISOString()}  (Ctrl-C to stop watching; the pipeline keeps running)\n\n${formatStatus(s)}\n`,
    );
    await sleep(2000);
  }
}

/** Writes the HTML report again from the warehouse: the running one, or the one `down` kept. */
async function report(o: SandboxOptions): Promise<number> {
  const l = sandboxLayout(stateDirFrom(o.stateDir));
  const s = readStatus(l.status);
  const r = await reportFromStateFolder(l, readServicesFile(l.services) ? s?.endpoints : undefined, o.top, say);
  if (!r) {
    say(
      `no services running from ${l.root} and no warehouse kept there (start them with ${sandboxCommand(l.root, "up")})`,
    );
    return 3;
  }
  say(formatReportSummary(r));
  console.log(l.report);
  return 0;
}

/** The running sandbox's status, or undefined after saying how to start it (then exit 3). */
function running(l: ReturnType<typeof sandboxLayout>): PipelineStatus | undefined {
  const s = readStatus(l.status);
  if (readServicesFile(l.services) && s) return s;
  say(`no services running from ${l.root} (start them with ${sandboxCommand(l.root, "up")})`);
  return undefined;
}

/** Sends files (or stdin) to the running sandbox's topic, as a file shipper does. */
async function ship(o: SandboxOptions): Promise<number> {
  const l = sandboxLayout(stateDirFrom(o.stateDir));
  const s = running(l);
  if (!s?.endpoints.kafkaBootstrap) return 3;
  const reads = (JSON.parse(readFileSync(l.input, "utf8")) as StreamInput).format;
  const format = o.lines ?? reads;
  if (format !== reads) {
    say(
      `error: this sandbox reads ${reads === "json" ? "JSON entries" : "access-log lines"}, not ${format}: ship them to a sandbox started with 'up --format ${format} --no-traffic' (another --state-dir)`,
    );
    return 1;
  }
  const envelope = o.envelope ?? (format === "combined" ? "vector" : "none");
  if (format === "json" && envelope !== "none") {
    say("error: --envelope is for access-log lines (--format combined); JSON entries carry their own event_id");
    return USAGE_EXIT;
  }
  // Every file is checked before the first line goes: nothing is half sent for want of a file.
  const unreadable = o.files.filter((f) => f !== "-" && !existsSync(f));
  if (unreadable.length) {
    say(`error: no such file: ${unreadable.join(", ")}`);
    return 1;
  }
  const progress = process.stderr.isTTY
    ? (n: number) => process.stderr.write(`\r\u001b[Kshipped ${n.toLocaleString("en-US")} lines`)
    : undefined;
  const r = await shipFiles(o.files, { bootstrap: s.endpoints.kafkaBootstrap, topic: TOPIC, envelope, progress });
  if (progress) process.stderr.write("\r\u001b[K");
  say(
    `shipped ${r.lines.toLocaleString("en-US")} ${r.lines === 1 ? "line" : "lines"} (${r.bytes.toLocaleString("en-US")} bytes) from ${r.files} ${r.files === 1 ? "file" : "files"} to ${s.endpoints.kafkaBootstrap}, topic ${TOPIC}` +
      (envelope === "none"
        ? ", each line as it is (shipping them again counts them again)"
        : `, in ${envelope}'s envelope with host, file and byte offset (shipping a file again counts its lines once)`),
  );
  say(
    `their hours are counted once each hour completes: ${sandboxCommand(l.root, "status")} shows the hours loaded, ${sandboxCommand(l.root, "report")} the account of every line (counted, ignored, quarantined, repeated), ${sandboxCommand(l.root, 'query "SELECT ..."')} the rows`,
  );
  return 0;
}

/** Runs one query over the running sandbox's warehouse and prints its rows. */
async function query(o: SandboxOptions): Promise<number> {
  const l = sandboxLayout(stateDirFrom(o.stateDir));
  const s = running(l);
  if (!s?.endpoints.bigqueryEndpoint) return 3;
  endWhenReaderGoes(process.stdout);
  let rows: Record<string, unknown>[];
  try {
    rows = await queryRows(
      localClient(s.endpoints.bigqueryEndpoint, s.endpoints.bigqueryProject as string),
      o.sql as string,
    );
  } catch (e) {
    say(`error: the query failed: ${(e as Error).message}`);
    return 1;
  }
  const text = formatRows(readableRows(rows), o.output);
  if (text) process.stdout.write(`${text}\n`);
  return 0;
}

/**
 * `npm start` and `up`: refused while a supervisor of the state folder runs; what an earlier crash left
 * running is stopped first, and said so.
 */
async function start(
  o: SandboxOptions,
  argv: string[],
  run: SandboxRunner,
  registry: ProcessRegistry,
  shutdown: Shutdown,
): Promise<number> {
  const l = sandboxLayout(stateDirFrom(o.stateDir));
  const supervisor = registry.alive([process.pid]).find((r) => r.name === "supervisor");
  if (supervisor) {
    say(
      `services from an earlier 'up' or 'npm start' are still running from ${l.root} (supervisor pid ${supervisor.pid}): stop them first with ${sandboxCommand(l.root, "down")}`,
    );
    return 1;
  }
  const leftovers = await stopRecorded(l);
  if (leftovers.length > 0)
    say(`stopped what an earlier run of ${l.root} left running when it crashed: ${describeRecords(leftovers)}`);
  if (o.command === "up") return await up(o, argv, registry);
  const result = await run(o, say, shutdown);
  console.log(result.reportPath);
  return result.reconciliation.matches ? 0 : 1;
}

/** Runs the pipeline once; `main` takes it as a parameter so that its exit codes can be checked alone. */
export type SandboxRunner = typeof runSandbox;

/** `proc` is the process whose signals and output the run or `up` listens to (a test may pass a stand-in). */
export async function main(
  argv: string[],
  run: SandboxRunner = runSandbox,
  proc: ProcessHandle = process,
): Promise<number> {
  let o: SandboxOptions | "help";
  try {
    o = parseOptions(argv);
  } catch (e) {
    if (e instanceof UsageError) {
      say(`error: ${e.message}`);
      return USAGE_EXIT;
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
      case "ship":
        return await ship(o);
      case "query":
        return await query(o);
      case "rerun": {
        const services = readServicesFile(l.services);
        if (!services || !isAlive(services.supervisorPid)) {
          say(`no services running from ${l.root} (start them with ${sandboxCommand(l.root, "up")})`);
          return 3;
        }
        appendFileSync(l.reruns, `${o.hour}\n`);
        say(
          `rerun of ${o.hour} requested; ${sandboxCommand(l.root, "status")} shows it publish (supervisor log: ${join(l.logs, "supervisor.log")})`,
        );
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
          say(
            `error: not removing ${l.root}: still running from it: ${describeRecords(running)}; stop them first with ${sandboxCommand(l.root, "down")}`,
          );
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
