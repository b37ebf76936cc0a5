import { readFileSync } from "node:fs";
import * as path from "node:path";
import { parseStackConfig, StackConfigError } from "../../stacks/config";
import { CONTAINER_STEP_MIB, HEADROOM, memoryPlan, overheadOf, PARTS_MIB } from "../../stacks/memoryBudget";
import { byName, PROJECT, REPO_ROOT, runProgram, SCALED_CONFIG, stackFileConfig } from "./pulumiProgram";

const dev = stackFileConfig("Pulumi.dev.yaml");
const key = (k: string) => `${PROJECT}:${k}`;
/** The defaults, each scaled setting alone, and the scaled stacks of docs/cost-and-scaling.md. */
const STACKS: [string, Record<string, string>][] = [
  ["the defaults", dev],
  ["2 streaming workers", { ...dev, [key("streamWorkers")]: "2" }],
  [
    "100 small streaming workers",
    { ...dev, [key("streamWorkers")]: "100", [key("streamWorkerMachineType")]: "e2-standard-2" },
  ],
  ["Hive autoscaled to 6", { ...dev, [key("hiveMaxWorkers")]: "6" }],
  ["Managed Kafka", { ...dev, [key("kafka")]: "managed" }],
  ["the generator at 5000/s", { ...dev, [key("generatorRate")]: "5000" }],
  ["no demo traffic", { ...dev, [key("demoTraffic")]: "false" }],
  ["a large master", { ...dev, [key("streamMachineType")]: "n2-highmem-16" }],
  [
    "the 1,000x stack of docs/cost-and-scaling.md",
    {
      ...dev,
      [key("generatorRate")]: "5000",
      [key("streamWorkers")]: "2",
      [key("streamWorkerMachineType")]: "e2-standard-2",
      [key("hiveMaxWorkers")]: "6",
    },
  ],
  ["the scaled test stack", SCALED_CONFIG],
];

describe("the memory budget of every node", () => {
  it.each(STACKS)(
    "leaves every node its headroom, and the streaming executors their containers, for %s",
    (_name, raw) => {
      const plan = memoryPlan(parseStackConfig(raw));
      for (const node of plan.nodes) {
        const used = node.parts.reduce((a, p) => a + p.mib, 0);
        expect([node.node, used]).toEqual([node.node, expect.any(Number)]);
        expect(used).toBeLessThanOrEqual(node.memoryMib * (1 - HEADROOM));
      }
      // What YARN hands out on a streaming node manager: the application master and the executors with their overhead.
      const executors = parseStackConfig(raw).streamWorkers === 0 ? 1 : 2;
      const containers =
        Math.ceil((PARTS_MIB.sparkAppMaster + 384) / CONTAINER_STEP_MIB) * CONTAINER_STEP_MIB +
        executors *
          Math.ceil((plan.executorMib + overheadOf(plan.executorMib)) / CONTAINER_STEP_MIB) *
          CONTAINER_STEP_MIB;
      expect(containers).toBeLessThanOrEqual(plan.streamYarnMib);
      expect(plan.executorMib).toBeGreaterThanOrEqual(1024);
    },
  );

  it("refuses a streaming master too small for Kafka, the generator and Dataproc's daemons, naming the key", () => {
    expect(() => parseStackConfig({ ...dev, [key("streamMachineType")]: "e2-medium" })).toThrow(StackConfigError);
    expect(() => parseStackConfig({ ...dev, [key("streamMachineType")]: "e2-medium" })).toThrow(
      /^Config key 'clickstream-pipeline:streamMachineType' accepts a machine type whose memory holds what runs on the stream master with 15% to spare \(at least \d+ GiB, e\.g\. e2-standard-4\); got 'e2-medium'\.$/,
    );
  });

  it("budgets the heap the broker's unit really sets", () => {
    const unit = readFileSync(path.join(REPO_ROOT, "stacks", "init", "kafka-broker.sh"), "utf8");
    const xmx = /KAFKA_HEAP_OPTS=[^"\n]*-Xmx(\d+)([mg])/.exec(unit)!;
    expect(Number(xmx[1]) * (xmx[2] === "g" ? 1024 : 1)).toBe(PARTS_MIB.kafkaHeap);
  });

  it("gives YARN and the streaming job exactly the budget's sizes (Pulumi mocks)", async () => {
    const run = await runProgram(dev);
    if (run.error) throw run.error;
    const plan = memoryPlan(parseStackConfig(dev));
    const cluster = byName(run, "streaming-cluster").inputs.clusterConfig;
    expect(cluster.softwareConfig.overrideProperties["yarn:yarn.nodemanager.resource.memory-mb"]).toBe(
      String(plan.streamYarnMib),
    );
    expect(byName(run, "streaming-spark-job").inputs.pysparkConfig.properties).toMatchObject({
      "spark.executor.memory": `${plan.executorMib}m`,
      "spark.driver.memory": `${PARTS_MIB.sparkDriver}m`,
      "spark.yarn.am.memory": `${PARTS_MIB.sparkAppMaster}m`,
    });
  }, 60_000);
});
