// The local Apache Kafka broker (KRaft, one combined broker+controller on 127.0.0.1) for the tests and
// the sandbox: a module (startBroker / stopBroker / brokerStatus) and a CLI for the other languages.
// Jars come from scripts/setup.d/30-kafka.sh; all of a broker's state lives in its state folder.
import { ChildProcess, spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { optionsHelp, OptionTable, parseCommandLine, USAGE_EXIT, UsageError } from "../../commandLine/commandLine";
import { freePort, LOOPBACK, portIsFree } from "../shared/ports";
import { answers } from "./kafkaAdmin";
import {
  assertJava,
  BrokerError,
  BrokerState,
  files,
  formatStorage,
  kafkaClassArchiveOptions,
  kafkaClasspath,
  LOG4J,
  newClusterId,
  readState,
  serverProperties,
  tailOf,
  writeState,
} from "./kafkaFiles";
import { sleep } from "../shared/sleep";

const HOST = LOOPBACK;
const START_TIMEOUT_MS = 90_000;
const STOP_TIMEOUT_MS = 60_000;

export interface BrokerOptions {
  /** Folder holding the broker's data, config, log and pid; reusing it keeps the data and the port. */
  stateDir: string;
  /** Client port; given, it is kept from then on (a stopped broker moves to it); else the kept one. */
  port?: number;
  /** The first start's client port when no port is given and it is free (else a free one is chosen); then kept. */
  preferredPort?: number;
  /** Leave the broker running when this process exits (the CLI); otherwise a broker this call started is stopped with us. */
  detached?: boolean;
  /** called in the tick the broker's JVM is spawned, before it can do anything (the sandbox records it) */
  onSpawn?: (child: ChildProcess) => void;
  /** the JVMs' environment, the broker's and its storage format's (this process's by default) */
  env?: NodeJS.ProcessEnv;
}

export interface RunningBroker {
  bootstrapServers: string;
  pid: number;
  log: string;
  stop(): Promise<void>;
}

export interface BrokerStatus {
  running: boolean;
  bootstrapServers?: string;
  pid?: number;
  log: string;
}

/** True when pid is alive and is this state folder's broker (not a recycled pid). */
function isOurBroker(pid: number | undefined, stateDir: string): boolean {
  if (!pid) return false;
  try {
    const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8");
    return !exited(pid) && cmdline.includes("kafka.Kafka") && cmdline.includes(files(stateDir).config);
  } catch {
    return false;
  }
}

/** True once pid has exited; a zombie (exited, not yet reaped by a busy parent) counts as exited. */
export function exited(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    return /^\d+ \(.*\) [ZX] /s.test(stat);
  } catch {
    return true;
  }
}

function running(stateDir: string, state: BrokerState, stopWithThisProcess: boolean): RunningBroker {
  const pid = state.pid as number;
  if (stopWithThisProcess) {
    // A test that dies must not leave a broker behind: SIGTERM still lets it shut down cleanly.
    process.once("exit", () => {
      if (isOurBroker(pid, stateDir)) process.kill(pid, "SIGTERM");
    });
  }
  return {
    bootstrapServers: `${HOST}:${state.port}`,
    pid,
    log: files(stateDir).log,
    stop: () => stopBroker(stateDir),
  };
}

/** Starts the state folder's broker (or returns it if it already runs) once it answers on its port. */
export async function startBroker(options: BrokerOptions): Promise<RunningBroker> {
  const stateDir = path.resolve(options.stateDir);
  const f = files(stateDir);
  fs.mkdirSync(stateDir, { recursive: true });
  let state = readState(stateDir);
  if (state && options.port !== undefined && options.port !== state.port) {
    if (state.pid && isOurBroker(state.pid, stateDir)) {
      throw new BrokerError(
        `${stateDir} belongs to a broker running on port ${state.port}; stop it first to move it to port ${options.port}`,
      );
    }
    state = { ...state, port: options.port };
  }
  if (state && isOurBroker(state.pid, stateDir)) {
    // someone else's broker (e.g. started by the CLI): reuse it, and leave its lifetime to them
    if (await answers(`${HOST}:${state.port}`)) return running(stateDir, state, false);
    throw new BrokerError(
      `a broker (pid ${state.pid}) already runs from ${stateDir} but does not answer; stop it first (log: ${f.log})`,
    );
  }

  assertJava();
  const classpath = kafkaClasspath();
  state ??= {
    clusterId: newClusterId(),
    port:
      options.port ??
      (options.preferredPort !== undefined && (await portIsFree(options.preferredPort))
        ? options.preferredPort
        : await freePort()),
    controllerPort: await freePort(),
  };
  for (const [what, port] of [
    ["client", state.port],
    ["controller", state.controllerPort],
  ] as const) {
    if (!(await portIsFree(port))) {
      throw new BrokerError(`the broker's ${what} port ${HOST}:${port} is taken by another process`);
    }
  }
  fs.writeFileSync(f.config, serverProperties(state, f.data));
  fs.writeFileSync(f.log4j, LOG4J);
  formatStorage(stateDir, state, classpath, options.env);

  const log = fs.openSync(f.log, "a");
  const child = spawn(
    "java",
    [
      "-Xms128m",
      "-Xmx512m",
      "-XX:+UseG1GC",
      "-XX:MaxGCPauseMillis=20",
      "-XX:+ExitOnOutOfMemoryError",
      "-Djava.awt.headless=true",
      ...kafkaClassArchiveOptions(),
      `-Dlog4j.configuration=file:${f.log4j}`,
      "-cp",
      classpath,
      "kafka.Kafka",
      f.config,
    ],
    { detached: true, stdio: ["ignore", log, log], env: options.env },
  );
  options.onSpawn?.(child);
  fs.closeSync(log);
  child.unref();
  if (child.pid === undefined) throw new BrokerError("could not start java for the Kafka broker");
  state = { ...state, pid: child.pid };
  writeState(stateDir, state);

  const bootstrapServers = `${HOST}:${state.port}`;
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (!(await answers(bootstrapServers))) {
    if (exited(child.pid)) {
      throw new BrokerError(`the Kafka broker exited during startup; see ${f.log}:\n${tailOf(f.log)}`);
    }
    if (Date.now() > deadline) {
      process.kill(child.pid, "SIGKILL");
      throw new BrokerError(
        `the Kafka broker did not answer on ${bootstrapServers} within ${START_TIMEOUT_MS / 1000} s; see ${f.log}`,
      );
    }
    await sleep(250);
  }
  return running(stateDir, state, !options.detached);
}

