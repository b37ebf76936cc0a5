// BigQuery: the dataset, the hourly table and its lineage table, the views, and the raw external table.
// Their design (schemas, partitioning, clustering, SQL) lives with the loader; this only declares it.
import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import {
  hourlyActivityTable,
  loadLogTable,
  RAW_ENTRIES_TABLE_ID,
  rawEntriesExternalTable,
  WAREHOUSE_VIEWS,
  warehouseViewQuery,
  WarehouseTable,
} from "../functions/loader/warehouse/warehouse";
import { StackConfig } from "./config";

export interface WarehouseArgs {
  project: StackConfig["project"];
  /** The dataset's location, the same as the buckets'. */
  region: StackConfig["region"];
  bigqueryDataset: StackConfig["bigqueryDataset"];
  forceDestroy: StackConfig["forceDestroy"];
  rawBucket: gcp.storage.Bucket;
  loaderServiceAccount: gcp.serviceaccount.Account;
  /** The hourly DAG's account: its reconcile task reads the lineage table. */
  composerServiceAccount: gcp.serviceaccount.Account;
}

export class Warehouse extends pulumi.ComponentResource {
  readonly dataset: gcp.bigquery.Dataset;
  readonly hourlyTable: gcp.bigquery.Table;
  readonly loadLog: gcp.bigquery.Table;
  readonly views: Record<string, gcp.bigquery.Table> = {};
  readonly rawEntries: gcp.bigquery.Table;
  readonly grants: pulumi.CustomResource[] = [];
  readonly hourlyTableId: pulumi.Output<string>;
  readonly totalsViewId: pulumi.Output<string>;
  readonly rawEntriesTableId: pulumi.Output<string>;
  readonly loadLogTableId: pulumi.Output<string>;
  /** The environment the loader function reads (see functions/loader). */
  readonly loaderSettings: { dataset: string; location: string; hourlyTable: string; loadLogTable: string };

  constructor(name: string, args: WarehouseArgs, opts?: pulumi.ComponentResourceOptions) {
    super("clickstream:stack:Warehouse", name, {}, opts);
    const child = { parent: this };
    // Same location as the buckets: loads and the external table read them without cross-region transfer.
    const location = args.region;

    this.dataset = new gcp.bigquery.Dataset(
      `${name}-dataset`,
      {
        datasetId: args.bigqueryDataset,
        location,
        description: "Clickstream pipeline: hourly product-page visits and cart additions, and the raw entries.",
        deleteContentsOnDestroy: args.forceDestroy,
      },
      child,
    );

    const table = (id: string, design: WarehouseTable) =>
      new gcp.bigquery.Table(
        `${name}-${id}`,
        {
          datasetId: this.dataset.datasetId,
          tableId: design.tableId,
          description: design.description,
          schema: JSON.stringify(design.schema),
          timePartitioning: { type: design.timePartitioning.type, field: design.timePartitioning.field },
          clusterings: design.clustering,
          deletionProtection: !args.forceDestroy,
        },
        child,
      );
    this.hourlyTable = table("hourly-activity", hourlyActivityTable);
    this.loadLog = table("load-log", loadLogTable);

    let previous: pulumi.Resource[] = [this.hourlyTable, this.loadLog];
    for (const view of WAREHOUSE_VIEWS) {
      const created = new gcp.bigquery.Table(
        `${name}-view-${view.replace(/_/g, "-")}`,
        {
          datasetId: this.dataset.datasetId,
          tableId: view,
          view: {
            query: warehouseViewQuery(view, { project: args.project, dataset: args.bigqueryDataset }),
            useLegacySql: false,
          },
          deletionProtection: false,
        },
        { parent: this, dependsOn: previous },
      );
      this.views[view] = created;
      previous = [created];
    }

    const external = args.rawBucket.name.apply((bucket) => rawEntriesExternalTable(bucket));
    this.rawEntries = new gcp.bigquery.Table(
      `${name}-raw-entries`,
      {
        datasetId: this.dataset.datasetId,
        tableId: RAW_ENTRIES_TABLE_ID,
        description: external.description,
        externalDataConfiguration: external.externalDataConfiguration.apply((c) => ({
          ...c,
          schema: JSON.stringify(c.schema),
        })),
        deletionProtection: false,
      },
      child,
    );

    // Dataset scope: the loader appends rows and lineage here and nowhere else.
    this.grants.push(
      new gcp.bigquery.DatasetIamMember(
        `${name}-loader-data-editor`,
        {
          datasetId: this.dataset.datasetId,
          role: "roles/bigquery.dataEditor",
          member: pulumi.interpolate`serviceAccount:${args.loaderServiceAccount.email}`,
        },
        child,
      ),
    );

    // Table scope: the DAG's reconcile task reads the lineage and nothing else of the warehouse.
    this.grants.push(
      new gcp.bigquery.IamMember(
        `${name}-composer-load-log-reader`,
        {
          datasetId: this.loadLog.datasetId,
          tableId: this.loadLog.tableId,
          role: "roles/bigquery.dataViewer",
          member: pulumi.interpolate`serviceAccount:${args.composerServiceAccount.email}`,
        },
        child,
      ),
    );

    const qualified = (t: gcp.bigquery.Table) => pulumi.interpolate`${args.project}.${t.datasetId}.${t.tableId}`;
    this.hourlyTableId = qualified(this.hourlyTable);
    this.totalsViewId = qualified(this.views["hourly_totals"]);
    this.rawEntriesTableId = qualified(this.rawEntries);
    this.loadLogTableId = qualified(this.loadLog);
    this.loaderSettings = {
      dataset: args.bigqueryDataset,
      location,
      hourlyTable: hourlyActivityTable.tableId,
      loadLogTable: loadLogTable.tableId,
    };
    this.registerOutputs({ hourlyTable: this.hourlyTableId });
  }
}
