// Stryker for one pass of passes.cjs, named by MUTATION_PASS: its modules, its tests (mutation/jest.config.js),
// its own report (reports/mutation/stryker-PASS.json) and temporary folder, so passes can run side by side.
import { createRequire } from "node:module";

const passes = createRequire(import.meta.url)("./passes.cjs");
const pass = process.env.MUTATION_PASS;
if (!passes[pass]) throw new Error(`MUTATION_PASS must name a pass: one of ${Object.keys(passes).join(", ")}`);

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  packageManager: "npm",
  testRunner: "jest",
  jest: { configFile: "mutation/jest.config.js", enableFindRelatedTests: true },
  coverageAnalysis: "perTest",
  mutate: passes[pass].mutate,
  concurrency: 1,
  timeoutMS: 30000,
  reporters: ["json", "clear-text", "progress"],
  jsonReporter: { fileName: `reports/mutation/stryker-${pass}.json` },
  tempDirName: `.stryker-tmp/${pass}`,
  cleanTempDir: "always",
  incremental: false,
  ignorePatterns: [
    ".venv",
    ".sandbox",
    ".stryker-tmp",
    "dist",
    "build",
    "bench",
    "test/init",
    "reports",
    ".ruff_cache",
    ".pytest_cache",
    "**/__pycache__",
    "mutants",
  ],
  // Mutants of module-level constants would each rerun every related test file; see docs/tests.md.
  ignoreStatic: true,
};
