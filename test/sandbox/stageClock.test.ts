// The stage times a run prints: each stage's seconds and, given the run's entries, its entries per second.
import { StageClock } from "../../sandbox/pipeline/stageClock";

describe("stage times", () => {
  test("each stage shows the run's entries per second of its own time", async () => {
    const clock = new StageClock(() => undefined);
    await clock.stage("generator", "sending", async () => undefined);
    clock.times[0].seconds = 80;
    clock.addDetail("hours", "waiting for the stream", 25);
    const text = clock.format(1_000_000);
    expect(text).toMatch(/generator\s+80\.0 s\s+12,500 entries\/s/);
    expect(text).toMatch(/total\s+\d+\.\d s/);
  });

  test("without a number of entries only the seconds are shown", async () => {
    const clock = new StageClock(() => undefined);
    await clock.stage("kafka", "starting", async () => undefined);
    expect(clock.format()).not.toContain("entries/s");
  });
});
