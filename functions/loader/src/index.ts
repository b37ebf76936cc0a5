// The Cloud Function "loadHourlyActivity": Eventarc delivers the curated bucket's object-finalized
// events here. Configuration is read at cold start, so a bad setting fails the instance before any event.
import { BigQuery } from "@google-cloud/bigquery";
import * as functions from "@google-cloud/functions-framework";
import type { CloudEvent } from "@google-cloud/functions-framework";
import { bigQueryJobsApi } from "./bigqueryJobs";
import { handleObjectFinalized, LOADER_ENTRY_POINT, ObjectFinalizedEvent } from "./hourlyLoader";
import { realWaitPolicy } from "./idempotentJob";
import { readLoaderConfig } from "./loaderConfig";
import { cloudStorageObjects, folderObjects } from "./storedObjects";
import { structuredLog } from "./structuredLog";

const config = readLoaderConfig(process.env);
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

// Resolving acknowledges the event; a throw (a TransientLoadError) makes the platform deliver it again.
const loadHourlyActivity = async (event: CloudEvent<ObjectFinalizedEvent["data"]>): Promise<void> => {
  await handleObjectFinalized(event, deps);
};
functions.cloudEvent(LOADER_ENTRY_POINT, loadHourlyActivity);
