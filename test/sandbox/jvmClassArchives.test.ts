// The class-data archives setup makes (scripts/setup.d/80-jvm-class-archives.sh) are what the sandbox's JVMs
// start from: each JVM logs where it loaded its classes from, and its main classes come from the archive.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { startBroker } from "../../sandbox/processes/kafkaBroker";
import { REPO_ROOT, sparkEnv } from "../../sandbox/processes/parts";

const work = fs.mkdtempSync(path.join(os.tmpdir(), "jvm-class-archives-"));

afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

/** -Xshare:on stops a JVM whose archive does not load; each JVM's class-loading log goes to its own file. */
function archiveChecked(env: NodeJS.ProcessEnv, logs: string): NodeJS.ProcessEnv {
  fs.mkdirSync(logs, { recursive: true });
  const check = `-Xshare:on -Xlog:class+load=info:file=${logs}/classes-%p.log`;
  return { ...env, JAVA_TOOL_OPTIONS: [env.JAVA_TOOL_OPTIONS, check].filter(Boolean).join(" ") };
}

/** Where each JVM that logged into the folder loaded the class from. */
function sourcesOf(logs: string, className: string): string[] {
  const line = new RegExp(`\\] ${className.replace(/\$/g, "\\$")} source: (.*)$`, "m");
  return fs
    .readdirSync(logs)
    .map((f) => line.exec(fs.readFileSync(path.join(logs, f), "utf8"))?.[1])
    .filter((s): s is string => s !== undefined);
}

const FROM_ARCHIVE = "shared objects file (top)"; // the dynamic archive, above the JDK's own

test("the streaming job's and the hourly worker's Spark driver loads Spark from the archive", () => {
  const logs = path.join(work, "spark");
  const run = spawnSync(
    path.join(REPO_ROOT, ".venv", "bin", "python"),
    ["-c", "from jobs.spark_sessions import local_session; local_session('archive-check', kafka=True).stop()"],
    { cwd: REPO_ROOT, env: archiveChecked(sparkEnv(), logs), encoding: "utf8", timeout: 90_000 },
  );
  expect(run.status).toBe(0);
  expect(sourcesOf(logs, "org.apache.spark.SparkContext")).toEqual([FROM_ARCHIVE]);
});

test("the Kafka broker and its storage format load Kafka from the archive", async () => {
  const logs = path.join(work, "kafka");
  const broker = await startBroker({ stateDir: path.join(work, "broker"), env: archiveChecked(process.env, logs) });
  await broker.stop();
  expect(sourcesOf(logs, "kafka.Kafka")).toEqual([FROM_ARCHIVE]);
  // The archive is the broker's classes: the storage format, which runs first, finds its configuration's there.
  expect(sourcesOf(logs, "kafka.server.KafkaConfig")).toEqual([FROM_ARCHIVE, FROM_ARCHIVE]);
});
