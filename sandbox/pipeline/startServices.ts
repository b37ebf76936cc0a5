// The pipeline's services, each kept running by its supervisor: the local BigQuery server (with the
// warehouse the stack declares) and the loader function start while the Kafka broker (and the topic)
// starts; the streaming job and the hourly steps' worker start once the broker is up.
import { join } from "node:path";
import { boldFor } from "../../commandLine/commandLine";
import { createLocalWarehouse } from "../../functions/loader/local/localWarehouse";
import { localClient } from "../verdict/localBigQuery";
import { HourlyWorker, startHourlyWorker } from "../processes/hourlyWorker";
import { assertJava } from "../processes/kafkaFiles";
import { ensureTopic } from "../processes/kafkaAdmin";
import { startBroker } from "../processes/kafkaBroker";
import * as parts from "../processes/parts";
import { runToCompletion, SandboxError, startService, waitUntil } from "../processes/processes";
import { ProcessRegistry } from "../processes/processRegistry";
import { Endpoints } from "../processes/services";
import { exitOf, Started, Supervised } from "../processes/supervisor";
import { SandboxLayout } from "../shared/layout";
import { answers, freePort } from "../shared/ports";
import { StageClock } from "./stageClock";
import { maxQuarantineShareOf } from "./stateFolder";

export interface PipelineSettings {
  /** the streaming job marks the latest hour complete after this long without entries (none: only the watermark closes hours) */
  idleSeconds?: number;
  /** the streaming job's micro-batch interval (default 5 s); shorter than idleSeconds */
  triggerSeconds?: number;
  /** the hourly worker runs a made-up hour before its first (for a run whose hours come right after the start) */
  warmUpWorker?: boolean;
  clockFactor: number;
  /** where an accelerated clock starts the first time (event time, epoch ms) */
  clockStartMs: number;
  /** what the streaming job reads: JSON entries or access-log lines, and how lines map to entries */
  input: parts.StreamInput;
  /** the Kafka port asked for (kept by the state folder from then on) */
  kafkaPort?: number;
  /** a new state folder's Kafka port when it is free */
  preferredKafkaPort?: number;
  /** the largest quarantined share of an hour its check allows (kept by the state folder from then on) */
  maxQuarantineShare?: number;
}

/** What the services are started for: the pipeline's folder, settings, registry and endpoints. */
export interface ServiceHost {
  readonly l: SandboxLayout;
  readonly settings: PipelineSettings;
  readonly registry: ProcessRegistry;
  readonly endpoints: Endpoints;
  readonly say: (line: string) => void;
  worker?: HourlyWorker;
  keep(
    name: string,
    start: () => Promise<Started>,
    log: (line: string) => void,
    onRestart?: (s: Started) => void | Promise<void>,
  ): Supervised;
}

