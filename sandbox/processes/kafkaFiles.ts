// The Kafka broker's files: its jars (resolved by setup from pom.xml), the configuration it is started with
// and what its state folder remembers between starts.
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { downloadCache } from "../../scripts/downloadCache";
import { LOOPBACK as HOST } from "../shared/ports";

const POM = path.join(__dirname, "kafka", "pom.xml");

/** What the state folder remembers between starts. */
export interface BrokerState {
  clusterId: string;
  port: number;
  controllerPort: number;
  pid?: number;
}

export class BrokerError extends Error {}

export function kafkaVersion(): string {
  const match = /<kafka\.version>([^<]+)<\/kafka\.version>/.exec(fs.readFileSync(POM, "utf8"));
  if (!match) throw new BrokerError(`no <kafka.version> in ${POM}`);
  return match[1];
}

/** Where setup puts the broker's jars (setup.d/30-kafka.sh). */
export function kafkaLibsDir(): string {
  return path.join(downloadCache(), `kafka-${kafkaVersion()}`, "libs");
}

/**
 * The option that maps the broker's class-data archive, beside its jars (setup.d/80-jvm-class-archives.sh: the
 * broker's start 3.1 s to 2.5 s); none before setup has made it, and the JVM starts as before.
 */
export function kafkaClassArchiveOptions(): string[] {
  const archive = path.join(kafkaLibsDir(), "..", "classes.jsa");
  return fs.existsSync(archive) ? [`-XX:SharedArchiveFile=${archive}`] : [];
}

/** java -cp for the broker's jars plus the Kafka tools (StorageTool, ProducerPerformance). */
export function kafkaClasspath(): string {
  const libs = kafkaLibsDir();
  if (!fs.existsSync(path.join(libs, ".pom.sha256"))) {
    throw new BrokerError(`the Kafka ${kafkaVersion()} jars are missing from ${libs}: run 'npm run setup'`);
  }
  return path.join(libs, "*");
}

export function assertJava(): void {
  const java = spawnSync("java", ["-version"], { encoding: "utf8" });
  if (java.error || java.status !== 0) {
    throw new BrokerError(
      "java not found on PATH: the Kafka broker needs Java 17 (apt-get install openjdk-17-jre-headless)",
    );
  }
}

export const files = (stateDir: string) => ({
  state: path.join(stateDir, "broker.json"),
  config: path.join(stateDir, "server.properties"),
  log4j: path.join(stateDir, "log4j.properties"),
  log: path.join(stateDir, "broker.log"),
  data: path.join(stateDir, "data"),
});

export function readState(stateDir: string): BrokerState | undefined {
  const file = files(stateDir).state;
  return fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, "utf8")) as BrokerState) : undefined;
}

export function writeState(stateDir: string, state: BrokerState): void {
  const file = files(stateDir).state;
  fs.writeFileSync(`${file}.tmp`, JSON.stringify(state, null, 2) + "\n");
  fs.renameSync(`${file}.tmp`, file);
}

/** Kafka's cluster ids are 16 random bytes in URL-safe base64 without padding. */
export function newClusterId(): string {
  return randomBytes(16).toString("base64url");
}

export function serverProperties(state: BrokerState, dataDir: string): string {
  return [
    "process.roles=broker,controller",
    "node.id=1",
    `controller.quorum.voters=1@${HOST}:${state.controllerPort}`,
    `listeners=PLAINTEXT://${HOST}:${state.port},CONTROLLER://${HOST}:${state.controllerPort}`,
    `advertised.listeners=PLAINTEXT://${HOST}:${state.port}`,
    "controller.listener.names=CONTROLLER",
    "inter.broker.listener.name=PLAINTEXT",
    "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
    `log.dirs=${dataDir}`,
    // One node: internal topics with one replica and few partitions, no rebalance wait.
    "num.partitions=1",
    "offsets.topic.replication.factor=1",
    "offsets.topic.num.partitions=1",
    "transaction.state.log.replication.factor=1",
    "transaction.state.log.min.isr=1",
    "transaction.state.log.num.partitions=1",
    "group.initial.rebalance.delay.ms=0",
    // Simulated traffic may be replayed long after it was sent: keep everything until the folder is removed.
    "log.retention.ms=-1",
    // "Received" is the broker's clock, also for a topic a test creates without saying so.
    "log.message.timestamp.type=LogAppendTime",
    "",
  ].join("\n");
}

export const LOG4J = [
  "log4j.rootLogger=INFO, stdout",
  "log4j.appender.stdout=org.apache.log4j.ConsoleAppender",
  "log4j.appender.stdout.layout=org.apache.log4j.PatternLayout",
  "log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n",
  "log4j.logger.state.change.logger=WARN",
  "log4j.logger.kafka.request.logger=WARN",
  "log4j.logger.org.apache.kafka.clients=WARN",
  "",
].join("\n");

export function tailOf(file: string, lines = 15): string {
  try {
    return fs.readFileSync(file, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "";
  }
}

/** Formats the KRaft storage once; a formatted data folder is left as it is. */
export function formatStorage(stateDir: string, state: BrokerState, classpath: string, env?: NodeJS.ProcessEnv): void {
  const f = files(stateDir);
  if (fs.existsSync(path.join(f.data, "meta.properties"))) return;
  const format = spawnSync(
    "java",
    [
      ...kafkaClassArchiveOptions(),
      `-Dlog4j.configuration=file:${f.log4j}`,
      "-cp",
      classpath,
      "kafka.tools.StorageTool",
      "format",
      // "=": a base64url id may begin with "-", which would otherwise be read as an option.
      `--cluster-id=${state.clusterId}`,
      "-c",
      f.config,
      "--ignore-formatted",
    ],
    { encoding: "utf8", env },
  );
  if (format.status !== 0) {
    throw new BrokerError(
      `formatting the KRaft storage in ${f.data} failed: ${(format.stderr || format.stdout).trim()}`,
    );
  }
}
