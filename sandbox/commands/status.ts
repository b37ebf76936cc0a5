// What `npm start -- status` shows of a running sandbox: written by the supervisor every second
// (status.json), read and printed by the command. One place computes the figures, from the pipeline.
import { existsSync, readFileSync } from "node:fs";
import { ClockState, clockNow } from "../schedule/clock";
import { SupervisedState } from "../processes/supervisor";
import { Endpoints } from "../processes/services";

export interface PipelineStatus {
  /** starting, running, stopping */
  phase: string;
  updatedAtMs: number;
  supervisorPid: number;
  endpoints: Endpoints;
  clock: ClockState & { running: boolean };
  processes: SupervisedState[];
  latest: { marked?: string; published?: string; loaded?: string };
  hourlyRuns: { ok: number; failed: number };
  /** the hours whose latest run failed, with what failed (the failed data-quality checks, or the step's error) */
  failedHours?: { hour: string; runId: string; error: string }[];
  freshness: { hour: string; clockSeconds: number; wallSeconds: number }[];
  rates: { intoKafka: number | null; loaded: number | null };
  quarantined: number;
  traffic: "generator" | "your producers";
}

export function readStatus(file: string): PipelineStatus | undefined {
  try {
    return existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as PipelineStatus) : undefined;
  } catch {
    return undefined; // being rewritten
  }
}

export function median(values: number[]): number | null {
  if (!values.length) return null;
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

const fixed = (n: number | null, digits = 1) => (n === null ? "-" : n.toFixed(digits));

export function formatStatus(s: PipelineStatus, nowMs = Date.now()): string {
  const stale = nowMs - s.updatedAtMs > 10_000;
  const clockAt = s.clock.running ? clockNow(s.clock, nowMs) : s.clock.eventMs;
  const lines = [
    `sandbox ${s.phase}${stale ? " (no update for " + Math.round((nowMs - s.updatedAtMs) / 1000) + " s: is the supervisor alive?)" : ""}; supervisor pid ${s.supervisorPid}`,
    `clock: ${s.clock.factor === 1 ? "real time" : `${s.clock.factor}x`}, now ${new Date(clockAt).toISOString().slice(0, 19)}Z${s.clock.running ? "" : " (stopped until traffic starts)"}; traffic: ${s.traffic}`,
    "",
    "stage        state      restarts  pid",
  ];
  for (const p of s.processes)
    lines.push(
      `${p.name.padEnd(12)} ${(p.running ? "running" : "DOWN").padEnd(10)} ${String(p.restarts).padStart(8)}  ${p.pid ?? "-"}`,
    );
  const fresh = s.freshness.map((f) => f.wallSeconds);
  const worst = fresh.length ? Math.max(...fresh) : null;
  const last = s.freshness[s.freshness.length - 1];
  lines.push(
    "",
    `latest hour marked complete (stream):  ${s.latest.marked ?? "-"}`,
    `latest hour published (hourly runs):   ${s.latest.published ?? "-"}   (runs ok ${s.hourlyRuns.ok}, failed ${s.hourlyRuns.failed})`,
    `latest hour loaded (warehouse):        ${s.latest.loaded ?? "-"}`,
    ...(s.failedHours ?? []).map((f) => `FAILED hour ${f.hour} (run ${f.runId}): ${f.error}`),
    `freshness, hour end to rows queryable: ${last ? `${last.hour}: ${fixed(last.wallSeconds)} s` : "-"}; median ${fixed(median(fresh))} s, worst ${fixed(worst)} s over ${fresh.length} hours` +
      (s.clock.factor === 1 ? "" : ` (wall clock; x${s.clock.factor} on the sandbox clock)`),
    `entries/s: into Kafka ${fixed(s.rates.intoKafka)}, into the warehouse ${fixed(s.rates.loaded)} (last minute)`,
    `quarantined entries: ${s.quarantined}`,
  );
  return lines.join("\n");
}
