// The Hive cluster the hourly DAG runs its HiveQL on, and the external table over the raw Parquet.
import { readFileSync } from "node:fs";
import * as path from "node:path";
import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import { fileSha256, HIVEQL_DIR, REPO_ROOT } from "./artifacts";
import { StackConfig } from "./config";
import { gatewayUrlsOf, singleNodeCluster } from "./dataprocCluster";
import { RawLayout } from "./layout";

/** The hourly script whose CREATE ... IF NOT EXISTS statements declare the external tables over raw data. */
export const TABLES_HQL = "hourly_register_partition.hql";

/** The CREATE statements of a HiveQL script, comments removed, in their order. */
export function createStatements(hiveql: string): string[] {
  const statements = hiveql
    .split("\n")
    .map((line) => line.replace(/--.*$/, ""))
    .join("\n")
    .split(";")
    .map((statement) => statement.trim().replace(/\s+/g, " "))
    .filter((statement) => /^CREATE\s/i.test(statement));
  if (statements.length === 0) throw new Error(`The HiveQL file ${HIVEQL_DIR}/${TABLES_HQL} has no CREATE statement for the raw tables.`);
  return statements;
}

export interface HiveArgs {
  config: StackConfig;
  subnetwork: pulumi.Input<string>;
  serviceAccountEmail: pulumi.Input<string>;
  stagingBucket: pulumi.Input<string>;
  raw: RawLayout;
}

export class Hive extends pulumi.ComponentResource {
  readonly cluster: gcp.dataproc.Cluster;
  readonly createRawTable: gcp.dataproc.Job;
  readonly gatewayUrls: pulumi.Output<Record<string, string>>;

  constructor(name: string, args: HiveArgs, opts?: pulumi.ComponentResourceOptions) {
    super("clickstream:stack:Hive", name, {}, opts);
    const { config } = args;
    const clusterName = `${config.namePrefix}-hive`;

    // Hive is part of every Dataproc 2.2 image; the hourly DAG's jobs are its only work.
    this.cluster = singleNodeCluster(`${name}-cluster`, {
      config,
      clusterName,
      machineType: config.hiveMachineType,
      serviceAccountEmail: args.serviceAccountEmail,
      subnetwork: args.subnetwork,
      stagingBucket: args.stagingBucket,
      networkTag: clusterName,
    }, { parent: this });

    // The CREATE statements of the hourly DAG's first script, so the table is defined in one place only.
    const ddlFile = path.join(REPO_ROOT, HIVEQL_DIR, TABLES_HQL);
    this.createRawTable = new gcp.dataproc.Job(`${name}-create-raw-table`, {
      region: config.region,
      forceDelete: true,
      placement: { clusterName: this.cluster.name },
      // A one-shot job: the tables exist once it succeeded; a changed script re-runs it (the label changes).
      labels: { component: "hive-ddl", "source-sha256": fileSha256(ddlFile).slice(0, 32) },
      hiveConfig: {
        queryLists: createStatements(readFileSync(ddlFile, "utf8")),
        scriptVariables: { RAW_LOCATION: args.raw.events, QUARANTINE_LOCATION: args.raw.quarantine },
      },
    }, { parent: this });

    this.gatewayUrls = gatewayUrlsOf(this.cluster);
    this.registerOutputs({});
  }
}
