// The loader's settings, read once at cold start from the environment the stack sets.

export interface LoaderConfig {
  project: string;
  dataset: string;
  location: string;
  hourlyTable: string;
  loadLogTable: string;
  curatedBucket: string;
  /** only for the local sandbox and tests; the cloud uses the default endpoint */
  bigqueryApiEndpoint?: string;
  /** only for the local sandbox and tests: the folder that stands for Cloud Storage (one subfolder per bucket) */
  localGcsRoot?: string;
  /** how long one delivery waits for a running load before throwing, so that a redelivery checks again */
  loadWaitSeconds: number;
}

const PROJECT = /^[a-z][a-z0-9-]{4,28}[a-z0-9]$|^[a-z0-9.:-]{1,63}$/;
const DATASET_OR_TABLE = /^[A-Za-z0-9_]{1,1024}$/;
const BUCKET = /^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$/;
const LOCATION = /^[A-Za-z][A-Za-z0-9-]{1,40}$/;

/** Reads and checks every setting; throws one sentence naming the variable and what it accepts. */
export function readLoaderConfig(env: NodeJS.ProcessEnv): LoaderConfig {
  const required = (name: string, pattern: RegExp, accepts: string): string => {
    const value = env[name];
    if (value === undefined || value.trim() === "") {
      throw new Error(`Loader configuration: environment variable ${name} is not set; it must be ${accepts}.`);
    }
    if (!pattern.test(value)) {
      throw new Error(`Loader configuration: ${name}=${JSON.stringify(value)} is invalid; it must be ${accepts}.`);
    }
    return value;
  };
  const endpoint = env.BIGQUERY_API_ENDPOINT?.trim() || undefined;
  if (endpoint !== undefined && !/^https?:\/\/[^/\s]+\/?$/.test(endpoint)) {
    throw new Error(
      `Loader configuration: BIGQUERY_API_ENDPOINT=${JSON.stringify(endpoint)} is invalid; it must be a URL like http://127.0.0.1:9050 or be unset.`,
    );
  }
  const waitText = env.LOAD_WAIT_SECONDS?.trim() || "300";
  const loadWaitSeconds = Number(waitText);
  if (!/^\d+$/.test(waitText) || loadWaitSeconds < 1 || loadWaitSeconds > 3600) {
    throw new Error(
      `Loader configuration: LOAD_WAIT_SECONDS=${JSON.stringify(waitText)} is invalid; it must be a whole number of seconds from 1 to 3600.`,
    );
  }
  return {
    project: required("WAREHOUSE_PROJECT", PROJECT, "a Google Cloud project id"),
    dataset: required("WAREHOUSE_DATASET", DATASET_OR_TABLE, "a BigQuery dataset id (letters, digits, underscores)"),
    location: required("WAREHOUSE_LOCATION", LOCATION, "the location of the dataset, such as EU, US or europe-west1"),
    hourlyTable: required("HOURLY_TABLE", DATASET_OR_TABLE, "a BigQuery table id (letters, digits, underscores)"),
    loadLogTable: required("LOAD_LOG_TABLE", DATASET_OR_TABLE, "a BigQuery table id (letters, digits, underscores)"),
    curatedBucket: required("CURATED_BUCKET", BUCKET, "the curated bucket's name"),
    bigqueryApiEndpoint: endpoint,
    localGcsRoot: env.LOCAL_GCS_ROOT?.trim() || undefined,
    loadWaitSeconds,
  };
}
