#!/usr/bin/env node
// The package's bin: runs the TypeScript sources through tsx (the cloud runs the bundle, dist/generator.cjs).
require("tsx/cjs");
require("./main.ts");
