// Where entries go: a Kafka topic (kafkajs, idempotent, acks=all, compressed batches, key = session id)
// or NDJSON on stdout. write() resolves once the batch is acknowledged; only then is it counted.
import { CompressionTypes, Kafka, KafkaConfig, logLevel, LogEntry, Producer } from "kafkajs";
import { oauthBearerFromMetadata } from "./googleToken";
import type { KafkaAuth } from "./options";
import { keyPartitioner } from "./partitioner";
import type { Emission } from "./traffic";

export interface Sink {
  readonly destination: string;
  write(batch: readonly Emission[]): Promise<void>;
  close(): Promise<void>;
  /** failed attempts so far (retried), and the last reason */
  errors(): { count: number; last: string | null };
}

export interface KafkaSinkOptions {
  brokers: string[];
  topic: string;
  partitions: number;
  compression: "gzip" | "none";
  /**
   * google: Managed Kafka's TLS with SASL/OAUTHBEARER as the VM's service account; scram: SASL/SCRAM-SHA-512 as
   * kafkaUser (the stack's own broker); none: plaintext (the sandbox's loopback broker).
   */
  kafkaAuth?: KafkaAuth;
  kafkaUser?: string;
  kafkaPassword?: string | null;
}

/** The topic's timestamps are the broker's append time: "received" is the broker's clock, not a producer's. */
export const TOPIC_CONFIG = [{ name: "message.timestamp.type", value: "LogAppendTime" }];

/** How the client proves who it is, per --kafka-auth. */
export function kafkaAuthConfig(options: KafkaSinkOptions): Pick<KafkaConfig, "ssl" | "sasl"> {
  if (options.kafkaAuth === "google") {
    return { ssl: true, sasl: { mechanism: "oauthbearer", oauthBearerProvider: () => oauthBearerFromMetadata() } };
  }
  if (options.kafkaAuth === "scram") {
    return {
      sasl: {
        mechanism: "scram-sha-512",
        username: options.kafkaUser ?? "generator",
        password: options.kafkaPassword ?? "",
      },
    };
  }
  return {};
}

/** Idempotent producers sending side by side (kafkajs allows one safe send in flight per producer). */
const PRODUCER_LANES = 3;

/** Failed attempts seen by the Kafka client; kafkajs retries them. */
export class ErrorLog {
  count = 0;
  last: string | null = null;
}

/** Connects, creates the topic if missing and returns a sink; retries forever, so callers bound it in time. */
export async function openKafkaSink(options: KafkaSinkOptions, errorLog = new ErrorLog()): Promise<Sink> {
  const kafka = new Kafka({
    clientId: "weblog-generator",
    brokers: options.brokers,
    connectionTimeout: 3000,
    // kafkajs logs every failed attempt; count them for the progress line and summary instead.
    logLevel: logLevel.ERROR,
    logCreator:
      () =>
      ({ level, log }: LogEntry) => {
        if (level > logLevel.ERROR) return;
        errorLog.count++;
        errorLog.last = `${log.message}${log.error ? `: ${String(log.error)}` : ""}`;
      },
    retry: { retries: Number.MAX_SAFE_INTEGER, initialRetryTime: 200, maxRetryTime: 2000 },
    ...kafkaAuthConfig(options),
  });
  const lanes = await untilConnected(errorLog, async () => {
    // A SCRAM principal may only write: its broker's init action created the topic.
    if (options.kafkaAuth !== "scram") await createTopic(kafka, options);
    return Promise.all(
      Array.from({ length: PRODUCER_LANES }, async () => {
        const producer: Producer = kafka.producer({
          idempotent: true,
          createPartitioner: keyPartitioner,
          // acks=all and idempotence: a batch resent after a lost response is written once.
          retry: { retries: Number.MAX_SAFE_INTEGER, initialRetryTime: 100, maxRetryTime: 2000 },
        });
        await producer.connect();
        return { producer, previous: Promise.resolve() as Promise<unknown> };
      }),
    );
  });
  const compression = options.compression === "gzip" ? CompressionTypes.GZIP : CompressionTypes.None;
  let next = 0;
  return {
    destination: `kafka://${options.brokers.join(",")}/${options.topic}`,
    write(batch) {
      // One send at a time per producer: kafkajs takes a partition's idempotent sequence number when a send
      // starts and advances it only on the reply, so two concurrent sends of one producer could share one;
      // the broker would then drop a batch as a duplicate or, after a retry, write one twice. Each lane is
      // its own idempotent producer (own producer id and sequences), so lanes overlap safely.
      const lane = lanes[next++ % lanes.length];
      const sent = lane.previous.then(() =>
        lane.producer.send({
          topic: options.topic,
          acks: -1,
          compression,
          messages: batch.map(({ key, value }) => ({ key, value })),
        }),
      );
      lane.previous = sent.catch(() => undefined);
      return sent.then(() => undefined);
    },
    close: async () => {
      await Promise.all(lanes.map((l) => l.producer.disconnect()));
    },
    errors: () => ({ count: errorLog.count, last: errorLog.last }),
  };
}

async function createTopic(kafka: Kafka, options: KafkaSinkOptions): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createTopics({
      topics: [{ topic: options.topic, numPartitions: options.partitions, configEntries: TOPIC_CONFIG }],
      waitForLeaders: true,
    });
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/**
 * Runs connect until it succeeds: kafkajs gives up on a connection lost during createTopics or a producer's
 * connect (a broker restarting as the generator starts), where a send would have been retried.
 */
async function untilConnected<T>(errorLog: ErrorLog, connect: () => Promise<T>): Promise<T> {
  for (let wait = 200; ; wait = Math.min(2000, wait * 2)) {
    try {
      return await connect();
    } catch (error) {
      errorLog.count++;
      errorLog.last = String(error instanceof Error ? error.message : error);
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }
}

/** NDJSON, one message per line; broken entries are written as their raw bytes. */
export function openStdoutSink(stream: NodeJS.WritableStream = process.stdout): Sink {
  // A closed pipe (e.g. `| head`) fails the pending write below; without a listener it would crash the process.
  stream.on("error", () => undefined);
  return {
    destination: "stdout",
    write(batch) {
      const lines: Buffer[] = [];
      for (const { value } of batch) lines.push(value, NEWLINE);
      return new Promise((resolve, reject) => {
        stream.write(Buffer.concat(lines), (error) => (error ? reject(error) : resolve()));
      });
    },
    close: async () => undefined,
    errors: () => ({ count: 0, last: null }),
  };
}

const NEWLINE = Buffer.from("\n");
