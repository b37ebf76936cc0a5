// The unit tests Stryker runs against the mutants of one pass (MUTATION_PASS, see passes.cjs); with no pass
// named, every pass's tests.
const base = require("../jest.config.js");
const passes = require("./passes.cjs");

const pass = process.env.MUTATION_PASS;
const tests = pass ? passes[pass].tests : Object.values(passes).flatMap((p) => p.tests);

/** @type {import('jest').Config} */
module.exports = {
  ...base,
  rootDir: "..",
  // The whole repository, so that a mutated module's related tests are found through every import in between
  // (a test reaches stacks/identity.ts through index.ts); only the pass's tests run.
  roots: ["<rootDir>"],
  modulePathIgnorePatterns: ["<rootDir>/(\\.venv|\\.sandbox|\\.stryker-tmp|node_modules|build|dist|reports|mutants)/"],
  testMatch: tests.map((t) => `<rootDir>/${t}`),
};
