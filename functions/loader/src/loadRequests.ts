// The job configurations the loader submits: one CSV load per published object, and one DML insert
// that records the load's lineage. REST shapes (jobs.insert `configuration`).
import { HOURLY_ACTIVITY_FIELDS } from "./hourlySchema";
import { LoaderConfig } from "./loaderConfig";
import { StoredObject } from "./loadJobId";
import { PublishedHourlyFile } from "./publishedObject";

export function hourlyLoadConfiguration(config: LoaderConfig, object: StoredObject): Record<string, unknown> {
  return {
    load: {
      sourceUris: [`gs://${object.bucket}/${object.name}`],
      destinationTable: { projectId: config.project, datasetId: config.dataset, tableId: config.hourlyTable },
      sourceFormat: "CSV",
      schema: { fields: HOURLY_ACTIVITY_FIELDS },
      // Appends only: a load never rewrites the table, and the table is declared by the stack.
      writeDisposition: "WRITE_APPEND",
      createDisposition: "CREATE_NEVER",
      // The contract's CSV: no header, comma-separated, every column present; one bad row fails the file.
      skipLeadingRows: 0,
      fieldDelimiter: ",",
      encoding: "UTF-8",
      maxBadRecords: 0,
      allowJaggedRows: false,
      allowQuotedNewlines: false,
      ignoreUnknownValues: false,
    },
    labels: { pipeline: "clickstream", step: "hourly-load" },
  };
}

const RECORD_LOAD_SQL = (config: LoaderConfig): string =>
  `INSERT INTO \`${config.project}.${config.dataset}.${config.loadLogTable}\` ` +
  "(load_job_id, bucket, object, generation, hour, run_id, output_rows, loaded_at) " +
  "VALUES (@load_job_id, @bucket, @object, @generation, @hour, @run_id, @output_rows, CURRENT_TIMESTAMP())";

const param = (name: string, type: string, value: string) => ({
  name,
  parameterType: { type },
  parameterValue: { value },
});

export function recordLoadConfiguration(
  config: LoaderConfig,
  object: StoredObject,
  file: PublishedHourlyFile,
  loadJobId: string,
  outputRows: number,
): Record<string, unknown> {
  return {
    query: {
      query: RECORD_LOAD_SQL(config),
      useLegacySql: false,
      parameterMode: "NAMED",
      queryParameters: [
        param("load_job_id", "STRING", loadJobId),
        param("bucket", "STRING", object.bucket),
        param("object", "STRING", object.name),
        param("generation", "STRING", object.generation),
        param("hour", "TIMESTAMP", file.hour.replace("T", " ").replace("Z", "+00")),
        param("run_id", "STRING", file.runId),
        param("output_rows", "INT64", String(outputRows)),
      ],
    },
    labels: { pipeline: "clickstream", step: "hourly-load-log" },
  };
}
