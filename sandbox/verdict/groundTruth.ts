// The generator's summary, read as the ground truth the table is reconciled with.
import { readFileSync } from "node:fs";
import type { RunSummary } from "../../generator/groundTruth";
import { hourKey, HourlyActivityRow } from "./hourlyActivity";
import { SandboxError } from "../processes/processes";

export type GeneratorSummary = RunSummary;

/** The rows the hourly table must hold: per UTC hour and product, from what Kafka acknowledged. */
export function expectedActivity(s: GeneratorSummary): HourlyActivityRow[] {
  return s.hourly_products.map((r) => ({
    hour: hourKey(r.hour),
    product_id: r.product_id,
    visits: r.visits,
    cart_adds: r.cart_adds,
  }));
}

/** A summary is ground truth only if every entry sent was acknowledged. */
export function summaryProblem(s: GeneratorSummary): string | undefined {
  if (!s.complete || s.unacknowledged !== 0)
    return `the generator's run was incomplete (${s.unacknowledged} of ${s.generated} entries unacknowledged${s.error ? `: ${s.error}` : ""})`;
  return undefined;
}

/** The generator's summary file as ground truth; a run that was not fully acknowledged stops the sandbox. */
export function readGroundTruth(summaryFile: string, generatorLog: string): GeneratorSummary {
  const summary = JSON.parse(readFileSync(summaryFile, "utf8")) as GeneratorSummary;
  const incomplete = summaryProblem(summary);
  if (incomplete) throw new SandboxError(incomplete, "read the generator's log, then run again", generatorLog);
  return summary;
}
