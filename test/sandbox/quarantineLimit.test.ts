// The quarantine share an hour may have before its data-quality check fails: the stack's
// quarantineMaxShare, in the sandbox `--quarantine-max-share`, validated, kept by the state folder, and
// given to the hourly checks and the report's health figures.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseOptions, SandboxOptions, UsageError } from "../../sandbox/commands/options";
import { healthOf, WarehouseView } from "../../sandbox/pipeline/liveReport";
import { keepMaxQuarantineShare, maxQuarantineShareOf } from "../../sandbox/pipeline/stateFolder";
import { hourlyWorkerSpec, MAX_QUARANTINE_SHARE } from "../../sandbox/processes/parts";
import { sandboxLayout } from "../../sandbox/shared/layout";

test("--quarantine-max-share takes a share from 0 to 1 for run and up, and names the flag and what it accepts otherwise", () => {
  expect((parseOptions(["up", "--quarantine-max-share", "0.3"]) as SandboxOptions).maxQuarantineShare).toBe(0.3);
  expect((parseOptions(["--quarantine-max-share", "1"]) as SandboxOptions).maxQuarantineShare).toBe(1);
  expect((parseOptions(["up"]) as SandboxOptions).maxQuarantineShare).toBeUndefined();
  for (const bad of ["1.5", "-0.1", "5%", ""]) {
    expect(() => parseOptions(["up", `--quarantine-max-share=${bad}`])).toThrow(
      new UsageError(`--quarantine-max-share must be between 0 and 1, got '${bad}'`),
    );
  }
  expect(() => parseOptions(["status", "--quarantine-max-share", "0.3"])).toThrow(
    /^--quarantine-max-share is an option of run and up, not of status/,
  );
});

test("the limit asked for reaches the hourly checks and the health figures, and the state folder keeps it across down and up", () => {
  const l = sandboxLayout(mkdtempSync(join(tmpdir(), "sandbox-quarantine-limit-")));
  const limitOfChecks = () => {
    const args = hourlyWorkerSpec(l, 1, maxQuarantineShareOf(l)).args;
    return Number(args[args.indexOf("--max-quarantine-share") + 1]);
  };
  const limitOfHealth = () =>
    healthOf({ l, scheduler: { runs: [] }, notifier: { deliveries: {} } }, [], {
      lineage: [],
    } as unknown as WarehouseView).maxQuarantineShare;
  expect([limitOfChecks(), limitOfHealth()]).toEqual([MAX_QUARANTINE_SHARE, MAX_QUARANTINE_SHARE]);
  keepMaxQuarantineShare(l, 0.3); // up --quarantine-max-share 0.3
  expect([limitOfChecks(), limitOfHealth()]).toEqual([0.3, 0.3]);
  keepMaxQuarantineShare(l, undefined); // down, then up without the flag
  expect([limitOfChecks(), limitOfHealth()]).toEqual([0.3, 0.3]);
  keepMaxQuarantineShare(l, 0); // a new limit replaces it
  expect([limitOfChecks(), limitOfHealth()]).toEqual([0, 0]);
});
