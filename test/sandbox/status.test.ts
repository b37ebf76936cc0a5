// What `status` prints of a running sandbox: a failed hour is named with what failed, not only counted.
import { formatStatus, PipelineStatus } from "../../sandbox/commands/status";

const status: PipelineStatus = {
  phase: "running",
  updatedAtMs: 1_000_000,
  supervisorPid: 42,
  endpoints: { kafkaBootstrap: "127.0.0.1:9092" },
  clock: { factor: 60, eventMs: 0, wallMs: 1_000_000, running: true },
  processes: [],
  latest: { marked: "2026-03-01T11", published: "2026-03-01T10", loaded: "2026-03-01T10" },
  hourlyRuns: { ok: 1, failed: 1 },
  failedHours: [
    {
      hour: "2026-03-01T11",
      runId: "r2",
      error:
        "data-quality check failed: the quarantined share of the hour is at most MAX_QUARANTINE_SHARE (found a share of 0.2600, 26 of 100 records, limit at most 0.05)",
    },
  ],
  freshness: [],
  rates: { intoKafka: null, loaded: null },
  quarantined: 7,
  traffic: "your producers",
};

test("a failed hour is named with its run and what failed", () => {
  const text = formatStatus(status, 1_000_000);
  expect(text).toContain("(runs ok 1, failed 1)");
  expect(text).toContain(
    "FAILED hour 2026-03-01T11 (run r2): data-quality check failed: the quarantined share of the hour is at most MAX_QUARANTINE_SHARE (found a share of 0.2600, 26 of 100 records, limit at most 0.05)",
  );
  expect(formatStatus({ ...status, failedHours: [] }, 1_000_000)).not.toContain("FAILED");
});
