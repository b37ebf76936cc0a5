// What runs on each node and the memory each part takes, so that no node is overcommitted: Kafka and the
// generator run outside YARN on the streaming master, and YARN would otherwise hand their memory to executors.
import type { StackConfig } from "./config";
import { machineShape } from "./machineTypes";

/** Left free on every node for the page cache, spikes and what the table does not name. */
export const HEADROOM = 0.15;
/** YARN rounds every container up to this (conservatively: Dataproc's minimum allocation is no larger). */
export const CONTAINER_STEP_MIB = 1024;

/** MiB each part takes. The daemons' figures are their heaps on Dataproc 2.2 images plus the JVM's own share. */
export const PARTS_MIB = {
  system: 768, // the OS, Dataproc's agent, the logging and monitoring agents
  masterDaemons: 3072, // HDFS NameNode, YARN ResourceManager, Spark History Server, Hive Metastore and its MySQL, HiveServer2, Knox
  workerDaemons: 768, // HDFS DataNode, YARN NodeManager
  kafkaHeap: 1024, // KAFKA_HEAP_OPTS -Xmx1g in stacks/init/kafka-broker.sh
  kafkaOffHeap: 256, // metaspace, direct buffers, threads
  generatorBase: 256, // Node.js and kafkajs
  generatorPer1000Rate: 64, // batches in flight grow with the rate
  sparkDriver: 1024, // spark.driver.memory: the streaming query's driver, on the master (client mode)
  sparkAppMaster: 512, // spark.yarn.am.memory
} as const;

/** Spark's default memory overhead of a JVM it starts: 10%, at least 384 MiB. */
export const overheadOf = (mib: number) => Math.max(384, Math.ceil(mib * 0.1));
const container = (mib: number) => Math.ceil((mib + overheadOf(mib)) / CONTAINER_STEP_MIB) * CONTAINER_STEP_MIB;
/** The largest JVM memory, a multiple of 128 MiB, whose container fits in `mib`. */
function jvmFitting(mib: number): number {
  let jvm = Math.floor(mib / 128) * 128;
  while (jvm > 0 && jvm + overheadOf(jvm) > mib) jvm -= 128;
  return jvm;
}

export interface NodeBudget {
  node: string;
  machineType: string;
  memoryMib: number;
  /** What runs on the node, with its MiB; YARN's share is what its containers may take. */
  parts: { what: string; mib: number }[];
  /** The config key a too-small machine type is set by. */
  key: "streamMachineType" | "streamWorkerMachineType" | "hiveMachineType";
}

export interface MemoryPlan {
  nodes: NodeBudget[];
  /** yarn.nodemanager.resource.memory-mb on the streaming cluster's node managers. */
  streamYarnMib: number;
  /** spark.executor.memory of the streaming job, MiB. */
  executorMib: number;
}

const memoryOf = (machineType: string) => Math.round((machineShape(machineType)?.memoryGib ?? 0) * 1024);
const usable = (machineType: string) => Math.floor(memoryOf(machineType) * (1 - HEADROOM));

/** The settings a stack's memory plan weighs: the machines, and what runs on the streaming master. */
export type MemoryPlanSettings = Pick<
  StackConfig,
  | "streamMachineType"
  | "streamWorkers"
  | "streamWorkerMachineType"
  | "hiveMachineType"
  | "hiveMaxWorkers"
  | "kafka"
  | "demoTraffic"
  | "generatorRate"
>;

