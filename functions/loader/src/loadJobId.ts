// Deterministic BigQuery job ids for a stored object, so a redelivered event names the same job.
import { createHash } from "node:crypto";

export interface StoredObject {
  bucket: string;
  name: string;
  /** GCS generation: a new upload of the same name is a new generation, hence a new load */
  generation: string;
}

/** BigQuery accepts job ids of letters, digits, '_' and '-', at most 1024 characters. */
export const JOB_ID_PATTERN = /^[A-Za-z0-9_-]{1,1024}$/;

const READABLE_PART_MAX = 160;

/**
 * The job id of load attempt `attempt` (0 = first) of an object: a readable, sanitised excerpt of the
 * name for people reading job lists, then a hash of the exact bucket/name/generation. The hash is what
 * makes ids distinct: sanitising maps 'a.b' and 'a_b' to the same excerpt.
 */
export function loadJobIdFor(object: StoredObject, attempt = 0): string {
  const digest = createHash("sha256")
    .update(`${object.bucket}\n${object.name}\n${object.generation}`)
    .digest("hex")
    .slice(0, 32);
  const readable = object.name
    .replace(/^hourly\//, "")
    .replace(/[^A-Za-z0-9_-]+/g, "_")
    .slice(0, READABLE_PART_MAX);
  const retry = attempt > 0 ? `_retry${attempt}` : "";
  return `hourly_load_${readable}_${digest}${retry}`;
}

/** The id of attempt `attempt` of the job that records the lineage of a load, derived from the load's id. */
export function loadLogJobIdFor(loadJobId: string, attempt = 0): string {
  return `${loadJobId}_logged${attempt > 0 ? `_retry${attempt}` : ""}`;
}
