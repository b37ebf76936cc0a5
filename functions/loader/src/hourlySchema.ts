// The load schema of the published hourly files, straight from the contract (column order = CSV order).
import contractColumns from "../../../contract/hourly-activity.schema.json";

export interface BigQueryField {
  name: string;
  type: string;
  mode?: string;
  description?: string;
}

export const HOURLY_ACTIVITY_FIELDS: readonly BigQueryField[] = contractColumns;
