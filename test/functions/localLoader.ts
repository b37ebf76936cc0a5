// Test harness: the local BigQuery server, the warehouse declared on it, and the loader's deployable
// archive served by the Functions Framework in its own process, as the sandbox and the cloud run it.
// (The official client runs in the child processes: inside jest's VM its dynamic import of node-fetch
// cannot run, so the test itself speaks BigQuery's REST API with fetch.)
import { ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LocalBigQuery, startLocalBigQuery } from "../../functions/loader/local/localBigQuery";
import { freePort } from "../../sandbox/shared/ports";

const REPO = join(__dirname, "..", "..");
const TSX = join(REPO, "node_modules", ".bin", "tsx");

export interface LoaderUnderTest {
  bigquery: LocalBigQuery;
  functionUrl: string;
  project: string;
  dataset: string;
  location: string;
  bucket: string;
  /** the function's process */
  pid: number;
  /** everything the function process printed so far (its structured log lines) */
  functionOutput(): string;
  stop(): Promise<void>;
}

export async function startLoaderUnderTest(): Promise<LoaderUnderTest> {
  const work = mkdtempSync(join(tmpdir(), "loader-it-"));
  const project = "clickstream-local";
  const dataset = "clickstream";
  const location = "US";
  const bucket = "curated-bucket";
  const env = { ...process.env, METADATA_SERVER_DETECTION: "none" };
  const bigquery = await startLocalBigQuery({ gcsRoot: join(work, "gcs"), project });
  let fn: ChildProcess | undefined;
  let output = "";
  try {
    const archive = join(work, "loader-archive");
    execFileSync(TSX, [join(REPO, "functions", "loader", "build.ts"), archive], {
      cwd: REPO,
      env,
      stdio: "pipe",
      timeout: 60000,
    });
    execFileSync(
      TSX,
      [
        join(REPO, "functions", "loader", "local", "cli.ts"),
        "warehouse",
        "--endpoint",
        bigquery.endpoint,
        "--project",
        project,
        "--dataset",
        dataset,
        "--location",
        location,
      ],
      { cwd: REPO, env, stdio: "pipe", timeout: 60000 },
    );
    const port = await freePort();
    fn = spawn(
      TSX,
      [join(REPO, "functions", "loader", "local", "serve.ts"), "--source", archive, "--port", String(port)],
      {
        cwd: archive,
        env: {
          ...env,
          // The archive's one dependency, installed by the platform in the cloud, comes from the repository here.
          NODE_PATH: join(REPO, "node_modules"),
          WAREHOUSE_PROJECT: project,
          WAREHOUSE_DATASET: dataset,
          WAREHOUSE_LOCATION: location,
          HOURLY_TABLE: "hourly_activity",
          LOAD_LOG_TABLE: "hourly_activity_loads",
          CURATED_BUCKET: bucket,
          BIGQUERY_API_ENDPOINT: bigquery.endpoint,
          LOCAL_GCS_ROOT: bigquery.gcsRoot,
          LOAD_WAIT_SECONDS: "20",
        },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    fn.stdout?.on("data", (c: Buffer) => (output += c.toString()));
    fn.stderr?.on("data", (c: Buffer) => (output += c.toString()));
    await waitUntil(
      () => /Serving function/.test(output),
      20000,
      () => `the function did not start:\n${output}`,
    );
    const child = fn;
    return {
      bigquery,
      functionUrl: `http://127.0.0.1:${port}/`,
      project,
      dataset,
      location,
      bucket,
      functionOutput: () => output,
      pid: fn.pid as number,
      async stop() {
        if (child.exitCode === null) {
          const exited = new Promise((resolve) => child.once("exit", resolve));
          child.kill("SIGTERM");
          await exited;
        }
        await bigquery.stop();
        rmSync(work, { recursive: true, force: true });
      },
    };
  } catch (err) {
    fn?.kill("SIGKILL");
    await bigquery.stop();
    throw err;
  }
}

async function waitUntil(ready: () => boolean, timeoutMs: number, why: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ready()) {
    if (Date.now() > deadline) throw new Error(why());
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** jobs.query over REST; values as BigQuery's REST API returns them (strings), keyed by column. */
export async function queryRows(loader: LoaderUnderTest, sql: string): Promise<Record<string, string>[]> {
  const response = await fetch(`${loader.bigquery.endpoint}/bigquery/v2/projects/${loader.project}/queries`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ query: sql, useLegacySql: false, location: loader.location }),
    signal: AbortSignal.timeout(30000),
  });
  const body = (await response.json()) as {
    error?: { message: string };
    schema?: { fields: { name: string }[] };
    rows?: { f: { v: string }[] }[];
  };
  if (!response.ok || body.error)
    throw new Error(`query failed (${response.status}): ${body.error?.message ?? ""}\n${sql}`);
  const names = body.schema?.fields.map((f) => f.name) ?? [];
  return (body.rows ?? []).map((r) => Object.fromEntries(r.f.map((c, i) => [names[i], c.v])));
}
