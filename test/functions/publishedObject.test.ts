import { classifyObjectName } from "../../functions/loader/src/publishedObject";

describe("which curated objects are published hourly files", () => {
  test("a name of the contract's form is a published file, with its hour, run and part", () => {
    expect(classifyObjectName("hourly/dt=2026-11-26/hr=07/run_id=20261126T150512123456Z/part-00003.csv")).toEqual({
      published: true,
      file: { hour: "2026-11-26T07:00:00Z", runId: "20261126T150512123456Z", part: 3 },
    });
    expect(classifyObjectName("hourly/dt=2024-02-29/hr=23/run_id=manual.backfill-2_x/part-00000.csv").published).toBe(
      true,
    );
  });

  test.each([
    ["outside the prefix", "raw/dt=2026-11-26/hr=07/run_id=r1/part-00000.csv", /outside the published prefix/],
    ["a marker file", "hourly/dt=2026-11-26/hr=07/run_id=r1/_SUCCESS", /not named/],
    ["a folder placeholder", "hourly/dt=2026-11-26/hr=07/run_id=r1/", /not named/],
    ["a Hive temporary file", "hourly/dt=2026-11-26/hr=07/run_id=r1/.hive-staging/part-00000.csv", /not named/],
    ["no run folder", "hourly/dt=2026-11-26/hr=07/part-00000.csv", /not named/],
    [
      "a run id with a slash-free but forbidden character",
      "hourly/dt=2026-11-26/hr=07/run_id=r 1/part-00000.csv",
      /not named/,
    ],
    ["another format", "hourly/dt=2026-11-26/hr=07/run_id=r1/part-00000.parquet", /not named/],
    ["a four-digit part", "hourly/dt=2026-11-26/hr=07/run_id=r1/part-0000.csv", /not named/],
    ["hour 24", "hourly/dt=2026-11-26/hr=24/run_id=r1/part-00000.csv", /not a calendar hour/],
    ["February 30th", "hourly/dt=2026-02-30/hr=01/run_id=r1/part-00000.csv", /not a calendar hour/],
    ["a dot-dot run id", "hourly/dt=2026-11-26/hr=07/run_id=../part-00000.csv", /path segment/],
  ])("%s is not a published file", (_what, name, reason) => {
    const verdict = classifyObjectName(name);
    expect(verdict.published).toBe(false);
    if (!verdict.published) expect(verdict.reason).toMatch(reason);
  });
});

describe("run ids that are path segments", () => {
  test.each([["."], [".."]])("run_id=%s is not a run", (runId) => {
    expect(classifyObjectName(`hourly/dt=2026-11-26/hr=07/run_id=${runId}/part-00000.csv`)).toEqual({
      published: false,
      reason: `run_id '${runId}' is a path segment, not a run`,
    });
  });

  test("a run id made of dots and more is a run", () => {
    expect(classifyObjectName("hourly/dt=2026-11-26/hr=07/run_id=.r./part-00001.csv")).toEqual({
      published: true,
      file: { hour: "2026-11-26T07:00:00Z", runId: ".r.", part: 1 },
    });
  });
});
