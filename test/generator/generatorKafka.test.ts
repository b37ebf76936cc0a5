// The generator against the real local Kafka broker (one broker for the whole file).
import { ChildProcess, spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Kafka, logLevel } from "kafkajs";
import type { RunSummary } from "../../generator/groundTruth";
import { RunningBroker, startBroker, stopBroker } from "../../sandbox/processes/kafkaBroker";
import { freePort } from "../../sandbox/shared/ports";
import { readTopic } from "./readBack";

const ROOT = path.resolve(__dirname, "../..");
// tsx as a loader inside the generator's own process: a signal then reaches the generator itself, not
// tsx's relay, which SIGKILLs a child that does not answer within 30 ms (a busy machine misses that).
const TSX_LOADER = ["--import", "tsx"];
const work = fs.mkdtempSync(path.join(os.tmpdir(), "generator-test-"));
const stateDir = path.join(work, "broker");
let broker: RunningBroker;

interface Finished {
  code: number | null;
  stderr: string;
  summary: RunSummary | null;
}

function generator(args: string[]): { child: ChildProcess; finished: Promise<Finished> } {
  const summaryFile = path.join(work, `summary-${Date.now()}-${Math.random()}.json`);
  const child = spawn(
    process.execPath,
    [...TSX_LOADER, path.join(ROOT, "generator", "main.ts"), ...args, "--summary", summaryFile],
    {
      cwd: ROOT,
      stdio: ["ignore", "ignore", "pipe"],
    },
  );
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const finished = new Promise<Finished>((resolve) => {
    child.on("exit", (code) => {
      const summary = fs.existsSync(summaryFile)
        ? (JSON.parse(fs.readFileSync(summaryFile, "utf8")) as RunSummary)
        : null;
      resolve({ code, stderr, summary });
    });
  });
  return { child, finished };
}

async function topicSize(topic: string): Promise<number> {
  const admin = new Kafka({ brokers: [broker.bootstrapServers], logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    return offsets.reduce((n, p) => n + Number(p.high), 0);
  } catch {
    return 0;
  } finally {
    await admin.disconnect();
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The summary's ground truth and what a consumer reads back, in the same shape. */
function groundTruthOf(summary: RunSummary) {
  return {
    messages: summary.acknowledged,
    malformed: summary.malformed,
    visits: summary.visits,
    cart_adds: summary.cart_adds,
    hours: summary.hours,
    hourly_products: summary.hourly_products,
    distinctEventIds: summary.valid,
    wrongKeys: 0,
  };
}

beforeAll(async () => {
  broker = await startBroker({ stateDir });
});

afterAll(async () => {
  await broker?.stop();
  fs.rmSync(work, { recursive: true, force: true });
});

test("what a consumer reads back equals the summary exactly, per hour, product and type", async () => {
  const { finished } = generator([
    "--brokers",
    broker.bootstrapServers,
    "--topic",
    "readback",
    "--partitions",
    "3",
    "--start",
    "2026-11-26T10",
    "--hours",
    "3",
    "--per-hour",
    "3000",
    "--seed",
    "11",
    "--malformed-rate",
    "0.03",
  ]);
  const { code, stderr, summary } = await finished;
  expect({ code, stderr }).toMatchObject({ code: 0 });
  expect(summary).toMatchObject({
    complete: true,
    generated: 9000,
    acknowledged: 9000,
    unacknowledged: 0,
    mode: "simulated",
  });
  expect(summary?.hours.map((h) => h.hour)).toEqual([
    "2026-11-26T10:00:00Z",
    "2026-11-26T11:00:00Z",
    "2026-11-26T12:00:00Z",
  ]);
  expect(summary?.malformed).toBeGreaterThan(100);
  expect(await readTopic(broker.bootstrapServers, "readback")).toEqual(groundTruthOf(summary as RunSummary));
});

test("the broker stopped mid-run and started again loses nothing that was acknowledged", async () => {
  const { finished } = generator([
    "--brokers",
    broker.bootstrapServers,
    "--topic",
    "outage",
    "--rate",
    "1500",
    "--count",
    "12000",
    "--seed",
    "5",
    "--malformed-rate",
    "0.01",
    "--broker-timeout",
    "60",
  ]);
  const deadline = Date.now() + 20_000;
  while ((await topicSize("outage")) < 1500 && Date.now() < deadline) await sleep(200);
  await stopBroker(stateDir);
  await sleep(1500);
  broker = await startBroker({ stateDir });

  const { code, stderr, summary } = await finished;
  expect({ code, stderr }).toMatchObject({ code: 0 });
  expect(summary).toMatchObject({ complete: true, generated: 12000, acknowledged: 12000 });
  // the outage really happened while the generator was sending
  expect(summary?.errors).toBeGreaterThan(0);
  expect(await readTopic(broker.bootstrapServers, "outage")).toEqual(groundTruthOf(summary as RunSummary));
});

test("SIGTERM flushes what is buffered and the summary counts exactly what was acknowledged", async () => {
  const { child, finished } = generator([
    "--brokers",
    broker.bootstrapServers,
    "--topic",
    "stopped",
    "--rate",
    "3000",
    "--seed",
    "9",
    "--duration",
    "60",
  ]);
  const deadline = Date.now() + 20_000;
  while ((await topicSize("stopped")) < 1000 && Date.now() < deadline) await sleep(100);
  child.kill("SIGTERM");
  const { code, stderr, summary } = await finished;
  expect({ code, stderr }).toMatchObject({ code: 0 });
  expect(summary?.complete).toBe(true);
  expect(summary?.acknowledged).toBeGreaterThanOrEqual(1000);
  // ended by the signal, long before --duration
  expect(summary?.elapsed_seconds).toBeLessThan(30);
  expect(await readTopic(broker.bootstrapServers, "stopped")).toEqual(groundTruthOf(summary as RunSummary));
});

test("an unreachable broker gives a clear message and a non-zero exit", async () => {
  const port = await freePort();
  const { code, stderr, summary } = await generator([
    "--brokers",
    `127.0.0.1:${port}`,
    "--count",
    "5",
    "--broker-timeout",
    "2",
  ]).finished;
  expect(code).toBe(1);
  expect(stderr).toContain(`cannot reach Kafka at 127.0.0.1:${port} within 2 s`);
  expect(summary).toMatchObject({ complete: false, acknowledged: 0 });
});

test("bad command-line input is refused with a message naming it, exit 2", async () => {
  const [negative, unknown] = await Promise.all([
    generator(["--rate=-5"]).finished,
    generator(["--frobnicate"]).finished,
  ]);
  expect(negative.code).toBe(2);
  expect(negative.stderr).toContain("--rate must be a number of entries per second >= 0");
  expect(unknown.code).toBe(2);
  expect(unknown.stderr).toContain("unknown option '--frobnicate'");
});

test("a reader that stops early (generator --stdout | head) is a normal end: exit 0, no error", async () => {
  const child = spawn(
    process.execPath,
    [...TSX_LOADER, path.join(ROOT, "generator", "main.ts"), "--stdout", "--count", "10000000", "--rate", "0"],
    {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
  // as head does: read the first lines, then close the pipe
  await new Promise<void>((resolve) => child.stdout?.once("data", () => resolve()));
  child.stdout?.destroy();
  expect(await exited).toBe(0);
  expect(stderr).not.toMatch(/EPIPE|error/);
});
