// The storage event a gen2 function receives when an object is finalized in a bucket, built and
// delivered as Eventarc does: an HTTP POST in CloudEvents binary content mode, the ce-* attributes as
// headers and the object's metadata (StorageObjectData) as the JSON body.
import { createHash } from "node:crypto";
import { OBJECT_FINALIZED } from "../../functions/loader/src/hourlyLoader";

export interface FinalizedObject {
  bucket: string;
  name: string;
  /** GCS generations are microsecond timestamps, carried as decimal strings */
  generation: string;
  size: number;
  contentType: string;
  /** base64 MD5 of the content, as GCS reports it */
  md5Hash: string;
  timeCreated: string;
}

export interface DeliverableEvent {
  headers: Record<string, string>;
  body: string;
}

export function md5Base64(content: Buffer | string): string {
  return createHash("md5").update(content).digest("base64");
}

/**
 * The event for one finalized object. `id` is Eventarc's message id: a redelivery carries the same id
 * and the same body, which is what the loader's idempotency has to withstand.
 */
export function objectFinalizedEvent(o: FinalizedObject, id: string): DeliverableEvent {
  const data = {
    kind: "storage#object",
    id: `${o.bucket}/${o.name}/${o.generation}`,
    selfLink: `https://www.googleapis.com/storage/v1/b/${o.bucket}/o/${encodeURIComponent(o.name)}`,
    mediaLink: `https://storage.googleapis.com/download/storage/v1/b/${o.bucket}/o/${encodeURIComponent(o.name)}?generation=${o.generation}&alt=media`,
    name: o.name,
    bucket: o.bucket,
    generation: o.generation,
    metageneration: "1",
    contentType: o.contentType,
    storageClass: "STANDARD",
    size: String(o.size),
    md5Hash: o.md5Hash,
    etag: o.md5Hash,
    timeCreated: o.timeCreated,
    updated: o.timeCreated,
    timeStorageClassUpdated: o.timeCreated,
  };
  return {
    headers: {
      "content-type": "application/json",
      "ce-specversion": "1.0",
      "ce-id": id,
      "ce-source": `//storage.googleapis.com/projects/_/buckets/${o.bucket}`,
      "ce-type": OBJECT_FINALIZED,
      "ce-subject": `objects/${o.name}`,
      "ce-time": o.timeCreated,
      // Eventarc adds the bucket as an extension attribute on Cloud Storage events.
      "ce-bucket": o.bucket,
    },
    body: JSON.stringify(data),
  };
}

/**
 * POSTs the event to the function and retries a non-2xx answer a few times, as Eventarc's retry policy
 * would; throws with the function's last answer if it never accepts the event.
 */
export async function deliver(url: string, event: DeliverableEvent, attempts = 4): Promise<void> {
  let last = "";
  for (let i = 0; i < attempts; i++) {
    try {
      const res = await fetch(url, {
        method: "POST",
        headers: event.headers,
        body: event.body,
        signal: AbortSignal.timeout(60_000),
      });
      const text = await res.text();
      if (res.ok) return;
      last = `HTTP ${res.status}: ${text.slice(0, 500)}`;
    } catch (e) {
      last = (e as Error).message;
    }
    await new Promise((r) => setTimeout(r, 500 * 2 ** i));
  }
  throw new Error(
    `the loader did not accept the event for ${event.headers["ce-subject"]} after ${attempts} attempts: ${last}`,
  );
}
