// Before a run: what is missing installed (scripts/setup.sh, its progress on the terminal), a state folder
// started from empty, and the input format and quarantine limit a state folder keeps.
import { createWriteStream, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { spawn } from "node:child_process";
import { join } from "node:path";
import { SandboxOptions } from "../commands/options";
import { stopBroker } from "../processes/kafkaBroker";
import * as parts from "../processes/parts";
import { SandboxError } from "../processes/processes";
import { ProcessRegistry } from "../processes/processRegistry";
import { isSandboxFolder, markSandboxFolder, sandboxCommand, SandboxLayout } from "../shared/layout";
import { writeStateFile } from "../shared/stateFile";
import { StageClock } from "./stageClock";

/** Runs the setup scripts with their progress on the terminal and in the setup log (in a group of their own, recorded). */
async function runSetup(l: SandboxLayout, say: (s: string) => void, registry: ProcessRegistry): Promise<void> {
  const log = join(l.logs, "setup.log");
  mkdirSync(l.logs, { recursive: true });
  const out = createWriteStream(log, { flags: "a" });
  registry.assertOpen("setup");
  const child = spawn("bash", [join(parts.REPO_ROOT, "scripts", "setup.sh")], {
    cwd: parts.REPO_ROOT,
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
    env: registry.env(),
  });
  registry.recordChild("setup", child);
  const relay = (chunk: Buffer) => {
    out.write(chunk);
    for (const line of chunk.toString().split("\n")) if (line.trim()) say(`    ${line}`);
  };
  child.stdout.on("data", relay);
  child.stderr.on("data", relay);
  const code = await new Promise<number | null>((r) => child.on("close", r));
  out.end();
  if (code !== 0)
    throw new SandboxError(
      `installing dependencies (scripts/setup.sh) failed (exit ${code})`,
      "read the error above (a download that failed: check the network to the package registries), then run the same command again",
      log,
    );
}

export async function setupIfAsked(
  o: SandboxOptions,
  l: SandboxLayout,
  stages: StageClock,
  say: (s: string) => void,
  registry: ProcessRegistry,
): Promise<void> {
  if (o.setup)
    await stages.stage("setup", "installing what is missing (scripts/setup.sh)", () => runSetup(l, say, registry));
}

/** A run starts from empty data: the reconciliation compares this run's traffic with this run's table. */
export async function freshStateFolder(l: SandboxLayout): Promise<void> {
  if (!isSandboxFolder(l.root))
    throw new SandboxError(
      `${l.root} is not empty and is not a sandbox state folder`,
      "choose an empty or new folder with --state-dir",
      undefined,
    );
  if (existsSync(l.kafka)) await stopBroker(l.kafka);
  rmSync(l.root, { recursive: true, force: true });
  markSandboxFolder(l.root);
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

/** Records the quarantine limit asked for; without one, the state folder keeps the one it has. */
export function keepMaxQuarantineShare(l: SandboxLayout, asked: number | undefined): void {
  if (asked !== undefined) writeStateFile(l.checks, { maxQuarantineShare: asked });
}

/** The quarantine limit of a state folder's hourly checks: the one `up` or `run` was given, else the stack's default. */
export function maxQuarantineShareOf(l: SandboxLayout): number {
  if (!existsSync(l.checks)) return parts.MAX_QUARANTINE_SHARE;
  return (JSON.parse(readFileSync(l.checks, "utf8")) as { maxQuarantineShare: number }).maxQuarantineShare;
}
