// The background supervisor `npm start -- up` leaves running, detached from the terminal: it runs the
// pipeline (pipeline.ts), sends the simulated hours on a new state folder, then live traffic on the
// sandbox clock, and writes status.json every second. SIGTERM (`down`), or any other way of being asked
// (shutdown.ts), stops everything and keeps the state, so the next `up` resumes from it.
import { existsSync, readFileSync, renameSync, rmSync } from "node:fs";
import { Kafka, logLevel } from "kafkajs";
import { HOUR_MS, readClock } from "../schedule/clock";
import { sandboxLayout, stateDirFrom } from "../shared/layout";
import { ownAccessLogSettings, parseOptions, SandboxOptions } from "./options";
import { KAFKA_PORT } from "./usage";
import { completedHours, markerFigures } from "../processes/hourMarkers";
import * as parts from "../processes/parts";
import { DEFAULT_LIVE_RATE, Pipeline } from "../pipeline/pipeline";
import { SandboxError } from "../processes/processes";
import { ProcessRegistry } from "../processes/processRegistry";
import { lineWriter, Shutdown } from "../processes/shutdown";
import { StageClock } from "../pipeline/stageClock";
import { PipelineStatus } from "./status";
import { writeStateFile } from "../shared/stateFile";

const write = lineWriter(process.stdout);
const say = (line: string) => write(`${new Date().toISOString()} ${line}`);

/** Entries per second into the topic, from its end offsets between two readings. */
function kafkaRate(bootstrap: string): () => Promise<number | null> {
  const admin = new Kafka({ clientId: "sandbox-status", brokers: [bootstrap], logLevel: logLevel.NOTHING }).admin();
  let connected = false;
  let last: { at: number; total: number } | undefined;
  return async () => {
    try {
      if (!connected) {
        await admin.connect();
        connected = true;
      }
      const offsets = await admin.fetchTopicOffsets(parts.TOPIC);
      const total = offsets.reduce((a, o) => a + Number(o.high), 0);
      const now = Date.now();
      const rate = last ? ((total - last.total) * 1000) / Math.max(1, now - last.at) : null;
      last = { at: now, total };
      return rate;
    } catch {
      return null;
    }
  };
}

function snapshot(p: Pipeline, phase: string, intoKafka: number | null, o: SandboxOptions): PipelineStatus {
  const marked = completedHours(p.l);
  const figures = markerFigures(p.l);
  const loaded = p.loadedHours();
  // Entries into the warehouse: the raw rows of the hours that became queryable in the last minute.
  const recent = [...p.firstAcceptances().entries()].filter(([, d]) => Date.now() - d.acceptedAtMs <= 60_000);
  const loadedRate = recent.reduce((a, [hour]) => a + (figures.get(hour)?.rows ?? 0), 0) / 60;
  return {
    phase,
    updatedAtMs: Date.now(),
    supervisorPid: process.pid,
    endpoints: p.endpoints,
    clock: { factor: p.clock.factor, eventMs: p.now(), wallMs: Date.now(), running: p.clockIsRunning },
    processes: p.processes(),
    latest: { marked: marked.at(-1), published: p.scheduler.publishedHours().at(-1), loaded: loaded.at(-1) },
    hourlyRuns: {
      ok: p.scheduler.runs.filter((r) => r.ok).length,
      failed: p.scheduler.runs.filter((r) => !r.ok).length,
    },
    failedHours: [...new Map(p.scheduler.runs.map((r) => [r.hour, r])).values()]
      .filter((r) => !r.ok)
      .map((r) => ({ hour: r.hour, runId: r.runId, error: r.error ?? "failed" })),
    freshness: p.freshness(),
    rates: { intoKafka, loaded: loadedRate },
    quarantined: [...figures.values()].reduce((a, f) => a + f.quarantined, 0),
    traffic: o.traffic ? "generator" : "your producers",
  };
}

