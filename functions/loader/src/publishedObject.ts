// The published-file contract between the hourly job and the loader: which curated objects are hourly
// activity files, and what their names say (hour, run, part).

export interface PublishedHourlyFile {
  /** UTC hour as 'YYYY-MM-DDTHH:00:00Z' */
  hour: string;
  runId: string;
  part: number;
}

export type NamingVerdict = { published: true; file: PublishedHourlyFile } | { published: false; reason: string };

export const PUBLISHED_PREFIX = "hourly/";

const PUBLISHED_NAME = /^hourly\/dt=(\d{4})-(\d{2})-(\d{2})\/hr=(\d{2})\/run_id=([0-9A-Za-z_.-]+)\/part-(\d{5})\.csv$/;

/** Whether an object name is a published hourly file, and if not, why (for the log line). */
export function classifyObjectName(name: string): NamingVerdict {
  if (!name.startsWith(PUBLISHED_PREFIX)) {
    return { published: false, reason: `outside the published prefix '${PUBLISHED_PREFIX}'` };
  }
  const m = PUBLISHED_NAME.exec(name);
  if (!m) {
    return {
      published: false,
      reason: "not named hourly/dt=YYYY-MM-DD/hr=HH/run_id=RUN_ID/part-NNNNN.csv",
    };
  }
  const [, y, mo, d, hr, runId, part] = m;
  const hour = `${y}-${mo}-${d}T${hr}:00:00Z`;
  // Date.parse accepts 2026-02-30 (rolls over); a real calendar hour must print back to itself.
  const parsed = new Date(hour);
  if (Number.isNaN(parsed.getTime()) || parsed.toISOString() !== `${y}-${mo}-${d}T${hr}:00:00.000Z`) {
    return { published: false, reason: `dt=${y}-${mo}-${d}/hr=${hr} is not a calendar hour` };
  }
  if (runId === "." || runId === "..") {
    return { published: false, reason: `run_id '${runId}' is a path segment, not a run` };
  }
  return { published: true, file: { hour, runId, part: Number(part) } };
}
