// Eventarc for the sandbox: watches the curated bucket's folder and delivers an object-finalized event
// to the loader for every object published there, retrying until the loader accepts it (a loader that is
// restarting is waited for). What it delivered is kept in the state folder, so `down` then `up` delivers
// each object once; a delivery that was cut short is delivered again (the loader's job ids make that safe).
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { folderGeneration } from "../../functions/loader/src/storedObjects";
import { CURATED_BUCKET } from "../shared/layout";
import { deliver, md5Base64, objectFinalizedEvent } from "./storageEvent";
import { writeStateFile } from "../shared/stateFile";
import { sleep } from "../shared/sleep";

export interface Delivery {
  generation: string;
  /** deliveries the loader accepted */
  times: number;
  /** wall time and sandbox-clock time when the loader first accepted it: its rows are queryable from then */
  acceptedAtMs: number;
  acceptedAtClockMs: number;
}

interface NotifierState {
  seq: number;
  objects: Record<string, Delivery>;
}

/** Object names under the bucket folder, skipping names that are being written (.name.partial). */
export function objectNames(root: string): string[] {
  if (!existsSync(root)) return [];
  return readdirSync(root, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && !e.name.startsWith("."))
    .map((e) => join(e.parentPath, e.name).slice(root.length + 1))
    .sort();
}

export class CuratedNotifier {
  private readonly state: NotifierState;
  private stopped = false;
  private loop?: Promise<void>;
  /** objects whose first event is delivered twice (the sandbox's redelivery fault) */
  redeliverNext = 0;

  constructor(
    private readonly folder: string,
    private readonly stateFile: string,
    private readonly loaderUrl: () => string,
    private readonly clockNow: () => number,
    private readonly say: (line: string) => void,
  ) {
    this.state = existsSync(stateFile)
      ? (JSON.parse(readFileSync(stateFile, "utf8")) as NotifierState)
      : { seq: 0, objects: {} };
  }

  get deliveries(): Readonly<Record<string, Delivery>> {
    return this.state.objects;
  }

  /** Objects present in the folder whose current generation the loader has not accepted yet. */
  pending(): string[] {
    return objectNames(this.folder).filter((name) => this.state.objects[name]?.generation !== this.generationOf(name));
  }

  start(): void {
    this.loop = (async () => {
      while (!this.stopped) {
        const pending = this.pending();
        for (const name of pending) {
          if (this.stopped) break;
          await this.notify(name);
        }
        await sleep(pending.length ? 100 : 500);
      }
    })();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
  }

  private generationOf(name: string): string | undefined {
    // The loader reads the live generation the same way (undefined: deleted meanwhile, nothing to deliver).
    return folderGeneration(join(this.folder, name));
  }

  private async notify(name: string): Promise<void> {
    let content: Buffer;
    let generation: string | undefined;
    let mtime: Date;
    try {
      const path = join(this.folder, name);
      content = readFileSync(path);
      mtime = statSync(path).mtime;
      generation = this.generationOf(name);
    } catch {
      return;
    }
    if (!generation) return;
    const event = objectFinalizedEvent(
      {
        bucket: CURATED_BUCKET,
        name,
        generation,
        size: content.length,
        contentType: "text/csv",
        md5Hash: md5Base64(content),
        timeCreated: mtime.toISOString(),
      },
      String(++this.state.seq),
    );
    const times = this.redeliverNext > 0 ? 2 : 1;
    try {
      for (let i = 0; i < times; i++) {
        if (i === 1) this.say(`    fault: delivering the event for ${name} a second time`);
        await deliver(this.loaderUrl(), event, 2);
        const now = Date.now();
        const previous = this.state.objects[name];
        this.state.objects[name] =
          previous?.generation === generation
            ? { ...previous, times: previous.times + 1 }
            : { generation, times: 1, acceptedAtMs: now, acceptedAtClockMs: this.clockNow() };
      }
      if (times === 2) this.redeliverNext--;
      writeStateFile(this.stateFile, this.state);
    } catch (e) {
      this.say(`notifier: ${(e as Error).message}; delivering it again shortly`);
      await sleep(1000);
    }
  }
}
