import { LATE_WINDOW_MS, lateReruns, HourRun } from "../../sandbox/scheduler";
import { hourEndMs } from "../../sandbox/clock";

const run = (hour: string, startedAtMs: number): HourRun => ({ hour, runId: `r${startedAtMs}`, ok: true, published: [], startedAtMs, endedAtMs: startedAtMs + 1 });

describe("late entries make an hour run again by itself", () => {
  const hour = "2026-11-26T14";
  const now = hourEndMs(hour) + 3_600_000;

  it("runs an hour again when the stream committed entries for it after its latest run started", () => {
    expect(lateReruns([run(hour, 1_000)], new Map([[hour, 2_000]]), now)).toEqual([hour]);
  });

  it("does not run it again for late entries its latest run already counted", () => {
    expect(lateReruns([run(hour, 1_000), run(hour, 3_000)], new Map([[hour, 2_000]]), now)).toEqual([]);
  });

  it("leaves an hour the scheduler has not run yet to its first run", () => {
    expect(lateReruns([], new Map([[hour, 2_000]]), now)).toEqual([]);
  });

  it("stops rerunning by itself once the hour ended longer ago than the late window", () => {
    expect(lateReruns([run(hour, 1_000)], new Map([[hour, 2_000]]), hourEndMs(hour) + LATE_WINDOW_MS + 1)).toEqual([]);
    expect(LATE_WINDOW_MS).toBe(48 * 3_600_000);
  });
});
