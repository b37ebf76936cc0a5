// The loader's stdout lines, as Cloud Logging turns them into entries, match the patterns the deployed
// log-based metrics count (contract/log-lines.json): a reworded line fails here instead of silencing an alert.
import { FILE_REJECTED, HOUR_LOADED, LogLine, matches } from "../../contract/logLines";
import { JobResource, JobsApi } from "../../functions/loader/src/bigqueryJobs";
import { handleObjectFinalized, LoaderDeps } from "../../functions/loader/src/hourlyLoader";
import { structuredLog } from "../../functions/loader/src/structuredLog";
import { objectsHolding } from "./objectsHolding";

const CURATED = "my-project-curated";
const event = {
  type: "google.cloud.storage.object.v1.finalized",
  id: "7331",
  data: {
    bucket: CURATED,
    name: "hourly/dt=2026-11-26/hr=07/run_id=20261126T150512123456Z/part-00000.csv",
    generation: "1764169512123456",
  },
};

/** One row of the hour and run its name carries (a file with no row runs no load job at all). */
const HOUR_FILE = "2026-11-26 07:00:00,P000001,3,1,20261126T150512123456Z\n";

/** BigQuery answering every job insert with the same finished job. */
const jobsEnding = (status: JobResource["status"], outputRows?: string): JobsApi => {
  const finished = (jobId: string): JobResource => ({
    jobReference: { jobId },
    status,
    statistics: outputRows ? { load: { outputRows } } : {},
  });
  return { insert: async (jobId) => finished(jobId), get: async (jobId) => finished(jobId) };
};

/** The LogEntry Cloud Logging makes of each JSON line on stdout: `severity` lifted out, the rest in jsonPayload. */
async function entriesWritten(jobs: JobsApi): Promise<{ severity: string; jsonPayload: Record<string, unknown> }[]> {
  const deps: LoaderDeps = {
    config: {
      project: "my-project",
      dataset: "clickstream",
      location: "EU",
      hourlyTable: "hourly_activity",
      loadLogTable: "hourly_activity_loads",
      curatedBucket: CURATED,
      loadWaitSeconds: 60,
    },
    jobs,
    wait: { maxWaitMs: 1000, now: () => 0, sleep: async () => undefined },
    log: structuredLog,
    objects: objectsHolding({
      [`${CURATED}/${event.data.name}`]: { generation: event.data.generation, content: HOUR_FILE },
    }),
  };
  const written: string[] = [];
  const spy = jest
    .spyOn(process.stdout, "write")
    .mockImplementation((chunk: string | Uint8Array) => (written.push(String(chunk)), true));
  try {
    await handleObjectFinalized(event, deps);
  } finally {
    spy.mockRestore();
  }
  return written
    .join("")
    .split("\n")
    .filter(Boolean)
    .map((line) => {
      const { severity, ...jsonPayload } = JSON.parse(line) as Record<string, unknown>;
      return { severity: String(severity), jsonPayload };
    });
}

/** The value at a LogEntry field path such as jsonPayload.message. */
const fieldOf = (entry: object, path: string): unknown =>
  path.split(".").reduce<unknown>((v, key) => (v as Record<string, unknown> | undefined)?.[key], entry);
const matching = (entries: object[], line: LogLine) =>
  entries.filter((e) => typeof fieldOf(e, line.field) === "string" && matches(line, fieldOf(e, line.field) as string));

describe("the loader's log lines that alerts count", () => {
  it("a loaded hourly file writes one line the hourly-loads metric counts, carrying the rows loaded as a number", async () => {
    const entries = await entriesWritten(jobsEnding({ state: "DONE" }, "42"));
    const loaded = matching(entries, HOUR_LOADED);
    expect(loaded).toHaveLength(1);
    expect(fieldOf(loaded[0], HOUR_LOADED.rowsField)).toBe(42);
    expect(matching(entries, FILE_REJECTED)).toEqual([]);
  });

  it("a rejected file writes one ERROR line the rejected-files metric counts, and no loaded line", async () => {
    const entries = await entriesWritten(
      jobsEnding({
        state: "DONE",
        errorResult: { reason: "invalid", message: "CSV table encountered too many errors" },
      }),
    );
    const rejected = matching(entries, FILE_REJECTED);
    expect(rejected).toHaveLength(1);
    expect((rejected[0] as { severity: string }).severity).toBe("ERROR");
    expect(matching(entries, HOUR_LOADED)).toEqual([]);
  });

  it("a redelivered file that was already loaded is not counted as a new load", async () => {
    const done = (jobId: string): JobResource => ({
      jobReference: { jobId },
      status: { state: "DONE" },
      statistics: { load: { outputRows: "42" } },
    });
    const taken = Object.assign(new Error("Already Exists: Job"), { code: 409, errors: [{ reason: "duplicate" }] });
    const entries = await entriesWritten({
      insert: async () => Promise.reject(taken),
      get: async (jobId) => done(jobId),
    });
    expect(entries.some((e) => e.jsonPayload.outputRows === 42)).toBe(true); // it did report the earlier load
    expect(matching(entries, HOUR_LOADED)).toEqual([]);
  });
});
