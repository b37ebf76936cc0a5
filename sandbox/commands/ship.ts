// `npm start -- ship FILE...`: sends log files (or stdin) to the running sandbox's topic as a file shipper
// does: each line plain, or in Vector's or Filebeat's envelope with the host, the file and the line's byte
// offset, from which the streaming job derives the entry's id (jobs/access_log.py), so a file shipped twice
// counts once. Sent with the generator's Kafka client (idempotent, acks=all), so every line is acknowledged.
import { createReadStream } from "node:fs";
import { hostname } from "node:os";
import { resolve } from "node:path";
import { openKafkaSink } from "../../generator/sinks";
import type { Emission } from "../../generator/traffic";

export const ENVELOPES = ["none", "vector", "filebeat"] as const;
export type Envelope = (typeof ENVELOPES)[number];

/** Where a line was read: what a shipper's envelope reports of it. */
export interface LinePosition {
  host: string;
  file: string;
  /** the byte offset of the line's first byte in its file */
  offset: number;
}

/** The Kafka record's value for a line, as the shipper would send it. */
export function shippedValue(line: Buffer, envelope: Envelope, at: LinePosition): Buffer {
  if (envelope === "none") return line;
  // JSON holds text: invalid bytes become U+FFFD, as a shipper's UTF-8 decoding makes them.
  const message = line.toString("utf8");
  if (envelope === "vector")
    return Buffer.from(
      JSON.stringify({ message, host: at.host, file: at.file, offset: at.offset, source_type: "file" }),
    );
  return Buffer.from(
    JSON.stringify({
      "@timestamp": new Date().toISOString(),
      message,
      host: { name: at.host },
      log: { file: { path: at.file }, offset: at.offset },
    }),
  );
}

/** A file's lines with their byte offsets; the line ends (\n, and a \r before it) are not part of a line. */
export async function* linesOf(chunks: AsyncIterable<Buffer>): AsyncGenerator<{ line: Buffer; offset: number }> {
  let pending = Buffer.alloc(0);
  let offset = 0;
  for await (const chunk of chunks) {
    let data = Buffer.concat([pending, chunk]);
    for (let nl = data.indexOf(0x0a); nl >= 0; nl = data.indexOf(0x0a)) {
      const end = nl > 0 && data[nl - 1] === 0x0d ? nl - 1 : nl;
      yield { line: data.subarray(0, end), offset };
      offset += nl + 1;
      data = data.subarray(nl + 1);
    }
    pending = data;
  }
  if (pending.length > 0) yield { line: pending, offset };
}

export interface ShipSummary {
  files: number;
  lines: number;
  bytes: number;
}

export interface ShipOptions {
  bootstrap: string;
  topic: string;
  envelope: Envelope;
  /** called with the lines sent so far, at most every half second */
  progress?: (sent: number) => void;
  /** how long to try reaching the broker */
  timeoutMs?: number;
}

const BATCH = 500;

/** Sends every line of the files ("-": stdin) and resolves once the broker acknowledged all of them. */
export async function shipFiles(files: readonly string[], o: ShipOptions): Promise<ShipSummary> {
  const sink = await Promise.race([
    openKafkaSink({ brokers: [o.bootstrap], topic: o.topic, partitions: 3, compression: "gzip" }),
    new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error(`cannot reach Kafka at ${o.bootstrap}`)), o.timeoutMs ?? 30_000).unref(),
    ),
  ]);
  const host = hostname();
  const ackTimeoutMs = o.timeoutMs ?? 30_000;
  const summary: ShipSummary = { files: 0, lines: 0, bytes: 0 };
  let shownAt = 0;
  try {
    for (const name of files) {
      const file = name === "-" ? "-" : resolve(name);
      // One file's lines in one partition, in order, as a shipper keyed by its file sends them.
      const key = `${host}:${file}`;
      const source = (name === "-" ? process.stdin : createReadStream(file)) as AsyncIterable<Buffer>;
      let batch: Emission[] = [];
      const send = async () => {
        await Promise.race([
          sink.write(batch),
          new Promise<never>((_, reject) => {
            setTimeout(
              () =>
                reject(
                  new Error(
                    `Kafka at ${o.bootstrap} acknowledged nothing for ${ackTimeoutMs / 1000} s (${summary.lines} lines were sent before)`,
                  ),
                ),
              ackTimeoutMs,
            ).unref();
          }),
        ]);
        summary.lines += batch.length;
        batch = [];
        if (o.progress && Date.now() - shownAt > 500) {
          shownAt = Date.now();
          o.progress(summary.lines);
        }
      };
      for await (const { line, offset } of linesOf(source)) {
        summary.bytes += line.length;
        batch.push({
          key,
          value: shippedValue(line, o.envelope, { host, file, offset }),
          entry: null,
          malformed: null,
        });
        if (batch.length >= BATCH) await send();
      }
      if (batch.length > 0) await send();
      summary.files++;
    }
  } finally {
    await sink.close().catch(() => undefined);
  }
  return summary;
}
