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
    ["LOAD_WAIT_SECONDS", "0"],
    ["LOAD_WAIT_SECONDS", "ten"],
  ])("an invalid %s (%s) fails with one sentence naming it", (name, value) => {
    expect(() => readLoaderConfig({ ...valid, [name]: value })).toThrow(
      new RegExp(`^Loader configuration: ${name}=".*" is invalid; it must be .+\\.$`),
    );
  });
});
