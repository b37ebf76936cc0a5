// Stage timing: each stage announces itself, and the times are printed at the end so a user sees where
// the time goes.
export class StageClock {
  readonly times: { stage: string; seconds: number }[] = [];
  private readonly started = Date.now();

  constructor(private readonly say: (line: string) => void) {}

  async stage<T>(name: string, what: string, work: () => Promise<T>): Promise<T> {
    this.say(`\u001b[1m==> ${what}\u001b[0m`);
    const t0 = Date.now();
    try {
      return await work();
    } finally {
      this.times.push({ stage: name, seconds: (Date.now() - t0) / 1000 });
    }
  }

  totalSeconds(): number {
    return (Date.now() - this.started) / 1000;
  }

  format(): string {
    const width = Math.max(5, ...this.times.map((t) => t.stage.length));
    const lines = this.times.map((t) => `  ${t.stage.padEnd(width)}  ${t.seconds.toFixed(1).padStart(6)} s`);
    lines.push(`  ${"total".padEnd(width)}  ${this.totalSeconds().toFixed(1).padStart(6)} s`);
    return ["stage times:", ...lines].join("\n");
  }
}
