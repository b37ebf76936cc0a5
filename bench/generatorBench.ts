// Benchmark (not a test): N entries from the generator to a local broker, against Kafka's own producer
// benchmark (ProducerPerformance) sending the same entries (--payload-file) with the same acks=all,
// idempotence and gzip compression, to a topic with the same partitions. Prints both rates and the ratio.
//   npm run bench:generator -- [--count N] [--compression gzip|none]
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Kafka, logLevel } from "kafkajs";
import type { RunSummary } from "../generator/groundTruth";
import { TrafficModel } from "../generator/traffic";
import { simulatedEventTimes } from "../generator/eventTime";
import { startBroker } from "../sandbox/processes/kafkaBroker";
import { kafkaClasspath } from "../sandbox/processes/kafkaFiles";

const ROOT = path.resolve(__dirname, "..");
const SEED = 2026;
const START = "2026-11-26T00";
const PARTITIONS = 3;

function flag(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

function run(command: string, args: string[]): string {
  const result = spawnSync(command, args, { cwd: ROOT, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
  if (result.status !== 0)
    throw new Error(`${command} ${args.slice(0, 3).join(" ")} ... failed:\n${result.stderr}${result.stdout}`);
  return result.stdout + result.stderr;
}

async function main(): Promise<void> {
  const count = Number(flag("count", "200000"));
  const compression = flag("compression", "gzip");
  if (!Number.isInteger(count) || count < 1000) throw new Error("--count must be a whole number >= 1000");
  if (compression !== "gzip" && compression !== "none") throw new Error("--compression must be gzip or none");
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "generator-bench-"));
  const broker = await startBroker({ stateDir: path.join(work, "broker") });
  try {
    console.error(`broker ${broker.bootstrapServers}; building dist/generator.cjs`);
    // The very bundle the cloud runs, built by the same npm script the stack uses.
    run("npm", ["run", "--silent", "build:generator"]);

    // The very entries the generator sends (same seed, same event times), as ProducerPerformance's payloads.
    const payloadFile = path.join(work, "payloads.ndjson");
    const model = new TrafficModel({ seed: SEED, products: 1000, malformedRate: 0 });
    const lines: string[] = [];
    for (const t of simulatedEventTimes(Date.parse(`${START}:00:00Z`), 1, count, SEED))
      lines.push(model.next(t).value.toString());
    fs.writeFileSync(payloadFile, lines.join("\n") + "\n");
    const meanBytes = (fs.statSync(payloadFile).size - lines.length) / lines.length;

    const admin = new Kafka({ brokers: [broker.bootstrapServers], logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    await admin.createTopics({
      topics: ["bench-warmup", "bench-reference", "bench-generator"].map((topic) => ({
        topic,
        numPartitions: PARTITIONS,
      })),
      waitForLeaders: true,
    });
    await admin.disconnect();

    const generator = (topic: string, n: number): RunSummary => {
      const summaryFile = path.join(work, `${topic}.json`);
      run(process.execPath, [
        "dist/generator.cjs",
        "--brokers",
        broker.bootstrapServers,
        "--topic",
        topic,
        "--start",
        START,
        "--hours",
        "1",
        "--per-hour",
        String(n),
        "--seed",
        String(SEED),
        "--compression",
        compression,
        "--summary",
        summaryFile,
      ]);
      return JSON.parse(fs.readFileSync(summaryFile, "utf8")) as RunSummary;
    };

    console.error("warming up the broker");
    generator("bench-warmup", 20_000);

    console.error(`Kafka ProducerPerformance: ${count} records`);
    const reference = run("java", [
      "-Xmx512m",
      "-cp",
      kafkaClasspath(),
      "org.apache.kafka.tools.ProducerPerformance",
      "--topic",
      "bench-reference",
      "--num-records",
      String(count),
      "--throughput",
      "-1",
      "--payload-file",
      payloadFile,
      "--producer-props",
      `bootstrap.servers=${broker.bootstrapServers}`,
      "acks=all",
      "enable.idempotence=true",
      `compression.type=${compression}`,
    ]);
    const final = /(\d+) records sent, ([\d.]+) records\/sec/.exec(
      reference
        .trim()
        .split("\n")
        .filter((l) => l.includes("records sent"))
        .pop() ?? "",
    );
    if (!final || Number(final[1]) !== count)
      throw new Error(`could not read ProducerPerformance's result:\n${reference}`);
    const referenceRate = Number(final[2]);

    console.error(`generator (node dist/generator.cjs): ${count} entries`);
    const summary = generator("bench-generator", count);
    if (!summary.complete || summary.acknowledged !== count)
      throw new Error(`the generator did not complete: ${JSON.stringify(summary.error)}`);
    const generatorRate = summary.acknowledged / summary.elapsed_seconds;

    const mb = (rate: number) => ((rate * meanBytes) / 1e6).toFixed(2);
    console.log(
      `entries: ${count}, mean ${meanBytes.toFixed(0)} bytes, acks=all, idempotent, compression ${compression}, ${PARTITIONS} partitions`,
    );
    console.log(`Kafka ProducerPerformance: ${referenceRate.toFixed(0)} records/s (${mb(referenceRate)} MB/s)`);
    console.log(
      `weblog generator:          ${generatorRate.toFixed(0)} entries/s (${mb(generatorRate)} MB/s, incl. entry generation and connect)`,
    );
    console.log(`ratio generator/reference: ${(generatorRate / referenceRate).toFixed(2)} (goal >= 0.80)`);
  } finally {
    await broker.stop();
    fs.rmSync(work, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(`error: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
