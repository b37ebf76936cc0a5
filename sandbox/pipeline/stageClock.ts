// Stage timing: each stage announces itself, and the times are printed at the end so a user sees where
// the time goes.
import { boldFor } from "../../commandLine/commandLine";

// The stages are told on stderr (the command line) or into the supervisor's log (no terminal, so no bold).
const bold = boldFor(process.stderr);

export class StageClock {
  readonly times: { stage: string; seconds: number }[] = [];
  private readonly started = Date.now();

  constructor(private readonly say: (line: string) => void) {}

  async stage<T>(name: string, what: string, work: () => Promise<T>): Promise<T> {
    this.say(bold(`==> ${what}`));
    const t0 = Date.now();
    try {
      return await work();
    } finally {
      this.times.push({ stage: name, seconds: (Date.now() - t0) / 1000 });
    }
  }

  /** Adds to a part of a stage (e.g. "hours/hourly runs"), shown indented under it. */
  addDetail(stage: string, part: string, seconds: number): void {
    const name = `${stage}/${part}`;
    const t = this.times.find((x) => x.stage === name);
    if (t) t.seconds += seconds;
    else this.times.push({ stage: name, seconds });
  }

  totalSeconds(): number {
    return (Date.now() - this.started) / 1000;
  }

  /** entries: the run's traffic; each stage then shows entries per second of its own time as well. */
  format(entries?: number): string {
    // Parts are listed under their stage; stages that overlap (generator, bigquery) add up to more than the total.
    const ordered = this.times
      .filter((t) => !t.stage.includes("/"))
      .flatMap((t) => [t, ...this.times.filter((d) => d.stage.startsWith(`${t.stage}/`))]);
    const named = ordered.map((t) => ({
      name: t.stage.includes("/") ? `  ${t.stage.split("/")[1]}` : t.stage,
      seconds: t.seconds,
    }));
    const width = Math.max(5, ...named.map((t) => t.name.length));
    const rate = (seconds: number) =>
      entries && seconds > 0
        ? `  ${Math.round(entries / seconds)
            .toLocaleString("en-US")
            .padStart(10)} entries/s`
        : "";
    const lines = named.map(
      (t) => `  ${t.name.padEnd(width)}  ${t.seconds.toFixed(1).padStart(6)} s${rate(t.seconds)}`,
    );
    lines.push(
      `  ${"total".padEnd(width)}  ${this.totalSeconds().toFixed(1).padStart(6)} s${rate(this.totalSeconds())}`,
    );
    return ["stage times:", ...lines].join("\n");
  }
}
