// The loader's local tools for the sandbox and the tests (run with tsx):
//   bigquery  --gcs-root DIR --project P      start the local BigQuery server; prints one JSON line
//                                             {"endpoint","pid","gcsRoot"}; runs until SIGTERM/SIGINT
//   warehouse --endpoint URL --project P --dataset D --location L
//                                             declare the dataset, tables and views on that server
import { BigQuery } from "@google-cloud/bigquery";
import { parseArgs } from "node:util";
import { startLocalBigQuery } from "./localBigQuery";
import { createLocalWarehouse } from "./localWarehouse";

async function main(): Promise<void> {
  const [command, ...rest] = process.argv.slice(2);
  const { values } = parseArgs({
    args: rest,
    options: {
      "gcs-root": { type: "string" },
      endpoint: { type: "string" },
      project: { type: "string" },
      dataset: { type: "string" },
      location: { type: "string" },
    },
  });
  const need = (name: keyof typeof values): string => {
    const v = values[name];
    if (!v) throw new Error(`${command} needs --${name}`);
    return v;
  };
  if (command === "bigquery") {
    const server = await startLocalBigQuery({ gcsRoot: need("gcs-root"), project: need("project") });
    process.stdout.write(
      `${JSON.stringify({ endpoint: server.endpoint, pid: server.pid, gcsRoot: server.gcsRoot })}\n`,
    );
    const stop = () => void server.stop().then(() => process.exit(0));
    process.once("SIGTERM", stop);
    process.once("SIGINT", stop);
    return;
  }
  if (command === "warehouse") {
    const client = new BigQuery({
      projectId: need("project"),
      location: need("location"),
      apiEndpoint: need("endpoint"),
    });
    await createLocalWarehouse(client, {
      project: need("project"),
      dataset: need("dataset"),
      location: need("location"),
    });
    process.stdout.write(`${JSON.stringify({ dataset: `${need("project")}.${need("dataset")}` })}\n`);
    return;
  }
  throw new Error(`unknown command '${command ?? ""}': use 'bigquery' or 'warehouse'`);
}

main().catch((err: unknown) => {
  process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
