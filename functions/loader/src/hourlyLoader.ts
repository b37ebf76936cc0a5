// What the loader does with one "object finalized" event: ignore what is not a published hourly file,
// otherwise load it exactly once (deterministic job ids) and record the load's lineage.
import { isPermanentJobError, JobsApi, PermanentLoadError, TransientLoadError } from "./bigqueryJobs";
import { runJobOnce, WaitPolicy } from "./idempotentJob";
import { LoaderConfig } from "./loaderConfig";
import { loadJobIdFor, loadLogJobIdFor, StoredObject } from "./loadJobId";
import { hourlyLoadConfiguration, recordLoadConfiguration } from "./loadRequests";
import { classifyObjectName } from "./publishedObject";
import { hasNoRows, rowsNotOfFile } from "./publishedRows";
import { ObjectStore } from "./storedObjects";
import { LoaderLog } from "./structuredLog";

export const OBJECT_FINALIZED = "google.cloud.storage.object.v1.finalized";

/** The name the function registers under and the stack deploys as its entry point. */
export const LOADER_ENTRY_POINT = "loadHourlyActivity";

/**
 * A failed load job keeps its id forever, so a transient failure is retried under the next attempt's id,
 * by a later delivery (the platform backs off between deliveries; an immediate retry would meet the same
 * quota or outage). Once every attempt's id holds a failed job, the event is acknowledged as rejected.
 */
export const MAX_LOAD_ATTEMPTS = 3;

/** The CloudEvent fields the loader reads (the rest of StorageObjectData is ignored). */
export interface ObjectFinalizedEvent {
  type: string;
  id?: string;
  data?: { bucket?: string; name?: string; generation?: unknown };
}

export interface LoaderDeps {
  config: LoaderConfig;
  jobs: JobsApi;
  wait: WaitPolicy;
  log: LoaderLog;
  objects: ObjectStore;
}

export type LoadResult =
  | { status: "ignored"; reason: string }
  | { status: "loaded"; loadJobId: string; outputRows: number; redelivered: boolean }
  | { status: "rejected"; loadJobId?: string; reason: string };

/** Cloud Storage generations are decimal integers; anything else in an event is not a generation. */
const GENERATION = /^[0-9]{1,20}$/;

/**
 * Resolves when the event needs no further delivery (loaded, ignored, or rejected for good, each
 * logged); rejects with a TransientLoadError when a retry can help.
 */
