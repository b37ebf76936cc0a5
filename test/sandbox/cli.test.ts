// The sandbox's command line when things are wrong: bad flags, and a stage that cannot start (no Java)
// answered with what failed, what to do, and the stage's log; nothing left running.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const REPO = resolve(__dirname, "..", "..");
const tsx = join(REPO, "node_modules", ".bin", "tsx");
const cli = join(REPO, "sandbox", "commands", "cli.ts");

function sandbox(args: string[], env: NodeJS.ProcessEnv = process.env) {
  const r = spawnSync(tsx, [cli, ...args], { cwd: REPO, env, encoding: "utf8", timeout: 60_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

test("a bad flag is named with what it accepts, exit 2", () => {
  const r = sandbox(["run", "--hours", "0"]);
  expect(r.code).toBe(2);
  expect(r.err).toMatch(/--hours must be a whole number from 1 to 48, got '0'/);
});

test("--help lists the subcommands, the faults and the live mode's flags", () => {
  const r = sandbox(["--help"]);
  expect(r.code).toBe(0);
  for (const word of [
    "run",
    "up",
    "status",
    "report",
    "down",
    "purge",
    "broker-restart",
    "--state-dir",
    "--clock",
    "--no-traffic",
    "--watch",
  ])
    expect(r.out).toContain(word);
});

test("a rerun needs a UTC hour, and a running sandbox", () => {
  expect(sandbox(["rerun", "--hour", "2026-11-26 10"]).err).toMatch(
    /--hour must be a UTC hour like 2026-03-01T10 or 2026-03-01T10:00:00Z, got '2026-11-26 10'/,
  );
  const r = sandbox([
    "rerun",
    "--hour",
    "2026-11-26T10:00:00Z",
    "--state-dir",
    mkdtempSync(join(tmpdir(), "sandbox-rerun-")),
  ]);
  expect(r.code).toBe(3);
  expect(r.err).toMatch(/no services running/);
});

test("a flag of another command is refused in one sentence, exit 2", () => {
  const r = sandbox(["run", "--clock", "60x"]);
  expect(r.code).toBe(2);
  expect(r.err).toBe("error: --clock is an option of up, not of run (see --help)\n");
});

test("a hint names the --state-dir the user gave, quoted for the shell", () => {
  const stateDir = join(mkdtempSync(join(tmpdir(), "sandbox-hint-")), "my logs");
  const r = sandbox(["status", "--state-dir", stateDir]);
  expect(r.err).toContain(`(start them with 'npm start -- up --state-dir "${stateDir}"')`);
});

test("a bad --clock is named with what it accepts, exit 2", () => {
  const r = sandbox(["up", "--clock", "fast"]);
  expect(r.code).toBe(2);
  expect(r.err).toMatch(/--clock must be 'real' or a speed-up from 1x to 3600x like 60x, got 'fast'/);
});

test("without Java the run stops at the Kafka stage and says what to do, with the log's path", () => {
  // A PATH with node but no java.
  const bin = mkdtempSync(join(tmpdir(), "no-java-"));
  symlinkSync(process.execPath, join(bin, "node"));
  const stateDir = mkdtempSync(join(tmpdir(), "sandbox-nojava-"));
  const r = sandbox(["run", "--no-setup", "--state-dir", stateDir], { ...process.env, PATH: bin });
  expect(r.code).toBe(1);
  expect(r.err).toMatch(/error: the Kafka broker did not start: java not found on PATH/);
  expect(r.err).toMatch(/what to do: .*Java 17/);
  expect(r.err).toContain(`log: ${join(stateDir, "kafka", "broker.log")}`);
  expect(r.err).toMatch(/stage times:/);
  // a pipe is not a terminal: plain text, no bold escapes
  expect(r.err).toContain("==> ");
  expect(r.err).not.toContain("\u001b[");
});

test("status and report with nothing running say how to start, exit 3", () => {
  for (const command of ["status", "report"]) {
    const r = sandbox([command, "--state-dir", mkdtempSync(join(tmpdir(), "sandbox-status-"))]);
    expect(r.code).toBe(3);
    expect(r.err).toMatch(/no services running .* 'npm start -- up --state-dir /);
  }
});

test("a --state-dir that holds other files is neither used nor purged", () => {
  const dir = mkdtempSync(join(tmpdir(), "not-a-sandbox-"));
  writeFileSync(join(dir, "thesis.tex"), "keep me");
  const run = sandbox(["run", "--no-setup", "--state-dir", dir]);
  expect(run.code).toBe(1);
  expect(run.err).toMatch(/is not empty and is not a sandbox state folder/);
  const purge = sandbox(["purge", "--state-dir", dir]);
  expect(purge.code).toBe(1);
  expect(readFileSync(join(dir, "thesis.tex"), "utf8")).toBe("keep me");
});
