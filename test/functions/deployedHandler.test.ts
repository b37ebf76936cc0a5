// The handler as a deployed instance builds it from its environment (deployedHandler.ts, which the entry point
// registers): the configuration read once, and each event taken through the real dependencies, here the folder
// standing for Cloud Storage. Its BigQuery client talks to the local BigQuery server in
// loader.integration.test.ts, which runs the function as the Functions Framework serves it.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bigQueryOptions, deployedDeps, deployedHandler } from "../../functions/loader/src/deployedHandler";
import { readLoaderConfig } from "../../functions/loader/src/loaderConfig";
import { VALID_LOADER_ENV } from "./loaderEnvironment";

const NAME = "hourly/dt=2026-11-26/hr=07/run_id=20261126T150512123456Z/part-00000.csv";

test("reads its configuration at once, and takes each event through the folder it names, logging as Cloud Logging reads", async () => {
  expect(() => deployedHandler({ ...VALID_LOADER_ENV, WAREHOUSE_DATASET: "click-stream" })).toThrow(
    /^Loader configuration: WAREHOUSE_DATASET="click-stream" is invalid/,
  );
  const gcs = mkdtempSync(join(tmpdir(), "deployed-handler-"));
  const written: string[] = [];
  const write = jest.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
    written.push(String(chunk));
    return true;
  });
  try {
    const handle = deployedHandler({ ...VALID_LOADER_ENV, LOCAL_GCS_ROOT: gcs });
    const result = await handle({
      type: "google.cloud.storage.object.v1.finalized",
      id: "42",
      data: { bucket: VALID_LOADER_ENV.CURATED_BUCKET, name: NAME, generation: "1764169512123456" },
    });
    expect(result).toEqual({
      status: "ignored",
      reason: "the object no longer exists (a later run of the hour replaced it)",
    });
  } finally {
    write.mockRestore();
    rmSync(gcs, { recursive: true, force: true });
  }
  // The folder holds no such object: the handler asked it, and logged the answer.
  expect(written.map((line) => JSON.parse(line))).toEqual([
    {
      severity: "INFO",
      message: "ignored: the object no longer exists (a later run of the hour replaced it)",
      bucket: VALID_LOADER_ENV.CURATED_BUCKET,
      object: NAME,
      generation: "1764169512123456",
      eventId: "42",
    },
  ]);
});

test("gives the BigQuery client the project, the location and, when set, the local server's address", () => {
  const config = readLoaderConfig(VALID_LOADER_ENV);
  expect(bigQueryOptions(config)).toEqual({ projectId: "my-project-123", location: "EU" });
  expect(bigQueryOptions({ ...config, bigqueryApiEndpoint: "http://127.0.0.1:9050" })).toEqual({
    projectId: "my-project-123",
    location: "EU",
    apiEndpoint: "http://127.0.0.1:9050",
  });
});

test("waits for a load as long as the configuration says, in milliseconds", () => {
  const config = readLoaderConfig({ ...VALID_LOADER_ENV, LOAD_WAIT_SECONDS: "20" });
  expect(deployedDeps(config).wait.maxWaitMs).toBe(20000);
});
