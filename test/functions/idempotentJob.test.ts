// A BigQuery job run at most once per job id (runJobOnce): inserted, or found under its id after a 409, then
// followed until done within a bounded wait. BigQuery's answers are job resources in the REST shape of
// jobs.get and errors as the client library builds them; the clock is the test's.
import { util } from "@google-cloud/common";
import { JobResource, JobsApi, TransientLoadError } from "../../functions/loader/src/bigqueryJobs";
import { realWaitPolicy, runJobOnce, WaitPolicy } from "../../functions/loader/src/idempotentJob";

const httpError = (code: number, reason?: string) =>
  util.parseHttpRespBody(
    JSON.stringify({ error: { code, message: `http ${code}`, ...(reason ? { errors: [{ reason }] } : {}) } }),
  ).err as Error;
const state = (s: string, extra: object = {}): JobResource => ({
  jobReference: { jobId: "j" },
  status: { state: s, ...extra },
});

/** A jobs API that answers the insert with `inserted` and each get with the next of `gets`; it records the calls. */
function jobs(inserted: () => Promise<JobResource>, gets: (JobResource | Error)[] = []) {
  const calls: string[] = [];
  const api: JobsApi = {
    insert: async (jobId, configuration) => {
      calls.push(`insert ${jobId} ${JSON.stringify(configuration)}`);
      return inserted();
    },
    get: async (jobId) => {
      calls.push(`get ${jobId}`);
      const next = gets.shift();
      if (next === undefined) throw new Error("no more answers");
      if (next instanceof Error) throw next;
      return next;
    },
  };
  return { api, calls };
}

/** The test's clock: each sleep moves it on and is recorded. */
function clock(maxWaitMs = 60_000): WaitPolicy & { slept: number[] } {
  let now = 1_000_000;
  const slept: number[] = [];
  return {
    maxWaitMs,
    slept,
    now: () => now,
    sleep: async (ms) => {
      slept.push(ms);
      now += ms;
    },
  };
}

describe("a job run once per id", () => {
  it("inserts the job and returns it when it is done at once", async () => {
    const { api, calls } = jobs(async () => state("DONE"));
    const wait = clock();
    expect(await runJobOnce(api, "j", { load: {} }, wait)).toEqual({
      succeeded: true,
      job: state("DONE"),
      alreadyExisted: false,
    });
    expect(calls).toEqual(['insert j {"load":{}}']);
    expect(wait.slept).toEqual([]);
  });

  it("follows a running job, waiting twice as long each time up to 5 s, until it is done", async () => {
    const running = state("RUNNING");
    const { api, calls } = jobs(
      async () => state("PENDING"),
      [running, running, running, running, running, state("DONE")],
    );
    const wait = clock();
    const outcome = await runJobOnce(api, "j", {}, wait);
    expect(outcome.succeeded).toBe(true);
    expect(wait.slept).toEqual([500, 1000, 2000, 4000, 5000, 5000]);
    expect(calls.filter((c) => c === "get j")).toHaveLength(6);
  });

  it("finds the job that already holds the id when the insert is refused as a duplicate", async () => {
    const { api, calls } = jobs(() => Promise.reject(httpError(409, "duplicate")), [state("DONE")]);
    expect(await runJobOnce(api, "j", {}, clock())).toEqual({
      succeeded: true,
      job: state("DONE"),
      alreadyExisted: true,
    });
    expect(calls).toEqual(["insert j {}", "get j"]);
  });

  it("returns a job that ended with an error as failed, with that error", async () => {
    const errorResult = { reason: "invalid", message: "bad row" };
    const { api } = jobs(async () => state("DONE", { errorResult }));
    expect(await runJobOnce(api, "j", {}, clock())).toEqual({
      succeeded: false,
      error: errorResult,
      alreadyExisted: false,
    });
  });

  it("turns a refused insert or get into a permanent or transient load error, as the answer's code says", async () => {
    await expect(
      runJobOnce(jobs(() => Promise.reject(httpError(400, "invalid"))).api, "j", {}, clock()),
    ).rejects.toMatchObject({ name: "PermanentLoadError", reason: "invalid" });
    await expect(runJobOnce(jobs(() => Promise.reject(httpError(503))).api, "j", {}, clock())).rejects.toBeInstanceOf(
      TransientLoadError,
    );
    const failedGet = jobs(async () => state("RUNNING"), [httpError(500, "backendError")]);
    await expect(runJobOnce(failedGet.api, "j", {}, clock())).rejects.toMatchObject({
      name: "TransientLoadError",
      reason: "backendError",
    });
    const failedFind = jobs(() => Promise.reject(httpError(409, "duplicate")), [httpError(403, "accessDenied")]);
    await expect(runJobOnce(failedFind.api, "j", {}, clock())).rejects.toMatchObject({
      name: "TransientLoadError",
      reason: "accessDenied",
    });
  });

  it("gives up with a transient error, for a redelivery to check again, once the wait reaches its bound", async () => {
    const running = state("RUNNING");
    // 500 + 1000 + 2000 + 4000 = 7500 ms: the bound is reached exactly, and no further get is made.
    const { api, calls } = jobs(async () => running, [running, running, running, running, state("DONE")]);
    const wait = clock(7_500);
    const err = (await runJobOnce(api, "j", {}, wait).catch((e: unknown) => e)) as TransientLoadError;
    expect(err).toBeInstanceOf(TransientLoadError);
    expect(err.reason).toBe("stillRunning");
    expect(err.message).toBe("job j is still RUNNING after 8 s; a redelivery will check it again");
    expect(wait.slept).toEqual([500, 1000, 2000, 4000]);
    expect(calls.filter((c) => c === "get j")).toHaveLength(4);
  });

  it("names a job without a state as in an unknown state when it gives up", async () => {
    const { api } = jobs(async () => ({ jobReference: { jobId: "j" } }));
    await expect(runJobOnce(api, "j", {}, clock(0))).rejects.toThrow(
      "job j is still in an unknown state after 0 s; a redelivery will check it again",
    );
  });
});

describe("the real wait policy", () => {
  it("keeps its bound, reads the wall clock and sleeps for as long as it is asked", async () => {
    const wait = realWaitPolicy(60_000);
    expect(wait.maxWaitMs).toBe(60_000);
    expect(Math.abs(wait.now() - Date.now())).toBeLessThan(1000);
    const before = Date.now();
    await wait.sleep(50);
    expect(Date.now() - before).toBeGreaterThanOrEqual(45);
  });
});
