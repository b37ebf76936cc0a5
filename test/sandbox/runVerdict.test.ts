// What decides a sandbox run's outcome: a generator run that was not fully acknowledged is no ground
// truth and stops the run; a table that does not reconcile makes the command exit 1.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { main } from "../../sandbox/commands/cli";
import { GeneratorSummary, readGroundTruth } from "../../sandbox/verdict/groundTruth";
import { HourlyActivityRow } from "../../sandbox/verdict/hourlyActivity";
import { RunRecord } from "../../sandbox/pipeline/run";
import { SandboxError } from "../../sandbox/processes/processes";
import { reconcile } from "../../sandbox/verdict/reconciliation";

const work = mkdtempSync(join(tmpdir(), "sandbox-verdict-"));

const completeRun: GeneratorSummary = {
  complete: true,
  error: null,
  mode: "simulated",
  destination: "kafka",
  topic: "weblogs",
  seed: 7,
  generated: 3,
  acknowledged: 3,
  unacknowledged: 0,
  valid: 3,
  malformed: 0,
  duplicates: 0,
  ignored: 0,
  malformed_by_kind: { not_json: 0, invalid_utf8: 0, missing_field: 0, wrong_type: 0, bad_timestamp: 0, oversize: 0 },
  visits: 2,
  cart_adds: 1,
  first_event_time: "2026-11-26T10:00:01Z",
  last_event_time: "2026-11-26T10:59:00Z",
  errors: 0,
  elapsed_seconds: 1,
  hours: [{ hour: "2026-11-26T10:00:00Z", visits: 2, cart_adds: 1 }],
  products: [{ product_id: "P1", visits: 2, cart_adds: 1 }],
  hourly_products: [{ hour: "2026-11-26T10:00:00Z", product_id: "P1", visits: 2, cart_adds: 1 }],
};

function summaryFile(summary: GeneratorSummary): string {
  const file = join(work, `summary-${Math.random()}.json`);
  writeFileSync(file, JSON.stringify(summary));
  return file;
}

describe("the generator's summary as ground truth", () => {
  test("is read when every entry sent was acknowledged", () => {
    expect(readGroundTruth(summaryFile(completeRun), "generator.log")).toEqual(completeRun);
  });

  test.each([
    [
      "entries were left unacknowledged",
      { complete: false, acknowledged: 2, unacknowledged: 1, error: "KafkaJSNumberOfRetriesExceeded" },
      /1 of 3 entries unacknowledged: KafkaJSNumberOfRetriesExceeded/,
    ],
    [
      "the run did not end as planned",
      { complete: false, error: "the broker stayed away" },
      /incomplete \(0 of 3 entries unacknowledged: the broker stayed away\)/,
    ],
    [
      "entries were left unacknowledged in a run marked complete",
      { acknowledged: 2, unacknowledged: 1 },
      /1 of 3 entries unacknowledged\)/,
    ],
  ])("stops the run when %s, pointing at the generator's log", (_why, change, message) => {
    const read = () => readGroundTruth(summaryFile({ ...completeRun, ...change }), "/state/logs/generator.log");
    expect(read).toThrow(SandboxError);
    expect(read).toThrow(message);
    expect(read).toThrow(expect.objectContaining({ log: "/state/logs/generator.log" }));
  });
});

describe("the sandbox command's exit code", () => {
  const truth: HourlyActivityRow[] = [{ hour: "2026-11-26T10", product_id: "P1", visits: 2, cart_adds: 1 }];
  /** A run whose table holds `loaded`, judged against `truth` by the real reconciliation. */
  const runLoading = (loaded: HourlyActivityRow[]) => async () =>
    ({ reconciliation: reconcile(truth, loaded), reportPath: join(work, "report.html") }) as RunRecord;
  const args = () => ["run", "--no-setup", "--state-dir", mkdtempSync(join(tmpdir(), "sandbox-verdict-state-"))];
  let stderr: jest.SpyInstance;
  let stdout: jest.SpyInstance;
  beforeEach(() => {
    stderr = jest.spyOn(process.stderr, "write").mockImplementation(() => true);
    stdout = jest.spyOn(console, "log").mockImplementation(() => undefined);
  });
  afterEach(() => {
    stderr.mockRestore();
    stdout.mockRestore();
  });

  test("is 0 when the table reconciles with the ground truth", async () => {
    expect(await main(args(), runLoading(truth))).toBe(0);
  });

  test("is 1 when one product's count differs from the ground truth", async () => {
    expect(await main(args(), runLoading([{ ...truth[0], cart_adds: 2 }]))).toBe(1);
  });

  test("is 1 when a stage stops the run, with what to do and the log on stderr", async () => {
    const stopped = async (): Promise<RunRecord> => {
      throw new SandboxError(
        "the generator's run was incomplete (1 of 3 entries unacknowledged)",
        "read the generator's log, then run again",
        "/nowhere/generator.log",
      );
    };
    expect(await main(args(), stopped)).toBe(1);
    const said = stderr.mock.calls.map((c) => String(c[0])).join("");
    expect(said).toMatch(/error: the generator's run was incomplete/);
    expect(said).toMatch(/what to do: read the generator's log/);
  });
});
