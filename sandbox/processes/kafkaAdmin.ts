// The broker seen through Kafka's admin client: whether it serves metadata requests yet, and the topic.
import { Kafka, logLevel } from "kafkajs";
import { TOPIC_CONFIG } from "../../generator/sinks";

/** Resolves once the broker serves metadata requests (it only does so once it is unfenced). */
export async function answers(bootstrapServers: string): Promise<boolean> {
  const admin = new Kafka({
    clientId: "local-broker-probe",
    brokers: [bootstrapServers],
    logLevel: logLevel.NOTHING,
    connectionTimeout: 1000,
    requestTimeout: 2000,
    retry: { retries: 0 },
  }).admin();
  try {
    await admin.connect();
    const cluster = await admin.describeCluster();
    return cluster.brokers.length > 0;
  } catch {
    return false;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/**
 * Creates the topic if it is missing and waits until every partition has its leader, as the cloud's broker
 * init action does before the generator and the streaming job start: a reader that subscribes while a
 * producer is still creating the topic can see its partitions before the broker hosts them, and fail.
 */
export async function ensureTopic(bootstrapServers: string, topic: string, partitions: number): Promise<void> {
  const admin = new Kafka({
    clientId: "local-topic-setup",
    brokers: [bootstrapServers],
    logLevel: logLevel.NOTHING,
  }).admin();
  await admin.connect();
  try {
    await admin.createTopics({
      topics: [{ topic, numPartitions: partitions, configEntries: TOPIC_CONFIG }],
      waitForLeaders: true,
    });
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}
