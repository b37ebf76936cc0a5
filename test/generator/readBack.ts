// Reads a whole topic back the way a downstream consumer judges entries, for comparing with a summary.
import { Kafka, logLevel } from "kafkajs";
import { MAX_ENTRY_BYTES, validateWeblogEntry, WeblogEntry } from "../../contract/weblogEntry";

export interface ReadBack {
  messages: number;
  malformed: number;
  visits: number;
  cart_adds: number;
  hours: Array<{ hour: string; visits: number; cart_adds: number }>;
  hourly_products: Array<{ hour: string; product_id: string; visits: number; cart_adds: number }>;
  /** distinct event ids of valid entries: a duplicate delivery would make this smaller than valid */
  distinctEventIds: number;
  /** messages whose key is not the entry's session id */
  wrongKeys: number;
}

/** How a consumer judges one message: at most MAX_ENTRY_BYTES, UTF-8, JSON, the contract; null = malformed. */
export function consumerView(value: Buffer): WeblogEntry | null {
  if (value.length > MAX_ENTRY_BYTES) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(value));
  } catch {
    return null;
  }
  const result = validateWeblogEntry(parsed);
  return result.ok ? result.entry : null;
}

/**
 * The contract read a second way, apart from the generator's helpers: the UTC hour comes from parsing
 * event_time as a time (any offset), not from its text, and a non-null pid is a cart addition.
 */
export function utcHourOf(eventTime: string): string {
  const ms = Date.parse(eventTime);
  return new Date(ms - (ms % 3_600_000)).toISOString().replace(".000Z", "Z");
}

export const countsAs = (entry: { pid: string | null }): "visits" | "cart_adds" =>
  entry.pid === null ? "visits" : "cart_adds";

export async function readTopic(bootstrapServers: string, topic: string): Promise<ReadBack> {
  const kafka = new Kafka({ clientId: "read-back", brokers: [bootstrapServers], logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  const ends = new Map((await admin.fetchTopicOffsets(topic)).map((p) => [p.partition, Number(p.high)]));
  await admin.disconnect();

  const result: ReadBack = {
    messages: 0,
    malformed: 0,
    visits: 0,
    cart_adds: 0,
    hours: [],
    hourly_products: [],
    distinctEventIds: 0,
    wrongKeys: 0,
  };
  const cells = new Map<string, { hour: string; product_id: string; visits: number; cart_adds: number }>();
  const eventIds = new Set<string>();
  const done = new Map([...ends].map(([partition, high]) => [partition, high === 0]));

  const consumer = kafka.consumer({ groupId: `read-back-${Date.now()}-${Math.random()}` });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await new Promise<void>((resolve, reject) => {
    const check = () => {
      if ([...done.values()].every(Boolean)) resolve();
    };
    check();
    consumer
      .run({
        eachMessage: async ({ partition, message }) => {
          result.messages++;
          const entry = consumerView(message.value ?? Buffer.alloc(0));
          if (entry === null) {
            result.malformed++;
          } else {
            if (message.key?.toString() !== entry.session_id) result.wrongKeys++;
            eventIds.add(entry.event_id);
            const hour = utcHourOf(entry.event_time);
            const cellKey = `${hour} ${entry.product_id}`;
            const cell = cells.get(cellKey) ?? { hour, product_id: entry.product_id, visits: 0, cart_adds: 0 };
            const field = countsAs(entry);
            cell[field]++;
            result[field]++;
            cells.set(cellKey, cell);
          }
          if (Number(message.offset) + 1 >= (ends.get(partition) ?? 0)) done.set(partition, true);
          check();
        },
      })
      .catch(reject);
  });
  await consumer.disconnect();

  result.hourly_products = [...cells.values()].sort((a, b) =>
    (a.hour + a.product_id).localeCompare(b.hour + b.product_id),
  );
  const hours = new Map<string, { hour: string; visits: number; cart_adds: number }>();
  for (const cell of result.hourly_products) {
    const h = hours.get(cell.hour) ?? { hour: cell.hour, visits: 0, cart_adds: 0 };
    h.visits += cell.visits;
    h.cart_adds += cell.cart_adds;
    hours.set(cell.hour, h);
  }
  result.hours = [...hours.values()].sort((a, b) => a.hour.localeCompare(b.hour));
  result.distinctEventIds = eventIds.size;
  return result;
}
