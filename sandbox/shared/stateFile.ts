// The state folder's JSON files (clock, scheduler runs, notifier deliveries, traffic, status) are read by
// other processes while they change, and must survive a crash mid-write: each is written whole to a
// temporary file beside it, then renamed over it, so a reader sees the old content or the new, never half.
import { renameSync, writeFileSync } from "node:fs";

export function writeStateFile(file: string, value: unknown): void {
  const next = `${file}.${process.pid}.tmp`;
  writeFileSync(next, JSON.stringify(value) + "\n");
  renameSync(next, file);
}
