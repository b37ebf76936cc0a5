// The one way the sandbox stops when asked to, from any moment (services still starting included): Ctrl-C
// (SIGINT), SIGTERM (`down`), a closed terminal (SIGHUP) or a closed pipe (EPIPE on stdout or stderr, as
// `npm start | head` does). New starts are refused, the pipeline's ordered stop runs if there is one, and
// then whatever the state folder recorded still runs is stopped by its process group. A second Ctrl-C
// kills everything at once. The process object is a parameter, so a test can hand it a stand-in.
import { describeRecords, ProcessRegistry } from "./processRegistry";

export type StopCause = "SIGINT" | "SIGTERM" | "SIGHUP" | "a closed pipe";

const SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;
/** A signal within this of the first is the same Ctrl-C relayed (npm passes it on to the process group too). */
const SAME_REQUEST_MS = 1000;

interface Output {
  on(event: "error", listener: (e: Error) => void): unknown;
  removeListener(event: "error", listener: (e: Error) => void): unknown;
}

/** What the shutdown needs of the process it runs in: node's `process`, or a test's stand-in. */
export interface ProcessHandle {
  readonly pid: number;
  on(event: (typeof SIGNALS)[number], listener: () => void): unknown;
  removeListener(event: (typeof SIGNALS)[number], listener: () => void): unknown;
  readonly stdout: Output;
  readonly stderr: Output;
  exit(code: number): void;
}

export interface ShutdownOptions {
  /** the exit code for each cause (128 + the signal's number by default, 141 for a closed pipe) */
  exitCode?: (cause: StopCause) => number;
  /** what the first line says is happening */
  stopping?: string;
  /** called once everything is stopped, before the process exits */
  stopped?: () => void;
}

const DEFAULT_EXIT: Record<StopCause, number> = { SIGHUP: 129, SIGINT: 130, SIGTERM: 143, "a closed pipe": 141 };

/** Writes a line to a stream unless it is closed (a closed pipe is reported once, by its error event). */
export function lineWriter(stream: NodeJS.WritableStream & { destroyed?: boolean }): (line: string) => void {
  return (line) => {
    if (stream.destroyed) return;
    try {
      stream.write(`${line}\n`);
    } catch {
      // the reader is gone: the shutdown hears of it through the stream's error event
    }
  };
}

export class Shutdown {
  private first?: { atMs: number; cause: StopCause };
  private atOnce = false;
  private orderedStop?: () => Promise<void>;
  private readonly onSignal = new Map<string, () => void>();
  private readonly onOutputError = () => this.request("a closed pipe");
  private finish!: (code: number) => void;
  /** resolves with the exit code once everything is stopped (just before the process exits) */
  readonly done = new Promise<number>((r) => (this.finish = r));

  constructor(
    private readonly proc: ProcessHandle,
    /** what the sandbox started; closed (no new start) as soon as a shutdown begins */
    readonly registry: ProcessRegistry,
    private readonly say: (line: string) => void,
    private readonly options: ShutdownOptions = {},
  ) {}

  /** Listens from now on: call it before anything is started. */
  install(): this {
    for (const sig of SIGNALS) {
      const listener = () => this.request(sig);
      this.onSignal.set(sig, listener);
      this.proc.on(sig, listener);
    }
    this.proc.stdout.on("error", this.onOutputError);
    this.proc.stderr.on("error", this.onOutputError);
    return this;
  }

  /** Stops listening (the run ended by itself). */
  uninstall(): void {
    for (const [sig, listener] of this.onSignal) this.proc.removeListener(sig as (typeof SIGNALS)[number], listener);
    this.onSignal.clear();
    this.proc.stdout.removeListener("error", this.onOutputError);
    this.proc.stderr.removeListener("error", this.onOutputError);
  }

  /** The pipeline's ordered stop (generator first, broker last), run before the sweep of the records. */
  stopFirst(stop: () => Promise<void>): void {
    this.orderedStop = stop;
  }

  get requested(): boolean {
    return this.first !== undefined;
  }

  /**
   * A promise of the outcome unless a shutdown is under way: then it never settles, since the shutdown
   * ends the process once everything is stopped (a run that fails because it is being stopped says nothing).
   */
  unlessStopping<T>(outcome: Promise<T>): Promise<T> {
    const never = new Promise<T>(() => undefined);
    return outcome.then(
      (v) => (this.requested ? never : v),
      (e: unknown) => (this.requested ? never : Promise.reject(e)),
    );
  }

  request(cause: StopCause): void {
    if (!this.first) {
      this.first = { atMs: Date.now(), cause };
      void this.stopInOrder(cause);
      return;
    }
    if (cause === "a closed pipe" || this.atOnce || Date.now() - this.first.atMs < SAME_REQUEST_MS) return;
    this.atOnce = true;
    void this.stopAtOnce(cause);
  }

  private exitCode(cause: StopCause): number {
    return this.options.exitCode?.(cause) ?? DEFAULT_EXIT[cause];
  }

  private async stopInOrder(cause: StopCause): Promise<void> {
    this.registry.close();
    this.say(
      `interrupted (${cause}): ${this.options.stopping ?? "stopping every process the sandbox started"} (Ctrl-C again to kill them at once)`,
    );
    try {
      await this.orderedStop?.();
    } catch (e) {
      this.say(`the ordered stop failed (${(e as Error).message}): stopping what is left by its process group`);
    }
    const left = await this.registry.stopAll({ except: [this.proc.pid] });
    if (this.atOnce) return;
    if (left.length > 0) this.say(`stopped by process group: ${describeRecords(left)}`);
    this.end(cause);
  }

  private async stopAtOnce(cause: StopCause): Promise<void> {
    this.say("interrupted again: killing every process the sandbox started at once (SIGKILL)");
    const killed = await this.registry.stopAll({ except: [this.proc.pid], atOnce: true });
    this.say(killed.length > 0 ? `killed: ${describeRecords(killed)}` : "nothing was left running");
    this.end(cause);
  }

  private end(cause: StopCause): void {
    this.registry.forget(this.proc.pid);
    this.options.stopped?.();
    this.say("stopped: nothing of this sandbox is running");
    const code = this.exitCode(cause);
    this.finish(code);
    this.proc.exit(code);
  }
}
