// The TypeScript mutation passes: each pass's modules (Stryker mutates them) and the fast unit tests that
// judge them (no engine, no child process, no network). A mutant runs only the tests of its own pass that
// cover it, so a module is never judged by the slow tests of another (each test file a mutant's run loads
// costs its imports, about a second for those that load the Pulumi program's modules).
/** @type {Record<string, { mutate: string[]; tests: string[] }>} */
module.exports = {
  contract: {
    mutate: ["contract/*.ts"],
    tests: ["test/contract/*.test.ts", "test/generator/accessLog.test.ts", "test/functions/loaderLogLines.test.ts"],
  },
  loader: {
    // The entry point only registers deployedHandler.ts at load; coldStart and the integration test serve it.
    mutate: ["functions/loader/src/*.ts", "!functions/loader/src/index.ts"],
    tests: [
      "test/functions/{bigqueryJobs,deployedHandler,hourlyLoader,idempotentJob,loadJobId,loadRequests,loaderConfig,loaderLogLines,publishedObject,publishedRows,storedObjects}.test.ts",
    ],
  },
  config: {
    mutate: ["stacks/config.ts"],
    tests: ["test/stacks/{config,configEdges,readme}.test.ts"],
  },
  identity: {
    mutate: ["stacks/identity.ts"],
    tests: ["test/stacks/{identity,readme}.test.ts"],
  },
  policy: {
    // index.ts only hands the rules to the policy engine at load; policyPack.test.ts serves it as the engine does.
    mutate: ["policy/*.ts", "!policy/index.ts"],
    tests: ["test/policy/{monitoringPolicies,scalingPolicies,securityPolicies}.test.ts"],
  },
  reconciliation: {
    mutate: ["sandbox/verdict/reconciliation.ts"],
    tests: ["test/sandbox/reconciliation.test.ts"],
  },
};
