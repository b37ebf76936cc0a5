// The mutation score per module: killed and timed-out mutants over every judged one, survivors listed.
import { merged, scoreLines } from "../../mutation/scores";

const mutant = (status: string, line: number, mutatorName = "EqualityOperator", replacement = "a <= b") => ({
  status,
  mutatorName,
  replacement,
  location: { start: { line, column: 3 } },
});

test("scores each module on its judged mutants and lists the ones no test killed", () => {
  const lines = scoreLines({
    files: {
      "sandbox/verdict/reconciliation.ts": {
        mutants: [
          mutant("Killed", 1),
          mutant("Timeout", 2),
          mutant("Survived", 3),
          mutant("NoCoverage", 4),
          mutant("CompileError", 5),
        ],
      },
      "contract/logLines.ts": { mutants: [mutant("Killed", 7)] },
    },
  });
  expect(lines).toEqual([
    "100.0%  1/1 killed  contract/logLines.ts",
    " 50.0%  2/4 killed  sandbox/verdict/reconciliation.ts",
    "         survived sandbox/verdict/reconciliation.ts:3:3 EqualityOperator -> a <= b",
    "         nocoverage sandbox/verdict/reconciliation.ts:4:3 EqualityOperator -> a <= b",
  ]);
});

test("scores the modules of several passes' reports together", () => {
  const lines = scoreLines(
    merged([
      { files: { "stacks/identity.ts": { mutants: [mutant("Survived", 9)] } } },
      { files: { "contract/logLines.ts": { mutants: [mutant("Killed", 7)] } } },
    ]),
  );
  expect(lines).toEqual([
    "100.0%  1/1 killed  contract/logLines.ts",
    "  0.0%  0/1 killed  stacks/identity.ts",
    "         survived stacks/identity.ts:9:3 EqualityOperator -> a <= b",
  ]);
});
