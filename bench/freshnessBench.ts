// Freshness of the living sandbox (`npm start -- up`): the time from an hour's end to its rows being
// queryable in the local warehouse, over a run of live hours on an accelerated clock, printed as median
// and worst beside two references measured in the same run: the length of an hour on that clock, and the
// part no pipeline can beat (the streaming job's grace period plus one trigger interval).
//   npx tsx bench/freshnessBench.ts [--clock 60x] [--hours 6] [--rate 20]
import { spawnSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { HOUR_MS, parseClockFactor } from "../sandbox/schedule/clock";
import { sandboxLayout } from "../sandbox/shared/layout";
import { median, readStatus } from "../sandbox/commands/status";

const REPO = resolve(__dirname, "..");
const args = process.argv.slice(2);
const flag = (name: string, fallback: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : fallback);
const clock = flag("--clock", "60x");
const factor = parseClockFactor(clock);
const hours = Number(flag("--hours", "6"));
const rate = flag("--rate", "20");
// The streaming job's defaults in the sandbox: 10 minutes of grace (event time), a 5-second trigger.
const GRACE_S = 600;
const TRIGGER_S = 5;

const stateDir = mkdtempSync(join(tmpdir(), "freshness-bench-"));
const l = sandboxLayout(stateDir);
const sandbox = (command: string[]) =>
  spawnSync(join(REPO, "node_modules", ".bin", "tsx"), [join(REPO, "sandbox", "commands", "cli.ts"), ...command], {
    cwd: REPO,
    stdio: "inherit",
  });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<number> {
  const start = new Date(Math.floor(Date.now() / HOUR_MS) * HOUR_MS - 12 * HOUR_MS).toISOString();
  const up = sandbox([
    "up",
    "--no-setup",
    "--state-dir",
    stateDir,
    "--clock",
    clock,
    "--start",
    start,
    "--hours",
    "1",
    "--per-hour",
    "300",
    "--rate",
    rate,
  ]);
  if (up.status !== 0) return 1;
  try {
    const deadline = Date.now() + (hours * HOUR_MS) / factor + 10 * 60_000;
    for (;;) {
      const s = readStatus(l.status);
      if ((s?.freshness.length ?? 0) >= hours) break;
      if (Date.now() > deadline)
        throw new Error(`fewer than ${hours} live hours were loaded in time: ${JSON.stringify(s?.latest)}`);
      await sleep(1000);
    }
    const s = readStatus(l.status);
    const fresh = (s?.freshness ?? []).slice(0, hours);
    const wall = fresh.map((f) => f.wallSeconds);
    const hourS = 3600 / factor;
    const floorS = GRACE_S / factor + TRIGGER_S;
    const med = median(wall) as number;
    const worst = Math.max(...wall);
    console.log(
      `\nfreshness over ${wall.length} live hours at ${clock} (${rate} entries/s), hour end to rows queryable, wall-clock seconds:`,
    );
    for (const f of fresh) console.log(`  ${f.hour}:00  ${f.wallSeconds.toFixed(1)} s`);
    console.log(`median ${med.toFixed(1)} s, worst ${worst.toFixed(1)} s`);
    console.log(
      `reference: an hour on this clock lasts ${hourS.toFixed(1)} s -> median ${(med / hourS).toFixed(2)}, worst ${(worst / hourS).toFixed(2)} of an hour`,
    );
    console.log(
      `reference: grace + one trigger (the least any run can take) ${floorS.toFixed(1)} s -> median ${(med / floorS).toFixed(1)}x, worst ${(worst / floorS).toFixed(1)}x`,
    );
    console.log(
      `on the sandbox clock: median ${((med * factor) / 60).toFixed(1)} min, worst ${((worst * factor) / 60).toFixed(1)} min after the hour's end`,
    );
    return 0;
  } finally {
    sandbox(["purge", "--state-dir", stateDir]);
  }
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(`error: ${(e as Error).message}`);
    sandbox(["purge", "--state-dir", stateDir]);
    process.exit(1);
  },
);