export async function handleObjectFinalized(event: ObjectFinalizedEvent, deps: LoaderDeps): Promise<LoadResult> {
  const { log, config } = deps;
  const bucket = event.data?.bucket;
  const name = event.data?.name;
  const generation = event.data?.generation;
  const ignore = (reason: string): LoadResult => {
    log("INFO", `ignored: ${reason}`, {
      bucket,
      object: name,
      generation: typeof generation === "string" ? generation : undefined,
      eventId: event.id,
    });
    return { status: "ignored", reason };
  };
  if (event.type !== OBJECT_FINALIZED) return ignore(`event type ${event.type} is not ${OBJECT_FINALIZED}`);
  if (!bucket || !name || generation === undefined || generation === "") {
    return ignore("the event names no bucket, object and generation");
  }
  if (bucket !== config.curatedBucket)
    return ignore(`bucket ${bucket} is not the curated bucket ${config.curatedBucket}`);
  const verdict = classifyObjectName(name);
  if (!verdict.published) return ignore(verdict.reason);

  const eventFields = { bucket, object: name, eventId: event.id };
  if (typeof generation !== "string" && typeof generation !== "number") {
    return reject(
      log,
      eventFields,
      undefined,
      `the event's generation is a ${typeof generation}, not a decimal generation`,
    );
  }
  if (!GENERATION.test(String(generation))) {
    return reject(
      log,
      eventFields,
      undefined,
      `the event's generation ${JSON.stringify(String(generation).slice(0, 40))} is not decimal digits`,
    );
  }
  const object: StoredObject = { bucket, name, generation: String(generation) };
  const live = await deps.objects.liveGeneration(bucket, name);
  if (live === undefined) return ignore("the object no longer exists (a later run of the hour replaced it)");
  if (live !== object.generation) {
    return reject(
      log,
      { ...eventFields, generation: object.generation },
      undefined,
      `the event announces generation ${object.generation} but the live generation is ${live}; that generation's own event loads it`,
    );
  }
  const content = await deps.objects.read(bucket, name, object.generation);
  if (content === undefined) return ignore(`generation ${object.generation} is no longer stored`);
  const foreignRows = rowsNotOfFile(content.toString("utf8"), verdict.file);
  if (foreignRows !== undefined) {
    return reject(
      log,
      { ...eventFields, generation: object.generation, loadJobId: loadJobIdFor(object) },
      undefined,
      `${foreignRows}; nothing of the file was loaded`,
    );
  }
  if (hasNoRows(content.toString("utf8"))) {
    // A quiet hour: nothing to append (a load job of an empty CSV fails to detect its dialect on some
    // servers), but the hour is recorded as loaded with zero rows, so its freshness is kept.
    const loadJobId = loadJobIdFor(object);
    const fields = { bucket, object: name, generation: object.generation, loadJobId, eventId: event.id };
    await recordLoad(deps, object, verdict.file, loadJobId, 0, fields);
    log("INFO", "loaded", { ...fields, outputRows: 0, hour: verdict.file.hour, runId: verdict.file.runId });
    return { status: "loaded", loadJobId, outputRows: 0, redelivered: false };
  }
  for (let attempt = 0; attempt < MAX_LOAD_ATTEMPTS; attempt++) {
    const loadJobId = loadJobIdFor(object, attempt);
    const fields = { bucket, object: name, generation: object.generation, loadJobId, eventId: event.id };
    let outcome;
    try {
      outcome = await runJobOnce(deps.jobs, loadJobId, hourlyLoadConfiguration(config, object), deps.wait);
    } catch (err) {
      if (err instanceof PermanentLoadError) return reject(log, fields, loadJobId, `${err.reason}: ${err.message}`);
      throw err;
    }
    if (!outcome.succeeded) {
      const reason = `${outcome.error.reason ?? "unknown"}: ${outcome.error.message ?? ""}`;
      if (isPermanentJobError(outcome.error)) return reject(log, fields, loadJobId, reason);
      log("WARNING", `load attempt ${attempt + 1} of ${MAX_LOAD_ATTEMPTS} failed transiently`, { ...fields, reason });
      if (!outcome.alreadyExisted && attempt < MAX_LOAD_ATTEMPTS - 1) {
        throw new TransientLoadError(
          `load job ${loadJobId} failed (${reason}); a redelivery retries under the next job id`,
          outcome.error.reason ?? "unknown",
        );
      }
      continue;
    }
    const outputRows = Number(outcome.job.statistics?.load?.outputRows ?? 0);
    // The load read the live object: if it is no longer the checked generation, what went in is unknown,
    // so no lineage is recorded and the reconciliation reports the object.
    const after = await deps.objects.liveGeneration(bucket, name);
    if (after !== undefined && after !== object.generation) {
      return reject(
        log,
        fields,
        loadJobId,
        `the object was replaced by generation ${after} during its load; its rows are not in the lineage`,
      );
    }
    await recordLoad(deps, object, verdict.file, loadJobId, outputRows, fields);
    log("INFO", outcome.alreadyExisted ? "already loaded by an earlier delivery" : "loaded", {
      ...fields,
      outputRows,
      hour: verdict.file.hour,
      runId: verdict.file.runId,
    });
    return { status: "loaded", loadJobId, outputRows, redelivered: outcome.alreadyExisted };
  }
  // Every attempt id is spent on a failed job: another delivery could only find the same failures.
  const loadJobId = loadJobIdFor(object, MAX_LOAD_ATTEMPTS - 1);
  return reject(
    log,
    { bucket, object: name, generation: object.generation, loadJobId, eventId: event.id },
    loadJobId,
    `all ${MAX_LOAD_ATTEMPTS} load attempts failed; reload the object by hand after fixing the cause`,
  );
}

function reject(
  log: LoaderLog,
  fields: Record<string, string | undefined>,
  loadJobId: string | undefined,
  reason: string,
): LoadResult {
  log("ERROR", "not loaded: the file cannot be loaded as published; acknowledged without retry", { ...fields, reason });
  return { status: "rejected", loadJobId, reason };
}

async function recordLoad(
  deps: LoaderDeps,
  object: StoredObject,
  file: { hour: string; runId: string; part: number },
  loadJobId: string,
  outputRows: number,
  fields: Record<string, string | undefined>,
): Promise<void> {
  const refused = (logJobId: string, reason: string) =>
    // The rows are in; only the lineage row is missing, so the event is done (the error says which).
    deps.log("ERROR", "loaded, but its lineage row could not be recorded", { ...fields, logJobId, reason });
  for (let attempt = 0; attempt < MAX_LOAD_ATTEMPTS; attempt++) {
    const logJobId = loadLogJobIdFor(loadJobId, attempt);
    let outcome;
    try {
      outcome = await runJobOnce(
        deps.jobs,
        logJobId,
        recordLoadConfiguration(deps.config, object, file, loadJobId, outputRows),
        deps.wait,
      );
    } catch (err) {
      if (err instanceof PermanentLoadError) return refused(logJobId, err.message);
      throw err;
    }
    if (outcome.succeeded) return;
    const reason = `${outcome.error.reason ?? "unknown"}: ${outcome.error.message ?? ""}`;
    if (isPermanentJobError(outcome.error)) return refused(logJobId, reason);
    deps.log("WARNING", `lineage attempt ${attempt + 1} of ${MAX_LOAD_ATTEMPTS} failed transiently`, {
      ...fields,
      logJobId,
      reason,
    });
  }
  refused(loadLogJobIdFor(loadJobId, MAX_LOAD_ATTEMPTS - 1), `all ${MAX_LOAD_ATTEMPTS} attempts failed`);
}
