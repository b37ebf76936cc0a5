import { readLoaderConfig } from "../../functions/loader/src/loaderConfig";
import { VALID_LOADER_ENV } from "./loaderEnvironment";

const valid = VALID_LOADER_ENV;

describe("the loader's configuration", () => {
  test("is read from the environment, with defaults for the optional settings", () => {
    expect(readLoaderConfig(valid)).toEqual({
      project: "my-project-123",
      dataset: "clickstream",
      location: "EU",
      hourlyTable: "hourly_activity",
      loadLogTable: "hourly_activity_loads",
      curatedBucket: "my-project-123-curated",
      bigqueryApiEndpoint: undefined,
      loadWaitSeconds: 300,
    });
    expect(
      readLoaderConfig({ ...valid, BIGQUERY_API_ENDPOINT: "http://127.0.0.1:9050", LOAD_WAIT_SECONDS: "20" }),
    ).toMatchObject({
      bigqueryApiEndpoint: "http://127.0.0.1:9050",
      loadWaitSeconds: 20,
    });
  });

  test("accepts the bounds of the wait, an endpoint with a trailing slash, and trims what it reads", () => {
    expect(readLoaderConfig({ ...valid, LOAD_WAIT_SECONDS: "1" }).loadWaitSeconds).toBe(1);
    expect(readLoaderConfig({ ...valid, LOAD_WAIT_SECONDS: " 3600 " }).loadWaitSeconds).toBe(3600);
    expect(readLoaderConfig({ ...valid, LOAD_WAIT_SECONDS: "  " }).loadWaitSeconds).toBe(300);
    expect(readLoaderConfig({ ...valid, BIGQUERY_API_ENDPOINT: " https://bq.example:443/ " }).bigqueryApiEndpoint).toBe(
      "https://bq.example:443/",
    );
    expect(readLoaderConfig({ ...valid, BIGQUERY_API_ENDPOINT: "   " }).bigqueryApiEndpoint).toBeUndefined();
    expect(readLoaderConfig({ ...valid, LOCAL_GCS_ROOT: " /tmp/gcs " }).localGcsRoot).toBe("/tmp/gcs");
    expect(readLoaderConfig({ ...valid, LOCAL_GCS_ROOT: "  " }).localGcsRoot).toBeUndefined();
  });

  test("names a variable set to blanks as not set", () => {
    expect(() => readLoaderConfig({ ...valid, WAREHOUSE_DATASET: "   " })).toThrow(
      "Loader configuration: environment variable WAREHOUSE_DATASET is not set; it must be a BigQuery dataset id (letters, digits, underscores).",
    );
  });

  test.each(Object.keys(valid))("without %s fails with one sentence naming it", (name) => {
    const env: Record<string, string> = { ...valid };
    delete env[name];
    expect(() => readLoaderConfig(env)).toThrow(
      new RegExp(`^Loader configuration: environment variable ${name} is not set; it must be [^.]+\\.$`),
    );
  });

  test.each([
    ["WAREHOUSE_DATASET", "click-stream"],
    ["HOURLY_TABLE", "hourly activity"],
    ["CURATED_BUCKET", "Curated_Bucket"],
    ["BIGQUERY_API_ENDPOINT", "127.0.0.1:9050"],
    ["BIGQUERY_API_ENDPOINT", "http://127.0.0.1:9050/bigquery"],
    ["BIGQUERY_API_ENDPOINT", "see http://127.0.0.1:9050"],
    ["LOAD_WAIT_SECONDS", "0"],
    ["LOAD_WAIT_SECONDS", "3601"],
    ["LOAD_WAIT_SECONDS", "ten"],
    ["LOAD_WAIT_SECONDS", "x10"],
    ["LOAD_WAIT_SECONDS", "10x"],
  ])("an invalid %s (%s) fails with one sentence naming it", (name, value) => {
    expect(() => readLoaderConfig({ ...valid, [name]: value })).toThrow(
      new RegExp(`^Loader configuration: ${name}=".*" is invalid; it must be .+\\.$`),
    );
  });
});
