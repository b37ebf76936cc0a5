// The handler with the dependencies of a deployed instance, built from its environment at cold start: the
// configuration (a bad setting throws before any event), BigQuery through the official client, Cloud Storage
// (or, in the sandbox, a folder standing for it), the real clock and Cloud Logging's stdout lines.
import { BigQuery } from "@google-cloud/bigquery";
import { bigQueryJobsApi } from "./bigqueryJobs";
import { handleObjectFinalized, LoadResult, ObjectFinalizedEvent } from "./hourlyLoader";
import { realWaitPolicy } from "./idempotentJob";
import { readLoaderConfig } from "./loaderConfig";
import { cloudStorageObjects, folderObjects } from "./storedObjects";
import { structuredLog } from "./structuredLog";

export function deployedHandler(env: NodeJS.ProcessEnv): (event: ObjectFinalizedEvent) => Promise<LoadResult> {
  const config = readLoaderConfig(env);
  const bigquery = new BigQuery({
    projectId: config.project,
    location: config.location,
    ...(config.bigqueryApiEndpoint ? { apiEndpoint: config.bigqueryApiEndpoint } : {}),
  });
  const deps = {
    config,
    jobs: bigQueryJobsApi(bigquery, config.location),
    wait: realWaitPolicy(config.loadWaitSeconds * 1000),
    log: structuredLog,
    objects: config.localGcsRoot ? folderObjects(config.localGcsRoot) : cloudStorageObjects(),
  };
  return (event) => handleObjectFinalized(event, deps);
}