/** The memory plan of a stack: every node's parts, and the Spark and YARN sizes that follow from them. */
export function memoryPlan(config: MemoryPlanSettings): MemoryPlan {
  const nodes: NodeBudget[] = [];
  const {
    system,
    masterDaemons,
    workerDaemons,
    kafkaHeap,
    kafkaOffHeap,
    generatorBase,
    generatorPer1000Rate,
    sparkDriver,
    sparkAppMaster,
  } = PARTS_MIB;
  const streamMaster = [
    { what: "system and Dataproc agents", mib: system },
    { what: "Hadoop, Spark and Hive master daemons", mib: masterDaemons },
    ...(config.kafka === "dataproc"
      ? [{ what: "Kafka broker (heap and off-heap)", mib: kafkaHeap + kafkaOffHeap }]
      : []),
    ...(config.demoTraffic
      ? [
          {
            what: "web-log generator",
            mib: generatorBase + Math.ceil(config.generatorRate / 1000) * generatorPer1000Rate,
          },
        ]
      : []),
    { what: "Spark driver", mib: sparkDriver + overheadOf(sparkDriver) },
  ];
  const sum = (parts: { mib: number }[]) => parts.reduce((a, p) => a + p.mib, 0);
  const amContainer = container(sparkAppMaster);
  let streamYarnMib: number, executorMib: number;
  if (config.streamWorkers === 0) {
    // One node: the node manager, the application master and the one executor beside everything else.
    const fixed = [...streamMaster, { what: "HDFS DataNode, YARN NodeManager", mib: workerDaemons }];
    streamYarnMib =
      Math.floor((usable(config.streamMachineType) - sum(fixed)) / CONTAINER_STEP_MIB) * CONTAINER_STEP_MIB;
    executorMib = jvmFitting(streamYarnMib - amContainer);
    nodes.push({
      node: "stream master",
      machineType: config.streamMachineType,
      memoryMib: memoryOf(config.streamMachineType),
      key: "streamMachineType",
      parts: [...fixed, { what: "YARN: application master and 1 executor", mib: streamYarnMib }],
    });
  } else {
    nodes.push({
      node: "stream master",
      machineType: config.streamMachineType,
      memoryMib: memoryOf(config.streamMachineType),
      key: "streamMachineType",
      parts: streamMaster,
    });
    const fixed = [
      { what: "system and Dataproc agents", mib: system },
      { what: "HDFS DataNode, YARN NodeManager", mib: workerDaemons },
    ];
    streamYarnMib =
      Math.floor((usable(config.streamWorkerMachineType) - sum(fixed)) / CONTAINER_STEP_MIB) * CONTAINER_STEP_MIB;
    // Two executors per worker (stacks/streaming.ts), and room on each for the application master.
    executorMib = jvmFitting(Math.floor((streamYarnMib - amContainer) / 2 / CONTAINER_STEP_MIB) * CONTAINER_STEP_MIB);
    nodes.push({
      node: "stream worker",
      machineType: config.streamWorkerMachineType,
      memoryMib: memoryOf(config.streamWorkerMachineType),
      key: "streamWorkerMachineType",
      parts: [...fixed, { what: "YARN: 2 executors (and the application master on one worker)", mib: streamYarnMib }],
    });
  }
  const hiveMaster = [
    { what: "system and Dataproc agents", mib: system },
    { what: "Hadoop, Spark and Hive master daemons", mib: masterDaemons },
    ...(config.hiveMaxWorkers === 0
      ? [
          { what: "HDFS DataNode, YARN NodeManager", mib: workerDaemons },
          { what: "YARN: the hourly Hive queries (at least)", mib: CONTAINER_STEP_MIB * 2 },
        ]
      : []),
  ];
  nodes.push({
    node: "hive master",
    machineType: config.hiveMachineType,
    memoryMib: memoryOf(config.hiveMachineType),
    key: "hiveMachineType",
    parts: hiveMaster,
  });
  if (config.hiveMaxWorkers > 0) {
    nodes.push({
      node: "hive worker",
      machineType: config.hiveMachineType,
      memoryMib: memoryOf(config.hiveMachineType),
      key: "hiveMachineType",
      parts: [
        { what: "system and Dataproc agents", mib: system },
        { what: "HDFS DataNode, YARN NodeManager", mib: workerDaemons },
        { what: "YARN: the hourly Hive queries (at least)", mib: CONTAINER_STEP_MIB * 2 },
      ],
    });
  }
  return { nodes, streamYarnMib, executorMib };
}

/** The first node whose parts do not fit its machine with the headroom, or whose executor would be under 1 GiB. */
export function overcommitted(plan: MemoryPlan): NodeBudget | undefined {
  return (
    plan.nodes.find((n) => n.parts.reduce((a, p) => a + p.mib, 0) > n.memoryMib * (1 - HEADROOM)) ??
    (plan.executorMib < 1024
      ? plan.nodes.find((n) => n.node.startsWith("stream") && n.parts.some((p) => p.what.startsWith("YARN")))
      : undefined)
  );
}
