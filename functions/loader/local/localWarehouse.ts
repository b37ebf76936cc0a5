// Declares the warehouse on a local BigQuery server the way the stack declares it in the cloud:
// dataset, the two tables (partitioning, clustering) and the views, all from ../warehouse.
import { BigQuery } from "@google-cloud/bigquery";
import {
  hourlyActivityTable,
  loadLogTable,
  WAREHOUSE_VIEWS,
  warehouseViewQuery,
  WarehouseRef,
} from "../warehouse/warehouse";

export async function createLocalWarehouse(
  bigquery: BigQuery,
  ref: WarehouseRef & { location: string },
): Promise<void> {
  const [dataset] = await bigquery.createDataset(ref.dataset, { location: ref.location });
  for (const table of [hourlyActivityTable, loadLogTable]) {
    await dataset.createTable(table.tableId, {
      description: table.description,
      schema: { fields: table.schema.map((f) => ({ ...f })) },
      timePartitioning: table.timePartitioning,
      clustering: { fields: table.clustering },
    });
  }
  for (const view of WAREHOUSE_VIEWS) {
    await dataset.createTable(view, { view: { query: warehouseViewQuery(view, ref), useLegacySql: false } });
  }
}
