/** @type {import('jest').Config} */
module.exports = {
  preset: "ts-jest",
  testEnvironment: "node",
  roots: ["<rootDir>/test"],
  testMatch: ["**/*.test.ts"],
  // Integration tests start real engines (Kafka, the local BigQuery server); two cores, so run files one by one.
  maxWorkers: 1,
  testTimeout: 120000,
};
