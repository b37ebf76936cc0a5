// The local Kafka broker: started from a state folder, answering, stopped, started again with its data.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { CompressionTypes, Kafka, logLevel } from "kafkajs";
import { isLoopback, listeningSockets, processTree } from "../../sandbox/processes/listeningSockets";
import { ensureTopic } from "../../sandbox/processes/kafkaAdmin";
import { brokerStatus, exited, RunningBroker, startBroker, stopBroker } from "../../sandbox/processes/kafkaBroker";
import { freePort, SERVICE_PORTS } from "../../sandbox/shared/ports";
import { sleep } from "../../sandbox/shared/sleep";
import net from "node:net";

const ROOT = path.resolve(__dirname, "../..");
const TSX = path.join(ROOT, "node_modules", "tsx", "dist", "cli.mjs");
const work = fs.mkdtempSync(path.join(os.tmpdir(), "kafka-broker-test-"));
const stateDir = path.join(work, "broker");
let broker: RunningBroker;

const client = (bootstrapServers: string) =>
  new Kafka({ clientId: "broker-test", brokers: [bootstrapServers], logLevel: logLevel.NOTHING });

/** The topic's records, asked as a client would: a broker just started answers before it leads its partitions
 * again, with a retriable "not the leader" error, so that is retried (at most 10 s). */
async function highWatermark(bootstrapServers: string, topic: string): Promise<number> {
  const admin = client(bootstrapServers).admin();
  await admin.connect();
  try {
    for (let attempt = 1; ; attempt++) {
      try {
        return (await admin.fetchTopicOffsets(topic)).reduce((n, p) => n + Number(p.high), 0);
      } catch (e) {
        if (!(e as { retriable?: boolean }).retriable || attempt >= 40) throw e;
        await sleep(250);
      }
    }
  } finally {
    await admin.disconnect();
  }
}

function cli(args: string[], env: NodeJS.ProcessEnv = process.env) {
  const run = spawnSync(process.execPath, [TSX, path.join(ROOT, "sandbox", "processes", "kafkaBroker.ts"), ...args], {
    cwd: ROOT,
    env,
    encoding: "utf8",
  });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

beforeAll(async () => {
  broker = await startBroker({ stateDir });
});

afterAll(async () => {
  await broker?.stop();
  fs.rmSync(work, { recursive: true, force: true });
});

test("a free port for a service lies below the ephemeral range, where no outgoing connection can take it", async () => {
  const ports = await Promise.all(Array.from({ length: 20 }, () => freePort()));
  for (const port of ports) {
    expect(port).toBeGreaterThanOrEqual(SERVICE_PORTS.from);
    expect(port).toBeLessThan(Math.min(SERVICE_PORTS.to, 32_768));
  }
  // and it is free: a server can listen on it
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => server.once("error", reject).listen(ports[0], "127.0.0.1", resolve));
  await new Promise((resolve) => server.close(resolve));
});

test("the broker's listener and its KRaft controller listen on the loopback address only", () => {
  const sockets = listeningSockets(processTree(broker.pid));
  expect(sockets.map((s) => s.port)).toEqual(expect.arrayContaining([Number(broker.bootstrapServers.split(":")[1])]));
  expect(sockets.length).toBeGreaterThanOrEqual(2);
  expect(sockets.filter((s) => !isLoopback(s.address))).toEqual([]);
});

test("a started broker answers on loopback and takes idempotent, compressed writes with acks=all", async () => {
  expect(broker.bootstrapServers).toMatch(/^127\.0\.0\.1:\d+$/);
  const kafka = client(broker.bootstrapServers);
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: "kept", numPartitions: 2 }], waitForLeaders: true });
  await admin.disconnect();
  const producer = kafka.producer({ idempotent: true });
  await producer.connect();
  await producer.send({
    topic: "kept",
    acks: -1,
    compression: CompressionTypes.GZIP,
    messages: [
      { key: "a", value: "1" },
      { key: "b", value: "2" },
      { key: "c", value: "3" },
    ],
  });
  await producer.disconnect();
  expect(await highWatermark(broker.bootstrapServers, "kept")).toBe(3);
});

test("ensureTopic creates a topic with every partition led, and leaves an existing one as it is", async () => {
  await ensureTopic(broker.bootstrapServers, "ensured", 3);
  await ensureTopic(broker.bootstrapServers, "ensured", 3);
  const admin = client(broker.bootstrapServers).admin();
  await admin.connect();
  try {
    const { topics } = await admin.fetchTopicMetadata({ topics: ["ensured"] });
    expect(topics[0].partitions.map((p) => p.leader >= 0)).toEqual([true, true, true]);
  } finally {
    await admin.disconnect();
  }
});

/** The timestamp the broker stored for the one record of a topic, read back by a consumer. */
async function storedTimestamp(bootstrapServers: string, topic: string): Promise<number> {
  const consumer = client(bootstrapServers).consumer({ groupId: `read-${topic}` });
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    return await new Promise<number>((resolve) => {
      void consumer.run({ eachMessage: async ({ message }) => resolve(Number(message.timestamp)) });
    });
  } finally {
    await consumer.disconnect();
  }
}

test.each([
  ["the pipeline's topic (ensureTopic)", "received-ensured", true],
  ["a topic created without saying so", "received-plain", false],
])(
  "on %s a producer's forged timestamp is replaced by the broker's append time",
  async (_, topic, ensured) => {
    if (ensured) await ensureTopic(broker.bootstrapServers, topic, 1);
    const producer = client(broker.bootstrapServers).producer({ allowAutoTopicCreation: true });
    await producer.connect();
    const before = Date.now();
    const forged = Date.UTC(2026, 0, 1, 3);
    await producer.send({ topic, acks: -1, messages: [{ key: "k", value: "v", timestamp: String(forged) }] });
    await producer.disconnect();
    const stored = await storedTimestamp(broker.bootstrapServers, topic);
    expect(stored).not.toBe(forged);
    expect(stored).toBeGreaterThanOrEqual(before - 1000);
  },
  60_000,
);

