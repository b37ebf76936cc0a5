import { byName, ProgramRun, PROJECT, runProgram, stackFileConfig } from "./pulumiProgram";

// The dev stack for a shop's real logs: no demo generator, access-log lines in the topic.
let run: ProgramRun;
beforeAll(async () => {
  const result = await runProgram({
    ...stackFileConfig("Pulumi.dev.yaml"),
    [`${PROJECT}:demoTraffic`]: "false",
    [`${PROJECT}:inputFormat`]: "combined",
  });
  if (result.error) throw result.error;
  run = result;
}, 60_000);

describe("a stack for real logs (demoTraffic false; Pulumi mocks)", () => {
  it("runs the broker but no generator on the streaming master", () => {
    const actions = byName(run, "streaming-cluster").inputs.clusterConfig.initializationActions.map(
      (a: { script: string }) => a.script,
    );
    expect(actions).toEqual([expect.stringMatching(/\/init\/kafka-broker\.sh$/)]);
  });

  it("still streams the topic into raw, reading access-log lines", () => {
    expect(byName(run, "streaming-spark-job").inputs.pysparkConfig.args).toEqual(
      expect.arrayContaining(["--input-format", "combined"]),
    );
  });
});
