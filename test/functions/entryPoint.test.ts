// The function's entry point (functions/loader/src/index.ts) loaded in this process, as the Functions
// Framework loads it: it reads its configuration once, registers the handler under the deployed entry point,
// and that handler takes each event through the real dependencies (here the folder standing for Cloud
// Storage). Its BigQuery client talks to the local BigQuery server in loader.integration.test.ts, which runs
// the function in a process of its own.
import type { CloudEvent } from "@google-cloud/functions-framework";
import type { HandlerFunction } from "@google-cloud/functions-framework";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LOADER_ENTRY_POINT } from "../../functions/loader/src/hourlyLoader";
import { VALID_LOADER_ENV } from "./loaderEnvironment";

const NAME = "hourly/dt=2026-11-26/hr=07/run_id=20261126T150512123456Z/part-00000.csv";

test("registers the handler under the entry point, which takes events through its configured dependencies", async () => {
  const gcs = mkdtempSync(join(tmpdir(), "entry-point-"));
  const saved = { ...process.env };
  const written: string[] = [];
  const write = jest.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
    written.push(String(chunk));
    return true;
  });
  try {
    Object.assign(process.env, VALID_LOADER_ENV, { LOCAL_GCS_ROOT: gcs });
    // A registry of its own, loaded with the function as a fresh instance loads it.
    let registered: HandlerFunction | undefined;
    jest.isolateModules(() => {
      /* eslint-disable @typescript-eslint/no-require-imports */
      require("../../functions/loader/src/index");
      registered = require("@google-cloud/functions-framework/testing").getFunction(LOADER_ENTRY_POINT);
      /* eslint-enable @typescript-eslint/no-require-imports */
    });
    const handler = registered as unknown as (event: CloudEvent<unknown>) => Promise<void>;
    expect(handler).toBeInstanceOf(Function);
    await handler({
      specversion: "1.0",
      type: "google.cloud.storage.object.v1.finalized",
      source: "//storage.googleapis.com/projects/_/buckets/my-project-123-curated",
      id: "42",
      data: { bucket: VALID_LOADER_ENV.CURATED_BUCKET, name: NAME, generation: "1764169512123456" },
    });
  } finally {
    write.mockRestore();
    process.env = saved;
    rmSync(gcs, { recursive: true, force: true });
  }
  // The folder holds no such object: the handler asked it, and logged the answer as Cloud Logging reads it.
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