test("starting the same state folder again returns the running broker instead of a second one", async () => {
  const again = await startBroker({ stateDir });
  expect({ bootstrapServers: again.bootstrapServers, pid: again.pid }).toEqual({
    bootstrapServers: broker.bootstrapServers,
    pid: broker.pid,
  });
  const status = cli(["status", "--state-dir", stateDir]);
  expect(status.code).toBe(0);
  expect(JSON.parse(status.stdout)).toEqual({
    running: true,
    bootstrapServers: broker.bootstrapServers,
    pid: broker.pid,
    log: path.join(stateDir, "broker.log"),
  });
});

test("a broker on a port that is taken fails saying so; a new one that prefers it takes a free one", async () => {
  const port = Number(broker.bootstrapServers.split(":")[1]);
  await expect(startBroker({ stateDir: path.join(work, "other"), port })).rejects.toThrow(
    `the broker's client port 127.0.0.1:${port} is taken by another process`,
  );
  const preferring = await startBroker({ stateDir: path.join(work, "preferring"), preferredPort: port });
  try {
    expect(preferring.bootstrapServers).not.toBe(broker.bootstrapServers);
  } finally {
    await stopBroker(path.join(work, "preferring"));
  }
});

test("missing jars and a missing java are reported with what to do", async () => {
  const cache = process.env.CLICKSTREAM_CACHE;
  process.env.CLICKSTREAM_CACHE = path.join(work, "empty-cache");
  try {
    await expect(startBroker({ stateDir: path.join(work, "nojars") })).rejects.toThrow("jars are missing");
    await expect(startBroker({ stateDir: path.join(work, "nojars") })).rejects.toThrow("run 'npm run setup'");
  } finally {
    if (cache === undefined) delete process.env.CLICKSTREAM_CACHE;
    else process.env.CLICKSTREAM_CACHE = cache;
  }
  const noJava = cli(["start", "--state-dir", path.join(work, "nojava")], {
    ...process.env,
    PATH: path.join(work, "no-such-bin"),
  });
  expect(noJava.code).toBe(1);
  expect(noJava.stderr).toContain("java not found on PATH");
});

test("a stopped broker has exited, and started again keeps its port and its data", async () => {
  const { bootstrapServers, pid } = broker;
  const startedStopping = Date.now();
  const stop = cli(["stop", "--state-dir", stateDir]);
  expect(stop.code).toBe(0);
  expect(Date.now() - startedStopping).toBeLessThan(20_000);
  expect(exited(pid)).toBe(true);
  expect(await brokerStatus(stateDir)).toEqual({ running: false, log: path.join(stateDir, "broker.log") });
  expect(cli(["status", "--state-dir", stateDir]).code).toBe(3);

  broker = await startBroker({ stateDir });
  expect(broker.bootstrapServers).toBe(bootstrapServers);
  expect(broker.pid).not.toBe(pid);
  expect(await highWatermark(broker.bootstrapServers, "kept")).toBe(3);
  await stopBroker(stateDir);
  await stopBroker(stateDir); // stopping a stopped broker is a no-op

  // A preferred port is a new state folder's only; a port asked for moves the stopped broker, data and all.
  const moved = await freePort();
  broker = await startBroker({ stateDir, preferredPort: moved });
  expect(broker.bootstrapServers).toBe(bootstrapServers);
  await expect(startBroker({ stateDir, port: moved })).rejects.toThrow(`stop it first to move it to port ${moved}`);
  await stopBroker(stateDir);
  broker = await startBroker({ stateDir, port: moved });
  expect(broker.bootstrapServers).toBe(`127.0.0.1:${moved}`);
  expect(await highWatermark(broker.bootstrapServers, "kept")).toBe(3);
  await stopBroker(stateDir);
});

test("the command line refuses a missing state folder, unknown commands and another command's flag, exit 2", () => {
  expect(cli(["start"])).toMatchObject({ code: 2, stderr: expect.stringContaining("--state-dir is required") });
  expect(cli(["restart", "--state-dir", stateDir])).toMatchObject({
    code: 2,
    stderr: expect.stringContaining("unknown command 'restart'"),
  });
  expect(cli(["stop", "--state-dir", stateDir, "--port", "9092"])).toMatchObject({
    code: 2,
    stderr: "error: --port is an option of start, not of stop (see --help)\n",
  });
  expect(cli(["--help"])).toMatchObject({
    code: 0,
    stdout: expect.stringMatching(/--port N +start: the port on 127\.0\.0\.1/),
  });
});

test("a cluster id that begins with a dash (one in 64 random ids) still formats the storage", async () => {
  const dashDir = path.join(work, "dash-id");
  fs.mkdirSync(dashDir);
  const clusterId = "-AbCdEfGhIjKlMnOpQrStUw";
  fs.writeFileSync(
    path.join(dashDir, "broker.json"),
    JSON.stringify({ clusterId, port: await freePort(), controllerPort: await freePort() }),
  );
  const dashed = await startBroker({ stateDir: dashDir });
  try {
    expect(fs.readFileSync(path.join(dashDir, "data", "meta.properties"), "utf8")).toContain(`cluster.id=${clusterId}`);
  } finally {
    await dashed.stop();
  }
});
