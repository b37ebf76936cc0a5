// The loader's adapter over the official BigQuery client (bigQueryJobsApi), judged on the two client calls it
// makes. The client stands in here because it cannot run inside jest (its HTTP layer loads node-fetch by a
// dynamic import, which jest refuses without --experimental-vm-modules); its errors are the library's own
// ApiError, built as createJob builds them. The real client against the local BigQuery server is the
// integration test's (loader.integration.test.ts); what the answers mean is hourlyLoader.test.ts's.
import { BigQuery } from "@google-cloud/bigquery";
import { util } from "@google-cloud/common";
import { bigQueryJobsApi, isJobAlreadyExists, JobResource } from "../../functions/loader/src/bigqueryJobs";

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

  it("rejects an error that carries no job outcome: a refused request, or a response without a state or a job reference", async () => {
    const refused = httpError({
      error: { code: 400, message: "Invalid configuration", errors: [{ reason: "invalid" }] },
    });
    const noState = failedJobError({ jobReference: { jobId: "load-1" }, status: {} });
    const noReference = failedJobError({ status: { state: "DONE" } });
    for (const err of [refused, noState, noReference]) {
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
