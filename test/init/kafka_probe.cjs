// Tries what one Kafka client may or may not do on the broker the init action set up, and prints one JSON
// object: each check's name -> "ok" (with what it read) or the error the broker answered.
// Usage: node kafka_probe.cjs BOOTSTRAP CHECKS_JSON   (the passwords come from the environment, PROBE_PASSWORD_<USER>)
const { Kafka, logLevel } = require("kafkajs");

const [bootstrap, checksJson] = process.argv.slice(2);

function client(user) {
  const sasl =
    user === null
      ? undefined
      : {
          mechanism: "scram-sha-512",
          username: user,
          password: process.env[`PROBE_PASSWORD_${user.toUpperCase()}`] ?? "",
        };
  return new Kafka({
    clientId: `probe-${user}`,
    brokers: [bootstrap],
    sasl,
    logLevel: logLevel.NOTHING,
    connectionTimeout: 3000,
    authenticationTimeout: 3000,
    requestTimeout: 5000,
    retry: { retries: 0 },
  });
}

const actions = {
  async produce(kafka, { topic, timestamp }) {
    const producer = kafka.producer({ allowAutoTopicCreation: false, retry: { retries: 0 } });
    await producer.connect();
    try {
      const [meta] = await producer.send({ topic, acks: -1, messages: [{ value: "probe", timestamp }] });
      return `offset ${meta.baseOffset} logAppendTime ${meta.logAppendTime}`;
    } finally {
      await producer.disconnect();
    }
  },
  async deleteRecords(kafka, { topic }) {
    const admin = kafka.admin({ retry: { retries: 0 } });
    await admin.connect();
    try {
      await admin.fetchTopicOffsets(topic);
      await admin.deleteTopicRecords({ topic, partitions: [{ partition: 0, offset: "-1" }] });
      return "deleted";
    } finally {
      await admin.disconnect();
    }
  },
  async createTopic(kafka, { topic }) {
    const admin = kafka.admin({ retry: { retries: 0 } });
    await admin.connect();
    try {
      await admin.createTopics({ topics: [{ topic }] });
      return "created";
    } finally {
      await admin.disconnect();
    }
  },
  async createAcl(kafka, { user }) {
    const admin = kafka.admin({ retry: { retries: 0 } });
    await admin.connect();
    try {
      // resourceType 2 = topic, patternType 3 = literal, operation 2 = all, permission 3 = allow
      await admin.createAcls({
        acl: [
          {
            resourceType: 2,
            resourceName: "*",
            resourcePatternType: 3,
            principal: `User:${user}`,
            host: "*",
            operation: 2,
            permissionType: 3,
          },
        ],
      });
      return "acl created";
    } finally {
      await admin.disconnect();
    }
  },
};

(async () => {
  const outcome = {};
  for (const { name, user, action, ...args } of JSON.parse(checksJson)) {
    try {
      outcome[name] = `ok: ${await actions[action](client(user), args)}`;
    } catch (error) {
      // kafkajs wraps per-topic and per-partition errors: name the broker's error codes.
      const cause = error.cause ?? error;
      const inner = [...(cause.errors ?? []), ...(cause.partitions ?? [])].map(
        (e) => e.type ?? e.error?.type ?? e.error ?? e.message,
      );
      outcome[name] = `${cause.type ?? cause.name}: ${cause.message} ${inner.join(" ")}`.trim();
    }
  }
  console.log(JSON.stringify(outcome));
})();
