// The registry of what the sandbox started: stopped together on exit or Ctrl-C, or written to
// services.json so that `down` can stop what `up` left running.
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { isAlive, Service, stopGroup } from "./processes";

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
  endpoints: Endpoints;
  processes: { name: string; pid: number; log: string }[];
}

export class Services {
  private readonly running: { name: string; pid: number; log: string; stop: () => Promise<void> }[] = [];
  readonly endpoints: Endpoints = {};
  private readonly onExit = () => {
    // Last resort when the process ends without stopAll (an uncaught error): no JVM outlives us.
    for (const s of this.running) {
      try {
        process.kill(-s.pid, "SIGKILL");
      } catch {
        // gone already
      }
    }
  };

  constructor() {
    process.on("exit", this.onExit);
  }

  add(service: Service): Service {
    this.track(service.name, service.pid, service.log, () => stopGroup(service.pid));
    return service;
  }

  track(name: string, pid: number, log: string, stop: () => Promise<void>): void {
    this.forget(name);
    this.running.push({ name, pid, log, stop });
  }

  forget(name: string): void {
    const i = this.running.findIndex((s) => s.name === name);
    if (i >= 0) this.running.splice(i, 1);
  }

  /** Stops in reverse start order, so consumers stop before the services they read from. */
  async stopAll(): Promise<void> {
    for (const s of [...this.running].reverse()) await s.stop().catch(() => undefined);
    this.running.length = 0;
  }

  /** Hands the services over to a later `down`: they keep running after this process exits. */
  detach(file: string): ServicesFile {
    const content: ServicesFile = {
      startedAt: new Date().toISOString(),
      endpoints: this.endpoints,
      processes: this.running.map(({ name, pid, log }) => ({ name, pid, log })),
    };
    writeFileSync(file, JSON.stringify(content, null, 2) + "\n");
    this.running.length = 0;
    process.removeListener("exit", this.onExit);
    return content;
  }
}

export function readServicesFile(file: string): ServicesFile | undefined {
  return existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as ServicesFile) : undefined;
}

/** Stops what `up` left running; returns the names it stopped. */
export async function stopDetached(file: string): Promise<string[]> {
  const content = readServicesFile(file);
  if (!content) return [];
  const stopped: string[] = [];
  for (const p of [...content.processes].reverse()) {
    if (isAlive(p.pid)) {
      await stopGroup(p.pid);
      stopped.push(p.name);
    }
  }
  rmSync(file, { force: true });
  return stopped;
}