/** Stops the state folder's broker cleanly (SIGTERM) and waits until it has exited; a no-op if none runs. */
export async function stopBroker(stateDirInput: string): Promise<void> {
  const stateDir = path.resolve(stateDirInput);
  const state = readState(stateDir);
  if (!state?.pid || !isOurBroker(state.pid, stateDir)) return;
  const pid = state.pid;
  process.kill(pid, "SIGTERM");
  const deadline = Date.now() + STOP_TIMEOUT_MS;
  while (!exited(pid)) {
    if (Date.now() > deadline) {
      process.kill(pid, "SIGKILL");
      await sleep(500);
      break;
    }
    await sleep(100);
  }
  writeState(stateDir, { ...state, pid: undefined });
}

export async function brokerStatus(stateDirInput: string): Promise<BrokerStatus> {
  const stateDir = path.resolve(stateDirInput);
  const state = readState(stateDir);
  const log = files(stateDir).log;
  if (!state?.pid || !isOurBroker(state.pid, stateDir)) return { running: false, log };
  const bootstrapServers = `${HOST}:${state.port}`;
  return { running: await answers(bootstrapServers), bootstrapServers, pid: state.pid, log };
}

const BROKER_OPTIONS: OptionTable = {
  "state-dir": {
    value: "DIR",
    help: "the broker's folder: its configuration, KRaft storage, log and state (required)",
  },
  port: { value: "N", commands: ["start"], help: "the port on 127.0.0.1 (default: a free one)" },
};

const USAGE = `usage: kafkaBroker.ts <command> --state-dir DIR [--port N]

  start   format the KRaft storage if needed, start the broker on 127.0.0.1, wait until it answers,
          print {"bootstrapServers","pid","log"} as one JSON line and leave it running
  stop    stop the broker cleanly and wait until it has exited
  status  print {"running","bootstrapServers","pid","log"}; exit 0 if it runs, 3 if not

options:
${optionsHelp(BROKER_OPTIONS)}

Exit status: 0 done (status: it runs); 1 failed; 2 bad usage; 3 not running.`;

function parseCli(argv: string[]): { command: string; stateDir: string; port?: number } | "help" {
  const cl = parseCommandLine({ options: BROKER_OPTIONS, commands: ["start", "stop", "status"] }, argv);
  if (cl.help) return "help";
  const stateDir = cl.values["state-dir"] as string | undefined;
  if (!stateDir) throw new UsageError("--state-dir is required (see --help)");
  const text = cl.values.port as string | undefined;
  const port = text === undefined ? undefined : Number(text);
  if (port !== undefined && (!/^\d+$/.test(text as string) || port < 1 || port > 65535))
    throw new UsageError(`--port must be a whole number from 1 to 65535, got '${text}'`);
  return { command: cl.command as string, stateDir, port };
}

async function main(argv: string[]): Promise<number> {
  let cli: ReturnType<typeof parseCli>;
  try {
    cli = parseCli(argv);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    console.error(`error: ${e.message}`);
    return USAGE_EXIT;
  }
  if (cli === "help") {
    console.log(USAGE);
    return 0;
  }
  const { command, stateDir, port } = cli;
  if (command === "start") {
    const broker = await startBroker({ stateDir, port, detached: true });
    console.log(JSON.stringify({ bootstrapServers: broker.bootstrapServers, pid: broker.pid, log: broker.log }));
    return 0;
  }
  if (command === "stop") {
    await stopBroker(stateDir);
    return 0;
  }
  const status = await brokerStatus(stateDir);
  console.log(JSON.stringify(status));
  return status.running ? 0 : 3;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error(`error: ${error instanceof Error ? error.message : String(error)}`);
      process.exit(1);
    },
  );
}
