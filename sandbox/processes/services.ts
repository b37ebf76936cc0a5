// What `up` left running: the supervisor's pid in services.json (its endpoints are in status.json, every
// process in the state folder's records), so that `down` can stop it all from another terminal.
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { ProcessRecord, ProcessRegistry } from "./processRegistry";

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

/**
 * Stops whatever the state folder recorded, whether its supervisor is alive or not: a live supervisor
 * first (it stops its processes in order, the generator first and the broker last), then anything still
 * running, by process group. A recorded pid now used by another process is left alone. Returns what ran.
 */
export async function stopRecorded(l: {
  processes: string;
  services: string;
  status: string;
}): Promise<ProcessRecord[]> {
  const stopped = await new ProcessRegistry(l.processes).stopAll({ except: [process.pid] });
  rmSync(l.services, { force: true });
  rmSync(l.status, { force: true });
  return stopped;
}
