// The fast unit tests Stryker runs against each mutant: no engine, no child process, no network.
const base = require("../jest.config.js");

/** @type {import('jest').Config} */
module.exports = {
  ...base,
  rootDir: "..",
  // The whole repository, so that a mutated module's related tests are found through every import in between
  // (a test reaches stacks/identity.ts through index.ts); only the tests below run.
  roots: ["<rootDir>"],
  modulePathIgnorePatterns: ["<rootDir>/(\\.venv|\\.sandbox|\\.stryker-tmp|node_modules|build|dist|reports|mutants)/"],
  testMatch: [
    "<rootDir>/test/contract/*.test.ts",
    "<rootDir>/test/functions/{hourlyLoader,loadJobId,loaderConfig,publishedObject,publishedRows}.test.ts",
    "<rootDir>/test/generator/accessLog.test.ts",
    "<rootDir>/test/policy/{monitoringPolicies,scalingPolicies,securityPolicies}.test.ts",
    "<rootDir>/test/sandbox/reconciliation.test.ts",
    "<rootDir>/test/stacks/{config,configEdges,readme,stack}.test.ts",
  ],
};
