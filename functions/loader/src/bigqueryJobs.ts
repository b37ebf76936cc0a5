// BigQuery jobs as the loader sees them: insert under a chosen id, get by id, and what their answers
// mean (already exists, transient, permanent). Shapes follow the REST API (jobs.insert / jobs.get).
import { BigQuery } from "@google-cloud/bigquery";

export interface JobError {
  reason?: string;
  message?: string;
  location?: string;
}

export interface JobResource {
  jobReference?: { projectId?: string; jobId?: string; location?: string };
  status?: { state?: string; errorResult?: JobError; errors?: JobError[] };
  statistics?: { load?: { outputRows?: string }; query?: { numDmlAffectedRows?: string } };
}

/** The two calls the loader makes; the adapter below binds them to the official client. */
export interface JobsApi {
  /** jobs.insert; rejects with the client's ApiError on an HTTP error (409 when the id is taken) */
  insert(jobId: string, configuration: Record<string, unknown>): Promise<JobResource>;
  /** jobs.get */
  get(jobId: string): Promise<JobResource>;
}

/** Retrying cannot help: the file or the request is wrong. Logged and acknowledged. */
export class PermanentLoadError extends Error {
  constructor(
    message: string,
    readonly reason: string,
  ) {
    super(message);
    this.name = "PermanentLoadError";
  }
}

/** Worth another delivery: thrown out of the handler so the platform retries the event. */
export class TransientLoadError extends Error {
  constructor(
    message: string,
    readonly reason: string,
  ) {
    super(message);
    this.name = "TransientLoadError";
  }
}

interface ApiErrorLike {
  code?: number | string;
  message?: string;
  errors?: JobError[];
}

function asApiError(err: unknown): ApiErrorLike {
  return typeof err === "object" && err !== null ? (err as ApiErrorLike) : { message: String(err) };
}

/** jobs.insert answers 409 with reason "duplicate" when the job id already names a job. */
export function isJobAlreadyExists(err: unknown): boolean {
  const e = asApiError(err);
  return e.code === 409 || (e.errors ?? []).some((x) => x.reason === "duplicate");
}

/**
 * An HTTP-level failure of jobs.insert / jobs.get. Only a 400 (the request itself is invalid, e.g. a
 * schema the table rejects) is permanent; throttling, 5xx, network errors and permission or
 * not-found answers (the stack may still be converging) are retried by the platform.
 */
export function classifyRequestError(err: unknown): PermanentLoadError | TransientLoadError {
  const e = asApiError(err);
  const reason = e.errors?.[0]?.reason ?? (typeof e.code === "string" ? e.code : `http ${e.code ?? "error"}`);
  const message = e.message ?? "unknown error";
  if (e.code === 400 && reason !== "rateLimitExceeded") {
    return new PermanentLoadError(message, reason);
  }
  return new TransientLoadError(message, reason);
}

// Job error reasons that describe the input (https://cloud.google.com/bigquery/docs/error-messages).
const PERMANENT_JOB_REASONS = new Set(["invalid", "invalidQuery", "duplicate"]);

/**
 * Whether a failed job's errorResult is worth another attempt. "invalid" (bad rows, schema mismatch)
 * is permanent, and so is "notFound" for the source URI (the object was removed, e.g. superseded by a
 * rerun); "notFound" for the table or dataset, internal errors, quota and throttling are transient.
 */
export function isPermanentJobError(error: JobError): boolean {
  const reason = error.reason ?? "";
  if (PERMANENT_JOB_REASONS.has(reason)) return true;
  if (reason === "notFound") {
    return (error.location ?? "").startsWith("gs://") || /Not found: (URI|Files?)/i.test(error.message ?? "");
  }
  return false;
}

/** The adapter over the official client: the raw REST job resource in, the raw job resource out. */
export function bigQueryJobsApi(bigquery: BigQuery, location: string): JobsApi {
  return {
    async insert(jobId, configuration) {
      try {
        const [, resource] = await bigquery.createJob({ jobId, location, configuration } as never);
        return resource as JobResource;
      } catch (err) {
        // The client turns a job that came back with status.errors into an ApiError whose response is
        // the job resource itself; that is a job outcome, not a request failure.
        const response = (err as { response?: JobResource }).response;
        if (response?.status?.state !== undefined && response.jobReference !== undefined) return response;
        throw err;
      }
    },
    async get(jobId) {
      const [metadata] = await bigquery.job(jobId, { location }).getMetadata();
      return metadata as JobResource;
    },
  };
}
