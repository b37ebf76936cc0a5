// The handler with the dependencies of a deployed instance, built from its environment at cold start: the
// configuration (a bad setting throws before any event), BigQuery through the official client, Cloud Storage
// (or, in the sandbox, a folder standing for it), the real clock and Cloud Logging's stdout lines.
import { BigQuery, BigQueryOptions } from "@google-cloud/bigquery";
import { bigQueryJobsApi } from "./bigqueryJobs";
import { handleObjectFinalized, LoadResult, LoaderDeps, ObjectFinalizedEvent } from "./hourlyLoader";
import { realWaitPolicy } from "./idempotentJob";
import { LoaderConfig, readLoaderConfig } from "./loaderConfig";
import { cloudStorageObjects, folderObjects } from "./storedObjects";
import { structuredLog } from "./structuredLog";

/** The BigQuery client's options: the project and location, and the local server's address in the sandbox. */
export function bigQueryOptions(config: LoaderConfig): BigQueryOptions {
  return {
    projectId: config.project,
    location: config.location,
    ...(config.bigqueryApiEndpoint ? { apiEndpoint: config.bigqueryApiEndpoint } : {}),
  };
}

export function deployedDeps(config: LoaderConfig): LoaderDeps {
  return {
    config,
    jobs: bigQueryJobsApi(new BigQuery(bigQueryOptions(config)), config.location),
    wait: realWaitPolicy(config.loadWaitSeconds * 1000),
    log: structuredLog,
    objects: config.localGcsRoot ? folderObjects(config.localGcsRoot) : cloudStorageObjects(),
  };
}

export function deployedHandler(env: NodeJS.ProcessEnv): (event: ObjectFinalizedEvent) => Promise<LoadResult> {
  const deps = deployedDeps(readLoaderConfig(env));
  return (event) => handleObjectFinalized(event, deps);
}
