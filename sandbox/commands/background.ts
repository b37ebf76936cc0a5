// `up` and `down`: the living pipeline started in the background, detached from the terminal (its
// supervisor is daemon.ts), and everything a state folder recorded stopped again.
import { spawn } from "node:child_process";
import { closeSync, existsSync, mkdirSync, openSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { boldFor } from "../../commandLine/commandLine";
import { OBJECT_FINALIZED } from "../../functions/loader/src/hourlyLoader";
import { stopBroker } from "../processes/kafkaBroker";
import { isSandboxFolder, markSandboxFolder, sandboxCommand, sandboxLayout, stateDirFrom } from "../shared/layout";
import { SandboxOptions } from "./options";
import { REPO_ROOT, TOPIC } from "../processes/parts";
import { setupIfAsked } from "../pipeline/stateFolder";
import { isAlive, SandboxError } from "../processes/processes";
import { describeRecords, ProcessRegistry } from "../processes/processRegistry";
import { Endpoints, stopRecorded, writeServicesFile } from "../processes/services";
import { lineWriter } from "../processes/shutdown";
import { StageClock } from "../pipeline/stageClock";
import { readStatus } from "./status";
import { sleep } from "../shared/sleep";

const say = lineWriter(process.stderr);
const bold = boldFor(process.stderr);

export function formatEndpoints(e: Endpoints, root: string): string {
  return [
    "endpoints (127.0.0.1 only):",
    `  Kafka bootstrap servers   ${e.kafkaBootstrap ?? "-"}          (topic ${TOPIC})`,
    `  BigQuery API endpoint     ${e.bigqueryEndpoint ?? "-"}   (project ${e.bigqueryProject ?? "-"}; table ${e.bigqueryTable ?? "-"})`,
    `  loader function (HTTP)    ${e.loaderUrl ?? "-"}   (CloudEvents, ${OBJECT_FINALIZED})`,
    `  raw bucket folder         ${e.rawBucket ?? "-"}`,
    `  curated bucket folder     ${e.curatedBucket ?? "-"}`,
    "",
    `  send your logs: ${sandboxCommand(root, "ship FILE...")}`,
    `  query:          ${sandboxCommand(root, `query "SELECT * FROM \\\`${e.bigqueryTable ?? "PROJECT.DATASET.TABLE"}_latest\\\` LIMIT 5"`)}`,
  ].join("\n");
}

/** Stops everything the state folder recorded, whether its supervisor is alive or not. */
export async function down(o: SandboxOptions): Promise<void> {
  const l = sandboxLayout(stateDirFrom(o.stateDir));
  const stopped = await stopRecorded(l);
  // A broker of a state folder older than its process records is still found through its own state.
  if (existsSync(l.kafka)) await stopBroker(l.kafka);
  say(
    stopped.length
      ? `stopped: ${describeRecords(stopped)} (state kept in ${l.root}; ${sandboxCommand(l.root, "up")} resumes from it)`
      : "nothing was running",
  );
}

/** Starts the supervisor in the background, detached from this terminal, and waits until the pipeline runs. */
export async function up(o: SandboxOptions, argv: string[], registry: ProcessRegistry): Promise<number> {
  const l = sandboxLayout(stateDirFrom(o.stateDir));
  if (!isSandboxFolder(l.root))
    throw new SandboxError(
      `${l.root} is not empty and is not a sandbox state folder`,
      "choose an empty or new folder with --state-dir",
      undefined,
    );
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
  const daemon = spawn(
    process.execPath,
    ["--import", "tsx", join(REPO_ROOT, "sandbox", "commands", "daemon.ts"), ...argv],
    {
      cwd: REPO_ROOT,
      stdio: ["ignore", fd, fd],
      detached: true,
      env: registry.env(),
    },
  );
  registry.recordChild("supervisor", daemon);
  closeSync(fd);
  daemon.unref();
  writeServicesFile(l.services, daemon.pid as number);
  say(bold(`==> starting the pipeline in the background (supervisor pid ${daemon.pid}, log ${log})`));
  const until = Date.now() + 10 * 60_000;
  for (;;) {
    const lines = existsSync(log) ? readFileSync(log, "utf8").split("\n") : [];
    for (const line of lines.slice(shown, -1)) say(`    ${line}`);
    shown = Math.max(shown, lines.length - 1);
    if (readStatus(l.status)?.phase === "running") break;
    if (!isAlive(daemon.pid as number)) {
      // A supervisor that died starting (or was killed) may leave processes: none of them stays.
      await stopRecorded(l);
      throw new SandboxError(
        "the pipeline did not start",
        `read the supervisor's log above; fix the cause, then run ${sandboxCommand(l.root, "up")} again`,
        log,
      );
    }
    if (Date.now() > until)
      throw new SandboxError(
        "the pipeline did not start within 10 minutes",
        `read the supervisor's log, then ${sandboxCommand(l.root, "down")}`,
        log,
      );
    await sleep(500);
  }
  console.log(formatEndpoints(readStatus(l.status)?.endpoints ?? {}, l.root));
  say(
    `the pipeline keeps running in the background: ${sandboxCommand(l.root, "status")} to watch it, ${sandboxCommand(l.root, "down")} to stop it (state: ${l.root})`,
  );
  return 0;
}
