import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import { parseStackConfig } from "../../stacks/config";
import { Warehouse } from "../../stacks/warehouse";

// The warehouse component alone at the default settings (forceDestroy false), as a production stack has it.
const declared: { type: string; name: string; inputs: Record<string, unknown> }[] = [];

beforeAll(async () => {
  pulumi.runtime.setMocks(
    {
      newResource: (args) => {
        declared.push({ type: args.type, name: args.name, inputs: args.inputs });
        return {
          id: `${args.name}-id`,
          state: { ...args.inputs, email: "clickstream-loader@p.iam.gserviceaccount.com" },
        };
      },
      call: () => ({}),
    },
    "clickstream-pipeline",
    "prod",
    false,
  );
  const config = parseStackConfig({ "gcp:project": "my-clickstream-prod" });
  const rawBucket = new gcp.storage.Bucket("raw", { name: "raw-bucket", location: "US-CENTRAL1" });
  const loaderServiceAccount = new gcp.serviceaccount.Account("loader", { accountId: "clickstream-loader" });
  const composerServiceAccount = new gcp.serviceaccount.Account("composer", { accountId: "clickstream-composer" });
  new Warehouse("warehouse", { ...config, rawBucket, loaderServiceAccount, composerServiceAccount });
  await pulumi.runtime.disconnect();
});

describe("the warehouse outside a dev stack", () => {
  it("protects the tables that hold data from deletion, and not the views or the external table", () => {
    const tables = declared.filter((r) => r.type === "gcp:bigquery/table:Table");
    expect(Object.fromEntries(tables.map((t) => [t.name, t.inputs.deletionProtection]))).toEqual({
      "warehouse-hourly-activity": true,
      "warehouse-load-log": true,
      "warehouse-view-hourly-activity-latest": false,
      "warehouse-view-hourly-totals": false,
      "warehouse-raw-entries": false,
    });
  });

  it("keeps the dataset's tables when the dataset is destroyed", () => {
    const dataset = declared.find((r) => r.type === "gcp:bigquery/dataset:Dataset");
    expect(dataset?.inputs.deleteContentsOnDestroy).toBe(false);
  });
});