export async function startServices(p: ServiceHost, stages: StageClock, log: (line: string) => void): Promise<void> {
  const l = p.l;
  // Checked before anything starts: without Java the run stops at once, at the Kafka stage.
  let noJava: Error | undefined;
  try {
    assertJava();
  } catch (e) {
    noJava = e as Error;
  }
  // The BigQuery server and the loader need no broker: they start while Kafka starts.
  const warehouse = noJava
    ? Promise.resolve()
    : stages.stage("bigquery", "starting the local BigQuery server and the loader function", async () => {
        // The archive the stack deploys, built while the server starts.
        const built = runToCompletion(
          {
            name: "build-loader",
            command: "npm",
            args: ["run", "--silent", "build:loader"],
            cwd: parts.REPO_ROOT,
            log: join(l.logs, "build-loader.log"),
            timeoutMs: 120_000,
            hint: "fix the build error in the log (functions/loader)",
          },
          p.registry,
        );
        built.catch(() => undefined);
        const bqPort = await freePort();
        const bq = p.keep("bigquery", async () => startService(parts.bigqueryServerSpec(l, bqPort), p.registry), log);
        const bqService = await bq.begin();
        const endpoint = `http://127.0.0.1:${bqPort}`;
        await waitUntil("the local BigQuery server listens", () => answers(endpoint), {
          timeoutMs: 60_000,
          log: bqService.log,
          hint: "check that 'npm run setup' installed the BigQuery emulator (scripts/setup.d/50-bigquery-emulator.sh)",
        });
        p.endpoints.bigqueryEndpoint = endpoint;
        p.endpoints.bigqueryProject = parts.BQ_PROJECT;
        p.endpoints.bigqueryTable = `${parts.BQ_PROJECT}.${parts.BQ_DATASET}.${parts.HOURLY_TABLE}`;
        // The dataset, tables and views as the stack declares them in the cloud (kept by the server across down/up).
        const client = localClient(endpoint, parts.BQ_PROJECT);
        const [exists] = await client.dataset(parts.BQ_DATASET).exists();
        if (!exists)
          await createLocalWarehouse(client, {
            project: parts.BQ_PROJECT,
            dataset: parts.BQ_DATASET,
            location: parts.BQ_LOCATION,
          });

        // Served by the Functions Framework as Cloud Run functions serve it.
        await built;
        const loaderPort = await freePort();
        p.endpoints.loaderUrl = `http://127.0.0.1:${loaderPort}/`;
        const loader = p.keep(
          "loader",
          async () => startService(parts.loaderSpec(l, loaderPort, endpoint), p.registry),
          log,
        );
        const loaderService = await loader.begin();
        await waitUntil("the loader function answers", () => answers(p.endpoints.loaderUrl as string), {
          timeoutMs: 60_000,
          log: loaderService.log,
          hint: "run 'npm run build:loader' and read the loader's log",
        });
      });
  // Settled before anything fails, so that stop() finds every process the stage started.
  warehouse.catch(() => undefined);
  try {
    const kafka = await stages.stage("kafka", "starting the Kafka broker", async () => {
      if (noJava) {
        throw new SandboxError(
          `the Kafka broker did not start: ${noJava.message}`,
          "fix the cause named above (Java 17 on PATH, 'npm run setup' for the jars), then run again",
          join(l.kafka, "broker.log"),
        );
      }
      let bootstrap = "";
      const broker = p.keep(
        "kafka",
        async () => {
          p.registry.assertOpen("kafka");
          const b = await startBroker({
            stateDir: l.kafka,
            detached: true,
            env: p.registry.env(),
            onSpawn: (child) => p.registry.recordChild("kafka", child),
            port: p.settings.kafkaPort,
            preferredPort: p.settings.preferredKafkaPort,
          });
          const { kafkaPort, preferredKafkaPort } = p.settings;
          if (
            bootstrap === "" &&
            kafkaPort === undefined &&
            preferredKafkaPort !== undefined &&
            !b.bootstrapServers.endsWith(`:${preferredKafkaPort}`)
          ) {
            log(
              `Kafka listens on ${b.bootstrapServers}, not on the default port ${preferredKafkaPort} (taken when this state folder's broker first started); the port is kept across down and up; choose one with 'up --kafka-port N'`,
            );
          }
          bootstrap = b.bootstrapServers;
          return { pid: b.pid, exited: exitOf(b.pid), log: b.log };
        },
        log,
      );
      await broker.begin().catch((e: Error) => {
        throw new SandboxError(
          `the Kafka broker did not start: ${e.message}`,
          "fix the cause named above (Java 17 on PATH, 'npm run setup' for the jars), then run again",
          join(l.kafka, "broker.log"),
        );
      });
      // Before the streaming job subscribes to it (on a resumed state folder it exists already).
      await ensureTopic(bootstrap, parts.TOPIC, parts.TOPIC_PARTITIONS);
      return bootstrap;
    });
    p.endpoints.kafkaBootstrap = kafka;
    p.endpoints.rawBucket = l.rawBucket;
    p.endpoints.curatedBucket = l.curatedBucket;

    // The streaming job, the hourly worker, the BigQuery server and the loader start side by side.
    announce(p.say, "starting the Spark streaming job and the hourly steps' worker (they keep running)");
    const stream = p.keep("stream", async () => startService(parts.streamSpec(l, kafka, p.settings), p.registry), log);
    await stream.begin();
    const worker = p.keep(
      "hourly",
      async () =>
        (p.worker = startHourlyWorker(
          parts.hourlyWorkerSpec(l, p.settings.clockFactor, maxQuarantineShareOf(l), p.settings.warmUpWorker),
          p.registry,
        )),
      log,
    );
    await worker.begin();
  } catch (e) {
    await warehouse.catch(() => undefined);
    throw e;
  }
  await warehouse;
}

const bold = boldFor(process.stderr);

export function announce(to: (line: string) => void, what: string): void {
  to(bold(`==> ${what}`));
}
