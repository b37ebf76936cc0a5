// `npm start -- report`: the HTML report written again from the state folder's warehouse: the running
// pipeline's BigQuery server, or, after `down`, a server started on the kept warehouse for the report alone
// and stopped after it (Ctrl-C stops it too).
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { freePort } from "../shared/ports";
import { SandboxLayout } from "../shared/layout";
import * as parts from "../processes/parts";
import { liveReport, LiveReportRecord } from "../pipeline/liveReport";
import { answers } from "../shared/ports";
import { startService, stopGroup, waitUntil } from "../processes/processes";
import { ProcessRegistry } from "../processes/processRegistry";
import { formatReconciliation } from "../verdict/reconciliation";
import { Endpoints } from "../processes/services";
import { Shutdown } from "../processes/shutdown";
import { formatAccount } from "../verdict/trafficAccount";

/** Whether the state folder keeps a warehouse (the local BigQuery server's data) to report from. */
export function keepsWarehouse(l: SandboxLayout): boolean {
  const data = join(l.bigquery, "data");
  return existsSync(data) && readdirSync(data).length > 0;
}

/**
 * The report from the running pipeline's endpoints when given, else from a BigQuery server started on the
 * kept warehouse (undefined when the folder keeps none).
 */
export async function reportFromStateFolder(
  l: SandboxLayout,
  running: Endpoints | undefined,
  top: number,
  say: (line: string) => void,
): Promise<LiveReportRecord | undefined> {
  if (running?.bigqueryEndpoint) return liveReport(l, running, top);
  if (!keepsWarehouse(l)) return undefined;
  const registry = new ProcessRegistry(l.processes);
  const shutdown = new Shutdown(process, registry, say, {
    stopping: "stopping the BigQuery server started for the report",
  }).install();
  const port = await freePort();
  const server = startService(parts.bigqueryServerSpec(l, port), registry);
  try {
    const endpoint = `http://127.0.0.1:${port}`;
    await waitUntil("the local BigQuery server listens on the kept warehouse", () => answers(endpoint), {
      timeoutMs: 60_000,
      log: server.log,
      service: server,
      hint: "check that 'npm run setup' installed the BigQuery emulator (scripts/setup.d/50-bigquery-emulator.sh)",
    });
    return await liveReport(l, { bigqueryEndpoint: endpoint, bigqueryProject: parts.BQ_PROJECT }, top);
  } finally {
    if (!shutdown.requested) {
      await stopGroup(server.pid);
      registry.forget(server.pid);
      shutdown.uninstall();
    }
  }
}

/** What `report` prints: the reconciliation, or the account of the user's own traffic, and failed hours. */
export function formatReportSummary(r: LiveReportRecord): string {
  const failed = r.hours.filter((h) => h.outcome === "failed");
  const lines = [
    r.reconciliation
      ? formatReconciliation(r.reconciliation)
      : r.account
        ? `no ground truth (your own traffic): ${formatAccount(r.account)}`
        : "nothing to report",
  ];
  for (const h of failed) lines.push(`hour ${h.hour} failed and was not published: ${h.error ?? "the run failed"}`);
  return lines.join("\n");
}
