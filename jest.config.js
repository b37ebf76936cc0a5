/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: "node",
  roots: ["<rootDir>/test"],
  testMatch: ["**/*.test.ts"],
  transform: { "^.+\\.ts$": ["ts-jest", { tsconfig: "tsconfig.jest.json" }] },
  // Integration tests start real engines (Kafka, the local BigQuery server); two cores, so run files one by one.
  maxWorkers: 1,
  testTimeout: 120000,
};
