// The generator's command line: options in, traffic to Kafka (or stdout), the ground truth out.
// Exit 0 when everything generated was acknowledged (or the reader of stdout stopped reading), 1 when
// Kafka failed us, 2 on bad usage.
import fs from "node:fs";
import { isClosedPipe, USAGE_EXIT } from "../commandLine/commandLine";
import { liveEventTime, simulatedEventTimes } from "./eventTime";
import { GroundTruth, RunSummary } from "./groundTruth";
import { GeneratorOptions, parseOptions, USAGE, UsageError } from "./options";
import { runGenerator, RunState } from "./run";
import { ErrorLog, openKafkaSink, openStdoutSink, Sink } from "./sinks";
import { TrafficModel } from "./traffic";

const fmt = (n: number) => Math.round(n).toLocaleString("en-US");

function eventClock(options: GeneratorOptions): () => number | null {
  if (options.mode === "simulated") {
    const times = simulatedEventTimes(options.startMs as number, options.hours, options.perHour, options.seed);
    return () => {
      const next = times.next();
      return next.done ? null : next.value;
    };
  }
  const startedAt = Date.now();
  const endsAt = options.durationSeconds === null ? Infinity : startedAt + options.durationSeconds * 1000;
  const count = options.count ?? Infinity;
  let given = 0;
  return () => {
    const now = Date.now();
    if (given >= count || now >= endsAt) return null;
    given++;
    return liveEventTime(now, startedAt, options.clockStartMs ?? startedAt, options.clockFactor);
  };
}

function withTimeout<T>(promise: Promise<T>, ms: number, message: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message())), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function describe(summary: RunSummary): string {
  const lines = [
    `${summary.complete ? "done" : "INCOMPLETE"}: ${fmt(summary.acknowledged)} of ${fmt(summary.generated)} entries acknowledged by ${summary.destination}` +
      ` in ${summary.elapsed_seconds.toFixed(1)} s (${fmt(summary.acknowledged / Math.max(summary.elapsed_seconds, 0.001))}/s), seed ${summary.seed}`,
    `  ${fmt(summary.visits)} visits, ${fmt(summary.cart_adds)} cart additions, ${fmt(summary.malformed)} malformed, ${fmt(summary.duplicates)} duplicates, ` +
      `${summary.ignored > 0 ? `${fmt(summary.ignored)} ignored (assets), ` : ""}${fmt(summary.errors)} retried errors`,
  ];
  if (summary.unacknowledged > 0) {
    lines.push(
      `  ${fmt(summary.unacknowledged)} entries were NOT acknowledged (they may or may not have reached ${summary.destination})`,
    );
  }
  const shown = summary.hours.slice(0, 24);
  if (shown.length > 0) lines.push("  hour (UTC)              visits  cart_adds");
  for (const h of shown) lines.push(`  ${h.hour}  ${String(h.visits).padStart(8)}  ${String(h.cart_adds).padStart(9)}`);
  if (summary.hours.length > shown.length)
    lines.push(`  ... ${summary.hours.length - shown.length} more hours (see --summary)`);
  return lines.join("\n");
}

/** Runs the generator; resolves to the process exit code. */
export async function runCli(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let options: GeneratorOptions | null;
  try {
    options = parseOptions(argv, env);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`error: ${error.message}`);
    return USAGE_EXIT;
  }
  if (options === null) {
    console.log(USAGE);
    return 0;
  }
  const opts = options;
  const startedAt = Date.now();
  const state: RunState = { generated: 0, stopRequested: false };
  // Per-product detail only where someone reads it: the summary file, or a bounded simulated run.
  const truth = new GroundTruth(opts.summaryFile !== null || opts.mode === "simulated");
  const errorLog = new ErrorLog();
  const progress = process.stderr.isTTY ? setInterval(() => showProgress(), 500) : undefined;
  let sink: Sink | undefined;
  let lastShown = { at: startedAt, acknowledged: 0 };

  function showProgress(): void {
    const now = Date.now();
    const rate = ((truth.acknowledged - lastShown.acknowledged) * 1000) / Math.max(now - lastShown.at, 1);
    lastShown = { at: now, acknowledged: truth.acknowledged };
    process.stderr.write(
      `\r\x1b[Ksent ${fmt(state.generated)}  acknowledged ${fmt(truth.acknowledged)}  ${fmt(rate)}/s  ` +
        `malformed ${fmt(truth.malformed)}  errors ${fmt(errorLog.count)}`,
    );
  }

  function finish(error: string | null): number {
    if (progress) {
      clearInterval(progress);
      process.stderr.write("\r\x1b[K");
    }
    const summary = truth.summary({
      complete: error === null && state.generated === truth.acknowledged,
      error,
      mode: opts.mode,
      destination: sink?.destination ?? (opts.stdout ? "stdout" : `kafka://${opts.brokers.join(",")}/${opts.topic}`),
      topic: opts.stdout ? null : opts.topic,
      seed: opts.seed,
      generated: state.generated,
      errors: errorLog.count,
      elapsed_seconds: (Date.now() - startedAt) / 1000,
    });
    if (opts.summaryFile) fs.writeFileSync(opts.summaryFile, JSON.stringify(summary, null, 2) + "\n");
    if (error) console.error(`error: ${error}`);
    console.error(describe(summary));
    return summary.complete ? 0 : 1;
  }

  const onSignal = (signal: NodeJS.Signals) => {
    if (state.stopRequested) {
      // a second signal: stop waiting for the flush, report what was acknowledged
      process.exit(finish(`stopped by a second ${signal} before everything was acknowledged`));
    }
    state.stopRequested = true;
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);

  // A reader that goes away (`generator --stdout | head`) is a normal end: stop generating, exit 0, quietly.
  let readerGone = false;
  if (opts.stdout) {
    process.stdout.on("error", (e) => {
      if (!isClosedPipe(e)) throw e;
      readerGone = true;
      state.stopRequested = true;
    });
  }

  const timeoutMs = opts.brokerTimeoutSeconds * 1000;
  try {
    sink = opts.stdout
      ? openStdoutSink()
      : await withTimeout(
          openKafkaSink(opts, errorLog),
          timeoutMs,
          () =>
            `cannot reach Kafka at ${opts.brokers.join(",")} within ${opts.brokerTimeoutSeconds} s${errorLog.last ? ` (last error: ${errorLog.last})` : ""}`,
        );
  } catch (error) {
    return finish(error instanceof Error ? error.message : String(error));
  }
  const model = new TrafficModel({
    seed: opts.seed,
    products: opts.products,
    malformedRate: opts.malformedRate,
    duplicateRate: opts.duplicateRate,
    format: opts.format,
  });
  const outcome = await runGenerator(
    {
      nextEventTime: eventClock(opts),
      rate: opts.rate,
      batchSize: opts.batchSize,
      maxInFlight: 4,
      ackTimeoutMs: timeoutMs,
    },
    model,
    sink,
    truth,
    state,
  );
  if (outcome.ok) await withTimeout(sink.close(), 5000, () => "closing the producer timed out").catch(() => undefined);
  if (readerGone) {
    if (progress) clearInterval(progress);
    return 0;
  }
  return finish(outcome.ok ? null : outcome.error);
}
