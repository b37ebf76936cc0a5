// The loader's adapter over the official BigQuery client (bigQueryJobsApi), judged on the two client calls it
// makes. The client stands in here because it cannot run inside jest (its HTTP layer loads node-fetch by a
// dynamic import, which jest refuses without --experimental-vm-modules); its errors are the library's own
// ApiError, built as createJob builds them. The real client against the local BigQuery server is the
// integration test's (loader.integration.test.ts); what the answers mean is hourlyLoader.test.ts's.
import { BigQuery } from "@google-cloud/bigquery";
import { util } from "@google-cloud/common";
import {
  bigQueryJobsApi,
  classifyRequestError,
  isJobAlreadyExists,
  isPermanentJobError,
  JobResource,
  PermanentLoadError,
  TransientLoadError,
} from "../../functions/loader/src/bigqueryJobs";

interface Calls {
  created: unknown[];
  jobs: [string, unknown][];
}

/** A client whose createJob settles as `insert` says and whose job metadata is `metadata`. */
function client(insert: () => Promise<[unknown, JobResource]>, metadata: () => Promise<[JobResource]>) {
  const calls: Calls = { created: [], jobs: [] };
  const fake = {
    createJob(options: unknown) {
      calls.created.push(options);
      return insert();
    },
    job(id: string, options: unknown) {
      calls.jobs.push([id, options]);
      return { getMetadata: metadata };
    },
  };
  return { calls, api: bigQueryJobsApi(fake as unknown as BigQuery, "EU") };
}

const job = (state: string, status: object = {}): JobResource => ({
  jobReference: { projectId: "p", jobId: "load-1", location: "EU" },
  status: { state, ...status },
});
const never = () => Promise.reject(new Error("not called"));

/** What createJob rejects with for a job that came back with status.errors: an ApiError whose response is the job. */
const failedJobError = (resource: JobResource) =>
  new util.ApiError({ errors: resource.status?.errors, response: resource as never } as never);

/** What the client rejects with for an HTTP error answer. */
const httpError = (body: object) => util.parseHttpRespBody(JSON.stringify(body)).err as Error;

describe("the BigQuery jobs adapter", () => {
  it("creates the job under the chosen id, in the location, with the configuration as given, and returns its resource", async () => {
    const { api, calls } = client(() => Promise.resolve([{}, job("RUNNING")]), never);
    const configuration = { load: { sourceUris: ["gs://b/o"], writeDisposition: "WRITE_APPEND" } };
    expect(await api.insert("load-1", configuration)).toEqual(job("RUNNING"));
    expect(calls.created).toEqual([{ jobId: "load-1", location: "EU", configuration }]);
  });

  it("returns a job that came back failed as the job, not as a failed request", async () => {
    const failed = job("DONE", {
      errorResult: { reason: "invalid" },
      errors: [{ reason: "invalid", message: "bad row" }],
    });
    const { api } = client(() => Promise.reject(failedJobError(failed)), never);
    expect(await api.insert("load-1", {})).toEqual(failed);
  });

  it("rejects with the client's error when the id is taken, which the loader reads as already existing", async () => {
    const taken = httpError({
      error: { code: 409, message: "Already Exists: Job p:EU.load-1", errors: [{ reason: "duplicate" }] },
    });
    const { api } = client(() => Promise.reject(taken), never);
    const err = await api.insert("load-1", {}).catch((e: unknown) => e);
    expect(err).toBe(taken);
    expect(isJobAlreadyExists(err)).toBe(true);
  });

  it("rejects an error that carries no job outcome: a refused request, or a response without a status, a state or a job reference", async () => {
    const refused = httpError({
      error: { code: 400, message: "Invalid configuration", errors: [{ reason: "invalid" }] },
    });
    const noState = failedJobError({ jobReference: { jobId: "load-1" }, status: {} });
    const noReference = failedJobError({ status: { state: "DONE" } });
    const noStatus = failedJobError({ jobReference: { jobId: "load-1" } });
    for (const err of [refused, noState, noReference, noStatus]) {
      const { api } = client(() => Promise.reject(err), never);
      await expect(api.insert("load-1", {})).rejects.toBe(err);
    }
  });

  it("gets a job by id in its location", async () => {
    const { api, calls } = client(never, () => Promise.resolve([job("DONE")]));
    expect(await api.get("load-1")).toEqual(job("DONE"));
    expect(calls.jobs).toEqual([["load-1", { location: "EU" }]]);
  });
});

describe("what BigQuery's answers mean", () => {
  it.each([
    ["a 409", { code: 409, message: "Already Exists" }, true],
    ["a duplicate reason among others", { code: 400, errors: [{ reason: "invalid" }, { reason: "duplicate" }] }, true],
    ["another refusal", { code: 400, errors: [{ reason: "invalid" }] }, false],
    ["a 409 with an empty error list", { code: 409, errors: [] }, true],
    ["no error list at all", { code: 500 }, false],
    ["null", null, false],
    ["a bare string", "409", false],
  ])("a job id is taken when the answer is %s: %s", (_what, err, taken) => {
    expect(isJobAlreadyExists(err)).toBe(taken);
  });

  it.each([
    [
      "a 400 for an invalid request",
      { code: 400, message: "bad", errors: [{ reason: "invalid" }] },
      "permanent",
      "invalid",
      "bad",
    ],
    [
      "a 400 for throttling",
      { code: 400, message: "slow down", errors: [{ reason: "rateLimitExceeded" }] },
      "transient",
      "rateLimitExceeded",
      "slow down",
    ],
    [
      "a 503 without reasons",
      { code: 503, message: "unavailable", errors: [] },
      "transient",
      "http 503",
      "unavailable",
    ],
    ["a network error", { code: "ECONNRESET", message: "socket hang up" }, "transient", "ECONNRESET", "socket hang up"],
    ["an error without code or message", {}, "transient", "http error", "unknown error"],
    ["a thrown string", "boom", "transient", "http error", "boom"],
    ["a thrown null", null, "transient", "http error", "null"],
  ])("a failed request that is %s is %s, with its reason and message", (_what, err, kind, reason, message) => {
    const classified = classifyRequestError(err);
    expect(classified).toBeInstanceOf(kind === "permanent" ? PermanentLoadError : TransientLoadError);
    expect([classified.reason, classified.message]).toEqual([reason, message]);
  });

  it.each([
    [{ reason: "invalid", message: "bad row" }, true],
    [{ reason: "invalidQuery", message: "syntax" }, true],
    [{ reason: "duplicate", message: "twice" }, true],
    [{ reason: "notFound", location: "gs://b/hourly/x.csv", message: "gone" }, true],
    [{ reason: "notFound", message: "Not found: URI gs://b/hourly/x.csv" }, true],
    [{ reason: "notFound", message: "Not found: Files gs://b/hourly/x.csv" }, true],
    [{ reason: "notFound", message: "Not found: File gs://b/hourly/x.csv" }, true],
    [{ reason: "notFound", message: "not found: uri gs://b/hourly/x.csv" }, true],
    [{ reason: "notFound", location: "hourly_activity", message: "Not found: Table p:d.hourly_activity" }, false],
    [{ reason: "notFound", location: "x gs://", message: "Not found: Dataset p:d" }, false],
    [{ reason: "notFound" }, false],
    [{ reason: "backendError", location: "gs://b/x.csv", message: "Not found: URI gs://b/x.csv" }, false],
    [{ message: "no reason" }, false],
  ])("a job that ended with %j failed for good: %s", (error, permanent) => {
    expect(isPermanentJobError(error)).toBe(permanent);
  });
});
