// Event times of the two modes. Simulated: exactly perHour entries in each of the hours from start,
// spread evenly with seeded jitter, in ascending order. Live: the wall clock, or an accelerated one.
import { seededRandom } from "./random";

const HOUR_MS = 3_600_000;

export function* simulatedEventTimes(startMs: number, hours: number, perHour: number, seed: number): Generator<number> {
  const random = seededRandom(seed, 3);
  for (let h = 0; h < hours; h++) {
    for (let i = 0; i < perHour; i++) {
      yield startMs + h * HOUR_MS + Math.floor(((i + random.next()) * HOUR_MS) / perHour);
    }
  }
}

/** Live: the event time at wall time `now` of a clock that read `clockStartMs` at `startedAt` and runs `factor` times as fast. */
export function liveEventTime(now: number, startedAt: number, clockStartMs: number, factor: number): number {
  return Math.floor(clockStartMs + (now - startedAt) * factor);
}
