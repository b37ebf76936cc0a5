// Access-log lines in = raw rows + quarantined + ignored, from the streaming job's "access log:" lines
// (jobs/weblog_stream.py logs one per batch; a batch re-run after a restart logs again under the
// same number, so the last line of each batch counts).
export interface AccessLogCounts {
  lines: number;
  visit: number;
  cart_add: number;
  ignored: number;
  malformed: number;
}

const PREFIX = "access log: ";

/** The counts of each streaming query, summed over its batches. */
export function accessLogCounts(streamLog: readonly string[]): Map<string, AccessLogCounts> {
  const batches = new Map<string, Map<number, AccessLogCounts>>();
  for (const line of streamLog) {
    const at = line.indexOf(PREFIX);
    if (at < 0) continue;
    const { query, batch, ...counts } = JSON.parse(line.slice(at + PREFIX.length)) as AccessLogCounts & { query: string; batch: number };
    if (!batches.has(query)) batches.set(query, new Map());
    batches.get(query)?.set(batch, counts);
  }
  const totals = new Map<string, AccessLogCounts>();
  for (const [query, perBatch] of batches) {
    const sum: AccessLogCounts = { lines: 0, visit: 0, cart_add: 0, ignored: 0, malformed: 0 };
    for (const c of perBatch.values()) for (const k of Object.keys(sum) as (keyof AccessLogCounts)[]) sum[k] += c[k];
    totals.set(query, sum);
  }
  return totals;
}

export interface AccessLogAccount {
  exact: boolean;
  text: string;
}

/** Whether every line shipped is in raw, in quarantine or counted as ignored, by every query. */
export function accessLogAccount(shipped: number, raw: number, quarantined: number, counts: Map<string, AccessLogCounts>): AccessLogAccount {
  if (counts.size === 0) return { exact: false, text: "access-log lines: the streaming job logged no counts" };
  const ignored = [...counts.values()].map((c) => c.ignored);
  const exact = [...counts.values()].every((c) => c.lines === shipped && c.ignored === ignored[0]) && raw + quarantined + ignored[0] === shipped;
  return {
    exact,
    text: `access-log lines shipped: ${shipped} = ${raw} raw + ${quarantined} quarantined + ${ignored[0]} ignored (not product pages or cart additions)` +
      (exact ? " (exact)" : ` (MISMATCH: per query ${JSON.stringify(Object.fromEntries(counts))})`),
  };
}
