// Runs a BigQuery job at most once per job id: insert it, or on 409 find the job that already has the
// id, then wait (bounded) for it to finish.
import {
  classifyRequestError,
  isJobAlreadyExists,
  JobError,
  JobResource,
  JobsApi,
  TransientLoadError,
} from "./bigqueryJobs";

export type JobOutcome =
  | { succeeded: true; job: JobResource; alreadyExisted: boolean }
  | { succeeded: false; error: JobError; alreadyExisted: boolean };

export interface WaitPolicy {
  /** give up waiting (and throw a transient error) after this long */
  maxWaitMs: number;
  sleep(ms: number): Promise<void>;
  now(): number;
}

export const realWaitPolicy = (maxWaitMs: number): WaitPolicy => ({
  maxWaitMs,
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  now: () => Date.now(),
});

export async function runJobOnce(
  api: JobsApi,
  jobId: string,
  configuration: Record<string, unknown>,
  wait: WaitPolicy,
): Promise<JobOutcome> {
  let job: JobResource;
  let alreadyExisted = false;
  try {
    job = await api.insert(jobId, configuration);
  } catch (err) {
    if (!isJobAlreadyExists(err)) throw classifyRequestError(err);
    // A redelivery, or an insert the client retried after the first attempt got through: the job that
    // holds this id decides the outcome.
    alreadyExisted = true;
    job = await getJob(api, jobId);
  }
  const started = wait.now();
  let pause = 500;
  while (job.status?.state !== "DONE") {
    if (wait.now() - started >= wait.maxWaitMs) {
      throw new TransientLoadError(
        `job ${jobId} is still ${job.status?.state ?? "in an unknown state"} after ${Math.round(wait.maxWaitMs / 1000)} s; a redelivery will check it again`,
        "stillRunning",
      );
    }
    await wait.sleep(pause);
    pause = Math.min(pause * 2, 5000);
    job = await getJob(api, jobId);
  }
  const error = job.status.errorResult;
  return error ? { succeeded: false, error, alreadyExisted } : { succeeded: true, job, alreadyExisted };
}

async function getJob(api: JobsApi, jobId: string): Promise<JobResource> {
  try {
    return await api.get(jobId);
  } catch (err) {
    throw classifyRequestError(err);
  }
}
