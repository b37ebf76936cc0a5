// The local BigQuery-API server (bqemulator, installed by scripts/setup.d/50-bigquery-emulator.sh) for
// the tests and the sandbox: started on a free 127.0.0.1 port, gs:// URIs read from a local folder.
import { ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { downloadCache } from "../../../scripts/downloadCache";

export interface LocalBigQuery {
  /** for the client's apiEndpoint and the loader's BIGQUERY_API_ENDPOINT */
  endpoint: string;
  /** gs://BUCKET/NAME is read from join(gcsRoot, BUCKET, NAME) */
  gcsRoot: string;
  pid: number;
  stop(): Promise<void>;
}

export interface LocalBigQueryOptions {
  /** folder that stands for Cloud Storage: one subfolder per bucket */
  gcsRoot: string;
  /** the default project of requests that name none */
  project: string;
  startTimeoutMs?: number;
}

export function emulatorPaths(cache = downloadCache()) {
  const root = join(cache, "bqemulator");
  return { bin: join(root, "venv", "bin", "bqemulator"), duckdbHome: join(root, "home") };
}

/**
 * The emulator's command line: 127.0.0.1 ports (free ones unless `restPort` is given), an in-memory store
 * (or one kept in `dataDir`, which outlives a restart), JSON logs (its port is read from them).
 */
export function emulatorCommand(
  options: Pick<LocalBigQueryOptions, "gcsRoot" | "project"> & { restPort?: number; dataDir?: string },
) {
  const { bin, duckdbHome } = emulatorPaths();
  const store = options.dataDir ? ["--persistent", "--data-dir", options.dataDir] : ["--ephemeral"];
  return {
    command: bin,
    args: [
      "start",
      "--rest-host",
      "127.0.0.1",
      "--rest-port",
      String(options.restPort ?? 0),
      "--grpc-host",
      "127.0.0.1",
      "--grpc-port",
      "0",
      "--project",
      options.project,
      ...store,
      "--log-format",
      "json",
      "--log-level",
      "info",
    ],
    // HOME: DuckDB finds the extensions the setup step installed from PyPI there (no download at start).
    env: { ...process.env, HOME: duckdbHome, BQEMU_GCS_LOCAL_ROOT: options.gcsRoot },
  };
}

/** The REST port from the emulator's log line {"host": "127.0.0.1", "port": N, "event": "rest.listen", ...}. */
export function restPortIn(output: string): number | undefined {
  const m = /"port": (\d+), "event": "rest\.listen"/.exec(output);
  return m ? Number(m[1]) : undefined;
}

export async function startLocalBigQuery(options: LocalBigQueryOptions): Promise<LocalBigQuery> {
  const { command, args, env } = emulatorCommand(options);
  if (!existsSync(command)) {
    throw new Error(
      `the local BigQuery server is not installed at ${command}: run 'npm run setup' (scripts/setup.d/50-bigquery-emulator.sh)`,
    );
  }
  mkdirSync(options.gcsRoot, { recursive: true });
  const child = spawn(command, args, { env, stdio: ["ignore", "pipe", "pipe"], detached: true });
  const port = await restPort(child, options.startTimeoutMs ?? 30000);
  const stop = () => stopProcess(child);
  process.once("exit", () => {
    if (child.exitCode === null) child.kill("SIGKILL");
  });
  return { endpoint: `http://127.0.0.1:${port}`, gcsRoot: options.gcsRoot, pid: child.pid ?? -1, stop };
}

function restPort(child: ChildProcess, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    let output = "";
    const timer = setTimeout(() => fail(`did not listen within ${timeoutMs} ms`), timeoutMs);
    const fail = (why: string) => {
      clearTimeout(timer);
      child.kill("SIGKILL");
      reject(new Error(`the local BigQuery server ${why}; its output:\n${output.slice(-3000)}`));
    };
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const port = restPortIn(output);
      if (port !== undefined) {
        clearTimeout(timer);
        child.stdout?.off("data", onData);
        child.stderr?.off("data", onData);
        // Keep draining so a chatty server never blocks on a full pipe.
        child.stdout?.resume();
        child.stderr?.resume();
        resolve(port);
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.once("exit", (code, signal) => fail(`exited during start-up (code ${code}, signal ${signal})`));
    child.once("error", (err) => fail(`could not be started: ${err.message}`));
  });
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
  await exited;
  clearTimeout(timer);
}
