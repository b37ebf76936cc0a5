// A complete, valid environment of the loader function, as the stack sets it (tests change one key at a time).
export const VALID_LOADER_ENV: Readonly<Record<string, string>> = {
  WAREHOUSE_PROJECT: "my-project-123",
  WAREHOUSE_DATASET: "clickstream",
  WAREHOUSE_LOCATION: "EU",
  HOURLY_TABLE: "hourly_activity",
  LOAD_LOG_TABLE: "hourly_activity_loads",
  CURATED_BUCKET: "my-project-123-curated",
};
