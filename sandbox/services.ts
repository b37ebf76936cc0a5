// What `up` left running: the supervisor's pid in services.json (its processes and endpoints are in
// status.json), so that `down` can stop it, and everything it started, from another terminal.
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { isAlive, stopGroup } from "./processes";
import { readStatus } from "./status";

export interface Endpoints {
  kafkaBootstrap?: string;
  bigqueryEndpoint?: string;
  bigqueryProject?: string;
  bigqueryTable?: string;
  loaderUrl?: string;
  rawBucket?: string;
  curatedBucket?: string;
}

export interface ServicesFile {
  startedAt: string;
  supervisorPid: number;
}

export function readServicesFile(file: string): ServicesFile | undefined {
  return existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as ServicesFile) : undefined;
}

export function writeServicesFile(file: string, supervisorPid: number): void {
  writeFileSync(file, JSON.stringify({ startedAt: new Date().toISOString(), supervisorPid }, null, 2) + "\n");
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Stops what `up` left running: the supervisor stops its processes in order (the generator first, the
 * broker last) and exits; whatever is still alive after that is stopped by its process group. Returns
 * the names of the processes that were running.
 */
export async function stopDetached(files: { services: string; status: string }, timeoutMs = 180_000): Promise<string[]> {
  const content = readServicesFile(files.services);
  if (!content) return [];
  const status = readStatus(files.status);
  const running = (status?.processes ?? []).filter((p) => p.pid !== undefined && isAlive(p.pid));
  if (isAlive(content.supervisorPid)) {
    process.kill(content.supervisorPid, "SIGTERM");
    const until = Date.now() + timeoutMs;
    while (isAlive(content.supervisorPid) && Date.now() < until) await sleep(200);
    if (isAlive(content.supervisorPid)) process.kill(content.supervisorPid, "SIGKILL");
  }
  for (const p of running) if (isAlive(p.pid as number)) await stopGroup(p.pid as number);
  rmSync(files.services, { force: true });
  rmSync(files.status, { force: true });
  return ["supervisor", ...running.map((p) => p.name)];
}