/** Hours `npm start -- rerun` asked for: each becomes a rerun of the scheduler (once the hour has run). */
function takeRerunRequests(file: string, p: Pipeline): void {
  if (!existsSync(file)) return;
  const taken = `${file}.taken`;
  renameSync(file, taken);
  for (const hour of readFileSync(taken, "utf8").split("\n").filter(Boolean)) {
    if (p.scheduler.runs.some((r) => r.hour === hour)) {
      say(`rerun of ${hour} requested: it runs under a new run id`);
      p.scheduler.requestRerun(hour);
    } else say(`rerun of ${hour} ignored: the hour has not run yet (it runs once it is marked complete)`);
  }
  rmSync(taken, { force: true });
}

async function main(argv: string[]): Promise<number> {
  const o = parseOptions(argv);
  if (o === "help") return 2;
  const l = sandboxLayout(stateDirFrom(o.stateDir));
  const stages = new StageClock(say);
  let phase = "starting";
  let pipeline: Pipeline | undefined;
  const registry = new ProcessRegistry(l.processes);
  const shutdown = new Shutdown(process, registry, say, {
    stopping: "stopping every process (state is kept; 'up' resumes from it)",
    exitCode: () => 0,
    stopped: () => {
      rmSync(l.status, { force: true });
      rmSync(l.services, { force: true });
    },
  }).install();
  const stop = () => shutdown.request("SIGTERM");
  try {
    pipeline = await Pipeline.start(
      l,
      {
        idleSeconds: o.traffic ? undefined : 10,
        clockFactor: o.clockFactor || readClock(l.clock)?.factor || 1,
        clockStartMs: Date.parse(o.start) + o.hours * HOUR_MS,
        input: { format: o.format, accessLog: o.accessLog },
        kafkaPort: o.kafkaPort,
        preferredKafkaPort: KAFKA_PORT,
        maxQuarantineShare: o.maxQuarantineShare,
      },
      say,
      stages,
      registry,
      shutdown,
    );
  } catch (e) {
    if (shutdown.requested) return await shutdown.done;
    say(
      `error: ${(e as Error).message}${e instanceof SandboxError ? `\n  what to do: ${e.hint}${e.log ? `\n  log: ${e.log}` : ""}` : ""}`,
    );
    // What the failed start left (the loader's build, a server that never answered) goes too.
    await registry.stopAll({ except: [process.pid] });
    registry.forget(process.pid);
    rmSync(l.services, { force: true });
    return 1;
  }
  const p = pipeline;
  const rate = kafkaRate(p.endpoints.kafkaBootstrap as string);
  let intoKafka: number | null = null;
  const writeStatus = () => {
    if (shutdown.requested) return;
    writeStateFile(l.status, snapshot(p, phase, intoKafka, o));
  };
  writeStatus();
  setInterval(writeStatus, 1000);
  setInterval(() => takeRerunRequests(l.reruns, p), 1000);
  setInterval(() => void rate().then((r) => (intoKafka = r)), 5000);

  try {
    if (ownAccessLogSettings(o)) {
      say("access-log settings of your own: no simulated hours (the generator's lines follow the defaults)");
    } else if (!p.startupSent) {
      say(`sending ${o.hours} h x ${o.perHour} entries of simulated traffic from ${o.start}`);
      await p.sendStartupHours(o);
    }
    if (o.traffic) {
      await p.startLiveTraffic(o);
      say(
        `live traffic: ${o.rate || DEFAULT_LIVE_RATE} entries/s on the sandbox clock (${p.clock.factor === 1 ? "real time" : `${p.clock.factor}x`})`,
      );
    } else {
      p.runClock();
      say("no live traffic: send your own to the Kafka endpoint");
    }
  } catch (e) {
    if (!shutdown.requested) say(`error: ${(e as Error).message}`);
    stop();
    return await shutdown.done;
  }
  phase = "running";
  writeStatus();
  return await new Promise<number>(() => undefined);
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    say(`error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    process.exit(1);
  },
);
