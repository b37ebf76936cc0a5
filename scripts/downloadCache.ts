// Where setup caches downloads, read by the sandbox and the loader's local tools alike: the rule of
// scripts/lib.sh, $CLICKSTREAM_CACHE, else ~/.cache/clickstream-pipeline.
import os from "node:os";
import path from "node:path";

export function downloadCache(): string {
  return process.env.CLICKSTREAM_CACHE ?? path.join(os.homedir(), ".cache", "clickstream-pipeline");
}
