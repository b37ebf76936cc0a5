// The sandbox's command line (`npm start`): run / up / status / down / purge.
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { OBJECT_FINALIZED } from "../functions/loader/src/hourlyLoader";
import { stopBroker } from "./kafkaBroker";
import { isSandboxFolder, sandboxLayout, stateDirFrom } from "./layout";
import { parseOptions, SandboxOptions, USAGE, UsageError } from "./options";
import { TOPIC } from "./parts";
import { runSandbox } from "./pipeline";
import { SandboxError } from "./processes";
import { Endpoints, readServicesFile, stopDetached } from "./services";

const say = (line: string) => process.stderr.write(`${line}\n`);

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

async function down(o: SandboxOptions): Promise<void> {
  const l = sandboxLayout(stateDirFrom(o.stateDir));
  const stopped = await stopDetached(l.services);
  // A broker left by an interrupted run is still found through its own state folder.
  if (existsSync(l.kafka)) await stopBroker(l.kafka);
  say(stopped.length ? `stopped: ${stopped.join(", ")}` : "nothing was running");
}

/** Runs the pipeline once; `main` takes it as a parameter so that its exit codes can be checked alone. */
export type SandboxRunner = typeof runSandbox;

export async function main(argv: string[], run: SandboxRunner = runSandbox): Promise<number> {
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
  switch (o.command) {
    case "status": {
      const s = readServicesFile(l.services);
      if (!s) {
        say(`no services running from ${l.root} (start them with 'npm start -- up')`);
        return 3;
      }
      console.log(formatEndpoints(s.endpoints));
      return 0;
    }
    case "down":
      await down(o);
      return 0;
    case "purge":
      if (!isSandboxFolder(l.root)) {
        say(`error: ${l.root} is not a sandbox state folder (no .clickstream-sandbox file in it): not removing it`);
        return 1;
      }
      await down(o);
      rmSync(l.root, { recursive: true, force: true });
      say(`removed ${l.root}`);
      return 0;
    case "run":
    case "up": {
      if (readServicesFile(l.services)) {
        say(`services from an earlier 'up' are still running from ${l.root}: stop them first with 'npm start -- down'`);
        return 1;
      }
      try {
        const result = await run(o, say, { keepRunning: o.command === "up" });
        if (o.command === "up") {
          console.log(formatEndpoints(readServicesFile(l.services)?.endpoints ?? {}));
          say(`services keep running; stop them with 'npm start -- down' (state: ${l.root})`);
        }
        console.log(result.reportPath);
        return result.reconciliation.matches ? 0 : 1;
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
