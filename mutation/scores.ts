// Prints Stryker's mutation score per module, with each surviving mutant, from its JSON report
// (mutation-testing-report-schema): killed and timed-out mutants count as killed, survivors and mutants no
// test covers as not.
import { readFileSync } from "node:fs";

interface Mutant {
  mutatorName: string;
  replacement?: string;
  status: string;
  location: { start: { line: number; column: number } };
}
interface Report {
  files: Record<string, { mutants: Mutant[] }>;
}

const KILLED = new Set(["Killed", "Timeout"]);
const NOT_KILLED = new Set(["Survived", "NoCoverage"]);

/** One line per module: its score, then one indented line per mutant that no test killed. */
export function scoreLines(report: Report): string[] {
  const lines: string[] = [];
  for (const [file, { mutants }] of Object.entries(report.files).sort(([a], [b]) => (a < b ? -1 : 1))) {
    const judged = mutants.filter((m) => KILLED.has(m.status) || NOT_KILLED.has(m.status));
    const killed = judged.filter((m) => KILLED.has(m.status)).length;
    const score = judged.length ? (100 * killed) / judged.length : 100;
    lines.push(`${score.toFixed(1).padStart(5)}%  ${killed}/${judged.length} killed  ${file}`);
    for (const m of judged.filter((x) => NOT_KILLED.has(x.status))) {
      const at = `${m.location.start.line}:${m.location.start.column}`;
      lines.push(
        `         ${m.status.toLowerCase()} ${file}:${at} ${m.mutatorName}${m.replacement ? ` -> ${m.replacement.replace(/\s+/g, " ").slice(0, 80)}` : ""}`,
      );
    }
  }
  return lines;
}

/** Several passes' reports as one (each module is mutated in one pass only). */
export function merged(reports: Report[]): Report {
  return { files: Object.assign({}, ...reports.map((r) => r.files)) };
}

if (require.main === module) {
  const files = process.argv.slice(2);
  if (files.length === 0) throw new Error("usage: tsx mutation/scores.ts reports/mutation/stryker-PASS.json...");
  const reports = files.map((f) => JSON.parse(readFileSync(f, "utf8")) as Report);
  console.log(scoreLines(merged(reports)).join("\n"));
}
