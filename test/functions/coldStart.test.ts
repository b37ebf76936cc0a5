// The loader's deployable archive started by the Functions Framework, as the platform starts an
// instance: its configuration is read at cold start, so a bad setting stops the instance before it
// serves any event, with the one sentence that names the setting.
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "../../sandbox/shared/ports";
import { VALID_LOADER_ENV } from "./loaderEnvironment";

const REPO = join(__dirname, "..", "..");
const work = mkdtempSync(join(tmpdir(), "loader-cold-start-"));
const archive = join(work, "loader-archive");

const goodConfig = VALID_LOADER_ENV;

interface ColdStart {
  /** null while the instance still runs when we stop looking */
  exitCode: number | null;
  output: string;
}

/** Starts an instance with `config` as its environment; stops it once it serves, or lets it exit. */
async function coldStart(config: Record<string, string>): Promise<ColdStart> {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [
      join(REPO, "node_modules", "@google-cloud", "functions-framework", "build", "src", "main.js"),
      "--target=loadHourlyActivity",
      "--signature-type=cloudevent",
      `--source=${archive}`,
      `--port=${port}`,
    ],
    // Only PATH and the archive's dependency from the environment: the configuration is exactly `config`.
    {
      cwd: archive,
      env: {
        PATH: process.env.PATH,
        NODE_PATH: join(REPO, "node_modules"),
        METADATA_SERVER_DETECTION: "none",
        ...config,
      },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let output = "";
  let serving = false;
  return new Promise<ColdStart>((resolve) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (!serving && /Serving function/.test(output)) {
        serving = true;
        child.kill("SIGTERM");
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.on("exit", (code) => resolve({ exitCode: serving ? null : code, output }));
  });
}

beforeAll(() => {
  execFileSync(join(REPO, "node_modules", ".bin", "tsx"), [join(REPO, "functions", "loader", "build.ts"), archive], {
    cwd: REPO,
    stdio: "pipe",
    timeout: 60000,
  });
}, 90000);

afterAll(() => rmSync(work, { recursive: true, force: true }));

test("with its configuration complete, an instance starts and serves", async () => {
  const started = await coldStart(goodConfig);
  expect(started.exitCode).toBeNull();
  expect(started.output).not.toMatch(/Loader configuration/);
});

test("without a required setting, the instance stops at cold start, naming the setting, and serves nothing", async () => {
  const started = await coldStart(
    Object.fromEntries(Object.entries(goodConfig).filter(([name]) => name !== "CURATED_BUCKET")),
  );
  expect(started.exitCode).toBe(1);
  expect(started.output).toContain(
    "Loader configuration: environment variable CURATED_BUCKET is not set; it must be the curated bucket's name.",
  );
  expect(started.output).not.toMatch(/Serving function/);
});

test("with an invalid setting, the instance stops at cold start, naming the setting and the value", async () => {
  const started = await coldStart({ ...goodConfig, LOAD_WAIT_SECONDS: "forever" });
  expect(started.exitCode).toBe(1);
  expect(started.output).toContain(
    'Loader configuration: LOAD_WAIT_SECONDS="forever" is invalid; it must be a whole number of seconds from 1 to 3600.',
  );
  expect(started.output).not.toMatch(/Serving function/);
});
