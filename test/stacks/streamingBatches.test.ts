// How many entries one streaming micro-batch may take, derived from the stack's capacity settings.
import { parseStackConfig } from "../../stacks/config";
import { maxOffsetsPerTrigger } from "../../stacks/streaming";

const configWith = (settings: Record<string, string>) =>
  parseStackConfig({
    "gcp:project": "my-clickstream-dev",
    ...Object.fromEntries(Object.entries(settings).map(([k, v]) => [`clickstream-pipeline:${k}`, v])),
  });

describe("maxOffsetsPerTrigger", () => {
  it("is 100,000 entries per executor core: 2 on the default single node, 2 workers x 8 vCPUs = 16 with workers", () => {
    expect(maxOffsetsPerTrigger(configWith({}))).toBe(200_000);
    expect(maxOffsetsPerTrigger(configWith({ streamMachineType: "e2-standard-8" }))).toBe(400_000);
    expect(maxOffsetsPerTrigger(configWith({ streamWorkers: "2", streamWorkerMachineType: "n2-standard-8" }))).toBe(
      1_600_000,
    );
  });

  it("never falls below three one-minute triggers of the generator's rate, so a backlog always drains", () => {
    expect(maxOffsetsPerTrigger(configWith({ generatorRate: "5000" }))).toBe(5000 * 60 * 3);
  });
});
