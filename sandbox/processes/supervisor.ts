// Keeps the pipeline's processes running, as Dataproc's restartable job and Cloud Run keep theirs: a
// process that exits while it should run is started again after a back-off (1 s, doubling up to 30 s,
// back to 1 s once it has run for a minute), with one log line per restart. Starting, the clock and
// the liveness of a pid are passed in, so the back-off is tested on virtual processes and time.
import { isAlive } from "./processes";
import { StoppingError } from "./processRegistry";
import { sleep } from "../shared/sleep";

/** A started process: its group leader's pid, when it ends, and its log. */
export interface Started {
  pid: number;
  exited: Promise<number | string>;
  log: string;
}

export interface SupervisedState {
  name: string;
  pid?: number;
  running: boolean;
  restarts: number;
  log?: string;
  lastExit?: string;
}

/** The time the back-off is measured and waited on: the wall clock, or a test's virtual one. */
export interface BackoffClock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const WALL_CLOCK: BackoffClock = { now: () => Date.now(), sleep };
const STABLE_MS = 60_000;
const MAX_BACKOFF_MS = 30_000;

/** A process that is not our child (the Kafka broker starts its own): its end, polled. */
export function exitOf(pid: number, intervalMs = 500): Promise<string> {
  return new Promise((resolve) => {
    const timer = setInterval(() => {
      if (!isAlive(pid)) {
        clearInterval(timer);
        resolve("gone");
      }
    }, intervalMs);
  });
}

export class Supervised {
  restarts = 0;
  private current?: Started;
  private stopping = false;
  private loop?: Promise<void>;

  constructor(
    readonly name: string,
    private readonly start: () => Promise<Started>,
    private readonly log: (line: string) => void,
    /** called after each restart (e.g. to tell dependants the new pid) */
    private readonly onRestart: (s: Started) => void | Promise<void> = () => undefined,
    private readonly clock: BackoffClock = WALL_CLOCK,
    /** whether a pid still runs: the operating system's answer, or a test's virtual processes */
    private readonly running: (pid: number) => boolean = isAlive,
  ) {}

  private startedAt = 0;

  /** Starts it the first time; a failure here is the caller's (a stage that cannot start at all). */
  async begin(): Promise<Started> {
    this.startedAt = this.clock.now();
    this.current = await this.start();
    this.loop = this.watch();
    return this.current;
  }

  get pid(): number | undefined {
    return this.current?.pid;
  }

  state(): SupervisedState {
    return {
      name: this.name,
      pid: this.current?.pid,
      running: !!this.current && this.running(this.current.pid),
      restarts: this.restarts,
      log: this.current?.log,
    };
  }

  private async watch(): Promise<void> {
    let backoff = 1000;
    while (!this.stopping && this.current) {
      const code = await this.current.exited;
      if (this.stopping) return;
      if (this.clock.now() - this.startedAt > STABLE_MS) backoff = 1000;
      this.restarts++;
      this.log(
        `supervisor: ${this.name} exited (${code}); restart ${this.restarts} in ${backoff / 1000} s (log: ${this.current.log})`,
      );
      await this.clock.sleep(backoff);
      backoff = Math.min(MAX_BACKOFF_MS, backoff * 2);
      if (this.stopping) return;
      try {
        this.startedAt = this.clock.now();
        this.current = await this.start();
        this.log(`supervisor: ${this.name} restarted (pid ${this.current.pid})`);
        await this.onRestart(this.current);
      } catch (e) {
        if (e instanceof StoppingError) return;
        this.log(`supervisor: ${this.name} did not start: ${(e as Error).message}`);
        this.current = { ...this.current, exited: Promise.resolve("did not start") };
      }
    }
  }

  /** Stops supervising, then stops the process with `stop` (given its pid). */
  async end(stop: (pid: number) => Promise<void>): Promise<void> {
    this.stopping = true;
    if (this.current && this.running(this.current.pid)) await stop(this.current.pid);
    await Promise.race([this.loop, this.clock.sleep(1000)]);
  }
}
