// The send loop: takes event times from the mode's clock, entries from the traffic model, and keeps a
// few batches in flight to the sink at the requested rate. An entry is counted in the ground truth only
// once its batch is acknowledged; if nothing is acknowledged for ackTimeoutMs the run fails, saying so.
import type { GroundTruth } from "./groundTruth";
import type { Sink } from "./sinks";
import type { Emission, TrafficModel } from "./traffic";

export interface RunPlan {
  /** next event time in epoch ms, or null when the plan is done */
  nextEventTime: () => number | null;
  /** entries per second, 0 = unthrottled */
  rate: number;
  batchSize: number;
  maxInFlight: number;
  ackTimeoutMs: number;
}

export interface RunState {
  generated: number;
  /** set by a signal: stop generating, flush what is in flight */
  stopRequested: boolean;
}

export type RunOutcome = { ok: true } | { ok: false; error: string };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function runGenerator(
  plan: RunPlan,
  model: TrafficModel,
  sink: Sink,
  truth: GroundTruth,
  state: RunState,
): Promise<RunOutcome> {
  const inFlight = new Set<Promise<void>>();
  let failure: string | null = null;
  let lastProgressAt = Date.now();
  let tokens = 1;
  let refilledAt = Date.now();
  let planDone = false;

  const watchdog = setInterval(() => {
    if (inFlight.size > 0 && Date.now() - lastProgressAt > plan.ackTimeoutMs && failure === null) {
      const last = sink.errors().last;
      failure = `${sink.destination} acknowledged nothing for ${plan.ackTimeoutMs / 1000} s${last ? ` (last error: ${last})` : ""}`;
    }
  }, 100);

  const send = (batch: Emission[]) => {
    if (inFlight.size === 0) lastProgressAt = Date.now();
    const write: Promise<void> = sink.write(batch).then(
      () => {
        truth.acknowledge(batch);
        lastProgressAt = Date.now();
        inFlight.delete(write);
      },
      (error: unknown) => {
        failure ??= `${sink.destination} refused a batch: ${error instanceof Error ? error.message : String(error)}`;
        inFlight.delete(write);
      },
    );
    inFlight.add(write);
  };

  /** Resolves when a batch completes, or within 100 ms so the watchdog and signals are noticed. */
  const settleOne = () => Promise.race([...inFlight, sleep(100)]);

  try {
    while (!planDone && !state.stopRequested && failure === null) {
      if (inFlight.size >= plan.maxInFlight) {
        await settleOne();
        continue;
      }
      let allowed = plan.batchSize;
      if (plan.rate > 0) {
        // token bucket holding at most one second of entries: after an outage, no burst of the backlog
        const now = Date.now();
        tokens = Math.min(Math.max(plan.rate, 1), tokens + (plan.rate * (now - refilledAt)) / 1000);
        refilledAt = now;
        if (tokens < 1) {
          await sleep(Math.min(100, Math.max(1, Math.ceil(((1 - tokens) * 1000) / plan.rate))));
          continue;
        }
        allowed = Math.min(allowed, Math.floor(tokens));
      }
      const batch: Emission[] = [];
      while (batch.length < allowed) {
        const eventTime = plan.nextEventTime();
        if (eventTime === null) {
          planDone = true;
          break;
        }
        batch.push(model.next(eventTime));
      }
      state.generated += batch.length;
      tokens -= batch.length;
      if (batch.length > 0) send(batch);
      // let acknowledgements and signals in between batches when unthrottled
      await new Promise((resolve) => setImmediate(resolve));
    }
    // flush: everything generated must be acknowledged (or the watchdog reports it)
    while (inFlight.size > 0 && failure === null) await settleOne();
  } finally {
    clearInterval(watchdog);
  }
  return failure === null ? { ok: true } : { ok: false, error: failure };
}
