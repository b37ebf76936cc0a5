import { LATE_WINDOW_MS, lateReruns, HourRun } from "../../sandbox/schedule/scheduler";
import lateRerunRule from "../../contract/late-reruns.json";

const run = (hour: string, startedAtMs: number): HourRun => ({
  hour,
  runId: `r${startedAtMs}`,
  ok: true,
  published: [],
  startedAtMs,
  endedAtMs: startedAtMs + 1,
});

// The same cases the DAG's rule is tested against (dags/weblog_hourly_steps.py late_reruns).
describe("late entries make an hour run again by itself, by the rule the DAG applies too", () => {
  it.each(lateRerunRule.cases)("$says", (c) => {
    const runs = Object.entries(c.lastRunStarts as Record<string, string>).map(([hour, t]) => run(hour, Date.parse(t)));
    const notices = new Map(
      Object.entries(c.notices as Record<string, string>).map(([hour, t]) => [hour, Date.parse(t)]),
    );
    expect(lateReruns(runs, notices, Date.parse(c.now))).toEqual(c.rerun);
  });

  it("judges an hour by its latest run when it ran more than once", () => {
    const hour = "2026-11-26T14";
    const notices = new Map([[hour, Date.parse("2026-11-26T15:20:00Z")]]);
    const runs = [run(hour, Date.parse("2026-11-26T15:05:00Z")), run(hour, Date.parse("2026-11-26T15:30:00Z"))];
    expect(lateReruns(runs, notices, Date.parse("2026-11-26T16:00:00Z"))).toEqual([]);
  });

  it("keeps its window the documented one", () => {
    expect(LATE_WINDOW_MS).toBe(lateRerunRule.windowHours * 3_600_000);
  });
});
