import type { ProgramRun } from "./pulumiProgram";
import { PROJECT, stackFileConfig } from "./pulumiProgram";

/** Inputs that name a thing which must be unique in the project (or globally, for buckets). */
const NAMING_INPUTS = ["name", "accountId", "roleId", "datasetId", "repositoryId", "clusterId", "policyId"];
/** Names that live inside something already unique (an object in a bucket, a grant), or Google's own (an API). */
const SCOPED = /bucketObject|IAMMember|IamMember|projects\/service:Service|bigquery\/table:Table/;

/** The program run as one stack, in a module registry of its own (Pulumi's runtime keeps one stack per load). */
async function runStack(stack: string, config: Record<string, string>): Promise<ProgramRun> {
  let run: (ProgramRun & { error?: Error }) | undefined;
  await jest.isolateModulesAsync(async () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const program = require("./pulumiProgram") as typeof import("./pulumiProgram");
    run = await program.runProgram(config, stack);
  });
  if (run!.error) throw run!.error;
  return run!;
}

function uniqueNames(run: ProgramRun): Map<string, string> {
  const names = new Map<string, string>();
  for (const r of run.resources.filter((x) => x.type.startsWith("gcp:") && !SCOPED.test(x.type))) {
    for (const input of NAMING_INPUTS) {
      if (typeof r.inputs[input] === "string")
        names.set(`${r.type.split(":").pop()} ${input} ${r.inputs[input]}`, r.name);
    }
  }
  return names;
}

describe("two stacks in one project (dev and prod, neither setting a name prefix; Pulumi mocks)", () => {
  const config = Object.fromEntries(
    Object.entries(stackFileConfig("Pulumi.dev.yaml")).filter(([key]) => key !== `${PROJECT}:namePrefix`),
  );
  let dev: ProgramRun, prod: ProgramRun;
  beforeAll(async () => {
    dev = await runStack("dev", config);
    prod = await runStack("prod", config);
  }, 120_000);

  it("share no project-unique or global name", () => {
    const devNames = uniqueNames(dev),
      prodNames = uniqueNames(prod);
    expect(devNames.size).toBeGreaterThan(25);
    expect([...devNames.keys()].filter((n) => prodNames.has(n))).toEqual([]);
  });

  it("name each stack's resources after it", () => {
    const accounts = (run: ProgramRun) =>
      run.resources
        .filter((r) => r.type === "gcp:serviceaccount/account:Account")
        .map((r) => r.inputs.accountId)
        .sort();
    expect(accounts(prod)).toEqual([
      "clickstream-prod-composer",
      "clickstream-prod-hive",
      "clickstream-prod-loader",
      "clickstream-prod-loader-build",
      "clickstream-prod-stream",
      "clickstream-prod-trigger",
    ]);
    expect(dev.resources.find((r) => r.type === "gcp:bigquery/dataset:Dataset")!.inputs.datasetId).toBe(
      "clickstream_dev",
    );
    expect(prod.resources.find((r) => r.type === "gcp:bigquery/dataset:Dataset")!.inputs.datasetId).toBe(
      "clickstream_prod",
    );
  });
});
