// The sandbox's health figures: the deployed dashboard's and alerts' arithmetic on hand-made run records.
import { HealthInput, pipelineHealth } from "../../sandbox/verdict/health";

const at = (time: string) => Date.parse(`2026-11-26T${time}Z`);
const hourComplete = (hour: string, rows: number, quarantined: number) =>
  `2026-11-26 13:00:00,000 weblog_stream INFO hour complete: {"hour": "${hour}", "rows": ${rows}, "quarantined": ${quarantined}, "written_at": "2026-11-26T13:00:00+00:00"}`;
const loaderLine = (severity: string, message: string, fields: object = {}) =>
  JSON.stringify({ severity, message, ...fields });

const input: HealthInput = {
  hours: ["2026-11-26T10", "2026-11-26T11", "2026-11-26T12"],
  streamLog: [
    "Setting default log level to WARN",
    hourComplete("2026-11-26T10", 950, 50),
    hourComplete("2026-11-26T11", 900, 100),
    // not an "hour complete" line, though it carries the same fields
    '2026-11-26 13:00:00,000 weblog_stream INFO progress: {"hour": "2026-11-26T12", "rows": 5, "quarantined": 0}',
  ],
  runnerInvocations: [
    {
      startedAtMs: at("13:00:00"),
      endedAtMs: at("13:00:50"),
      results: [
        { hour: "2026-11-26T10", run_id: "20261126T130030000000Z", ok: true },
        { hour: "2026-11-26T11", run_id: "20261126T130042500000Z", ok: true },
      ],
    },
    {
      startedAtMs: at("13:02:00"),
      endedAtMs: at("13:02:30"),
      results: [{ hour: "2026-11-26T10", run_id: "20261126T130220000000Z", ok: false }],
    },
  ],
  loads: [
    { hour: "2026-11-26T10", outputRows: 236, loadedAtMs: at("13:01:00") },
    { hour: "2026-11-26T11", outputRows: 240, loadedAtMs: at("13:01:05") },
    { hour: "2026-11-26T10", outputRows: 230, loadedAtMs: at("13:03:00") },
  ],
  loaderLog: [
    "Serving function...",
    loaderLine("INFO", "loaded", { outputRows: 236 }),
    loaderLine("INFO", "already loaded by an earlier delivery", { outputRows: 236 }),
    loaderLine("INFO", "loaded", { outputRows: 240 }),
    loaderLine("WARNING", "load attempt 1 of 3 failed transiently"),
    loaderLine("INFO", "loaded", { outputRows: 230 }),
    loaderLine("ERROR", "not loaded: the file cannot be loaded as published; acknowledged without retry"),
    loaderLine("ERROR", "loaded, but its lineage row could not be recorded"),
  ],
  loaderInvocations: 6,
  maxQuarantineShare: 0.05,
};

test("entries into raw and quarantined per hour come from the hour-complete lines; the share alerts only above the threshold", () => {
  const h = pipelineHealth(input);
  expect(h.hours.map((x) => [x.hour, x.rows, x.quarantined, x.quarantineShare, x.quarantineAlert])).toEqual([
    // 50 / (950 + 50) = 0.05: at the threshold, not over it
    ["2026-11-26T10", 950, 50, 0.05, false],
    // 100 / (900 + 100) = 0.1
    ["2026-11-26T11", 900, 100, 0.1, true],
    // no hour-complete line yet
    ["2026-11-26T12", null, null, null, false],
  ]);
});

test("a share of 1 never alerts, and an hour without entries has no share", () => {
  const h = pipelineHealth({
    ...input,
    maxQuarantineShare: 1,
    streamLog: [hourComplete("2026-11-26T10", 0, 5), hourComplete("2026-11-26T11", 0, 0)],
  });
  expect(h.hours.slice(0, 2).map((x) => [x.quarantineShare, x.quarantineAlert])).toEqual([
    [1, false],
    [null, false],
  ]);
});

test("each hour's run lasts from its run id's start time to the next hour's start, the last to the runner's exit", () => {
  const h = pipelineHealth(input);
  expect(h.hours.map((x) => x.runs.map((r) => [r.ok, r.seconds]))).toEqual([
    [
      [true, 12.5],
      [false, 10],
    ],
    [[true, 7.5]],
    [],
  ]);
  expect(h.runnerStartupSeconds).toEqual([30, 20]);
});

test("loads, rows loaded and freshness per hour come from the lineage rows; freshness runs from the hour's end to its first load", () => {
  const h = pipelineHealth(input);
  expect(h.hours.map((x) => [x.filesLoaded, x.rowsLoaded, x.freshnessSeconds])).toEqual([
    // 13:01:00 - 11:00:00
    [2, 466, 2 * 3600 + 60],
    // 13:01:05 - 12:00:00
    [1, 240, 3600 + 65],
    [0, 0, null],
  ]);
});

test("the loader's loaded lines, rejected files and ERROR lines are counted with the contract's patterns", () => {
  expect(pipelineHealth(input).loader).toEqual({
    invocations: 6,
    loadedLines: 3,
    rowsLoaded: 706,
    rejectedFiles: 1,
    errorLines: 2,
  });
});

test("freshness runs on the sandbox clock to the loader's first acceptance when the run recorded it", () => {
  // On a 60x clock the lineage's wall-clock time lies before the simulated hour's end; the acceptance on the sandbox clock does not.
  const firstAcceptedClockMs = new Map([["2026-11-26T10", at("11:00:40")]]);
  const h = pipelineHealth({ ...input, firstAcceptedClockMs });
  expect(h.hours.map((x) => x.freshnessSeconds)).toEqual([40, 3600 + 65, null]);
});
