// The sandbox's one shutdown path, on a stand-in for the process it runs in (its signals and output are
// events the test emits) and real processes: whatever asks, at whatever moment, everything recorded stops.
import { EventEmitter } from "node:events";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isAlive, startService } from "../../sandbox/processes/processes";
import { ProcessRegistry, StoppingError } from "../../sandbox/processes/processRegistry";
import { ProcessHandle, Shutdown } from "../../sandbox/processes/shutdown";

const work = mkdtempSync(join(tmpdir(), "sandbox-shutdown-"));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

class StandIn extends EventEmitter implements ProcessHandle {
  readonly pid = 2 ** 22 + 1; // no process: the shutdown must not stop the process it runs in
  readonly stdout = new EventEmitter();
  readonly stderr = new EventEmitter();
  exitCode?: number;
  exit(code: number): void {
    this.exitCode = code;
  }
}

function setUp(name: string) {
  const proc = new StandIn();
  const registry = new ProcessRegistry(join(work, name, "processes"));
  const lines: string[] = [];
  const shutdown = new Shutdown(proc, registry, (l) => lines.push(l)).install();
  // SIGTERM ignored: only the group's SIGKILL ends it, as a JVM stuck in its shutdown hooks.
  const start = (what: string, ignoreTerm = false) =>
    startService(
      {
        name: what,
        command: "sh",
        args: ["-c", `${ignoreTerm ? "trap '' TERM; " : ""}sleep 60 & wait`],
        log: join(work, `${name}.log`),
      },
      registry,
    ).pid;
  return { proc, registry, lines, shutdown, start };
}

test("a signal while services still start stops those started, and no later one starts", async () => {
  const { proc, lines, shutdown, start } = setUp("starting");
  const broker = start("kafka");
  const stream = start("stream");
  proc.emit("SIGHUP");
  expect(() => start("loader")).toThrow(StoppingError);
  expect(await shutdown.done).toBe(129);
  expect(proc.exitCode).toBe(129);
  expect([isAlive(broker), isAlive(stream)]).toEqual([false, false]);
  expect(lines[0]).toMatch(/^interrupted \(SIGHUP\): stopping every process the sandbox started/);
  expect(lines).toContain(`stopped by process group: kafka (pid ${broker}), stream (pid ${stream})`);
});

test("the pipeline's ordered stop runs first, then what it did not stop is stopped by its group", async () => {
  const { proc, shutdown, start } = setUp("ordered");
  const order: string[] = [];
  const leftover = start("build-loader");
  shutdown.stopFirst(async () => {
    order.push(isAlive(leftover) ? "ordered stop, build still running" : "build already stopped");
  });
  proc.emit("SIGTERM");
  expect(await shutdown.done).toBe(143);
  expect(order).toEqual(["ordered stop, build still running"]);
  expect(isAlive(leftover)).toBe(false);
});

test("a closed pipe (EPIPE on stdout or stderr) stops everything like a signal", async () => {
  const { proc, shutdown, start } = setUp("pipe");
  const pid = start("bigquery");
  proc.stderr.emit("error", Object.assign(new Error("write EPIPE"), { code: "EPIPE" }));
  proc.stdout.emit("error", Object.assign(new Error("write EPIPE"), { code: "EPIPE" }));
  expect(await shutdown.done).toBe(141);
  expect(isAlive(pid)).toBe(false);
});

test("a second Ctrl-C kills everything at once and says so; one within a second is the same Ctrl-C relayed", async () => {
  const { proc, lines, shutdown, start } = setUp("twice");
  const stubborn = start("stream", true);
  shutdown.stopFirst(() => new Promise(() => undefined)); // an ordered stop that takes its time
  proc.emit("SIGINT");
  proc.emit("SIGINT"); // relayed by npm to the same process group
  await sleep(1100);
  expect(lines.some((l) => /again/.test(l) && !/Ctrl-C again/.test(l))).toBe(false);
  expect(isAlive(stubborn)).toBe(true);
  const pressed = Date.now();
  proc.emit("SIGINT");
  expect(await shutdown.done).toBe(130);
  expect(Date.now() - pressed).toBeLessThan(3000);
  expect(isAlive(stubborn)).toBe(false);
  expect(lines).toContain("interrupted again: killing every process the sandbox started at once (SIGKILL)");
  expect(lines).toContain(`killed: stream (pid ${stubborn})`);
});
