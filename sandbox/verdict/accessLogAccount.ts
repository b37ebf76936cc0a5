// Access-log lines in = raw rows + quarantined + ignored, from the streaming job's "access log:" lines
// (jobs/weblog_stream.py logs one per batch; a batch re-run after a restart logs again under the same
// number, so the last line of each batch counts).
export interface AccessLogCounts {
  lines: number;
  visit: number;
  cart_add: number;
  ignored: number;
  malformed: number;
}

const PREFIX = "access log: ";

/** The job's counts summed over its batches; null when it logged none. */
export function accessLogCounts(streamLog: readonly string[]): AccessLogCounts | null {
  const perBatch = new Map<number, AccessLogCounts>();
  for (const line of streamLog) {
    const at = line.indexOf(PREFIX);
    if (at < 0) continue;
    const { batch, lines, visit, cart_add, ignored, malformed } = JSON.parse(
      line.slice(at + PREFIX.length),
    ) as AccessLogCounts & { batch: number };
    perBatch.set(batch, { lines, visit, cart_add, ignored, malformed });
  }
  if (perBatch.size === 0) return null;
  const sum: AccessLogCounts = { lines: 0, visit: 0, cart_add: 0, ignored: 0, malformed: 0 };
  for (const c of perBatch.values()) for (const k of Object.keys(sum) as (keyof AccessLogCounts)[]) sum[k] += c[k];
  return sum;
}

export interface AccessLogAccount {
  exact: boolean;
  text: string;
}

/** Whether every line shipped is in raw, in quarantine or counted as ignored. */
export function accessLogAccount(
  shipped: number,
  raw: number,
  quarantined: number,
  counts: AccessLogCounts | null,
): AccessLogAccount {
  if (counts === null) return { exact: false, text: "access-log lines: the streaming job logged no counts" };
  const exact = counts.lines === shipped && raw + quarantined + counts.ignored === shipped;
  return {
    exact,
    text:
      `access-log lines shipped: ${shipped} = ${raw} raw + ${quarantined} quarantined + ${counts.ignored} ignored (not product pages or cart additions)` +
      (exact ? " (exact)" : ` (MISMATCH: the job counted ${JSON.stringify(counts)})`),
  };
}
