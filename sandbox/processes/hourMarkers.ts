// The streaming job's hour markers in the raw bucket: which hours it marked complete, with the figures
// each marker holds, and which hours late entries reached after that.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { SandboxLayout } from "../shared/layout";
import { streamPaths } from "./parts";

/** Hour ("YYYY-MM-DDTHH") -> when the streaming job last wrote that late entries for it were committed (wall ms). */
export function lateNotices(l: SandboxLayout): Map<string, number> {
  const notices = new Map<string, number>();
  const markers = streamPaths(l).markers;
  for (const hour of completedHours(l)) {
    const file = join(markers, `dt=${hour.slice(0, 10)}`, `hr=${hour.slice(11, 13)}`, "_LATE");
    if (existsSync(file)) notices.set(hour, statSync(file).mtimeMs);
  }
  return notices;
}

/** Hours ("YYYY-MM-DDTHH") the streaming job has marked complete. */
export function completedHours(l: SandboxLayout): string[] {
  const markers = streamPaths(l).markers;
  if (!existsSync(markers)) return [];
  const hours: string[] = [];
  for (const dt of readdirSync(markers)) {
    const d = /^dt=(\d{4}-\d{2}-\d{2})$/.exec(dt);
    if (!d) continue;
    for (const hr of readdirSync(join(markers, dt))) {
      const h = /^hr=(\d{2})$/.exec(hr);
      if (h && existsSync(join(markers, dt, hr, "_COMPLETE"))) hours.push(`${d[1]}T${h[1]}`);
    }
  }
  return hours.sort();
}

/** The figures of each hour's _COMPLETE marker: raw rows and quarantined entries when it was marked. */
export function markerFigures(l: SandboxLayout): Map<string, { rows: number; quarantined: number }> {
  const found = new Map<string, { rows: number; quarantined: number }>();
  const markers = streamPaths(l).markers;
  for (const hour of completedHours(l)) {
    try {
      const body = JSON.parse(
        readFileSync(join(markers, `dt=${hour.slice(0, 10)}`, `hr=${hour.slice(11, 13)}`, "_COMPLETE"), "utf8"),
      ) as { rows: number; quarantined: number };
      found.set(hour, { rows: body.rows, quarantined: body.quarantined });
    } catch {
      // being written
    }
  }
  return found;
}
