// The sandbox's clock: the event time the live generator stamps and the scheduler's "now". At 1x it is
// the wall clock; accelerated (--clock 60x) it runs that many times faster from where it last stood, and
// it stands still while the sandbox is down, so `down` then `up` loses no simulated hour.
import { existsSync, readFileSync } from "node:fs";
import { writeStateFile } from "../shared/stateFile";

export interface ClockState {
  /** how many times faster than the wall clock event time runs (1 = real time) */
  factor: number;
  /** the event time (epoch ms) the clock read at wall time `wallMs` */
  eventMs: number;
  wallMs: number;
}

export const HOUR_MS = 3_600_000;

export function clockNow(c: ClockState, wallMs = Date.now()): number {
  return Math.floor(c.eventMs + (wallMs - c.wallMs) * c.factor);
}

/** "60x", "60" or "real" -> 60, 60, 1; throws with what it accepts. */
export function parseClockFactor(text: string): number {
  if (text === "real") return 1;
  const m = /^(\d+(?:\.\d+)?)x?$/.exec(text);
  const n = m ? Number(m[1]) : NaN;
  if (!(n >= 1 && n <= 3600))
    throw new Error(`--clock must be 'real' or a speed-up from 1x to 3600x like 60x, got '${text}'`);
  return n;
}

/**
 * The clock of a start: real time at 1x; accelerated, from the time it stood at when the sandbox went
 * down (or from `firstStartMs` the first time).
 */
export function startClock(
  factor: number,
  saved: ClockState | undefined,
  firstStartMs: number,
  wallMs = Date.now(),
): ClockState {
  if (factor === 1) return { factor, eventMs: wallMs, wallMs };
  return { factor, eventMs: saved ? saved.eventMs : firstStartMs, wallMs };
}

export function readClock(file: string): ClockState | undefined {
  return existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as ClockState) : undefined;
}

/** Saves the clock as it reads now: a later start resumes from this event time. */
export function saveClock(file: string, c: ClockState, wallMs = Date.now()): void {
  writeStateFile(file, { factor: c.factor, eventMs: clockNow(c, wallMs), wallMs });
}

export const hourOf = (ms: number) => new Date(ms).toISOString().slice(0, 13);
export const hourEndMs = (hour: string) => Date.parse(`${hour}:00:00Z`) + HOUR_MS;
