// The two job configurations the loader submits, in full: what BigQuery is asked is the loader's contract
// with the warehouse (append only, never create, the CSV exactly as published, no bad row tolerated, the
// lineage row by named parameters). The local BigQuery server runs them in loader.integration.test.ts.
import { HOURLY_ACTIVITY_FIELDS } from "../../functions/loader/src/hourlySchema";
import { hourlyLoadConfiguration, recordLoadConfiguration } from "../../functions/loader/src/loadRequests";
import { LoaderConfig } from "../../functions/loader/src/loaderConfig";

const config: LoaderConfig = {
  project: "my-project",
  dataset: "clickstream",
  location: "EU",
  hourlyTable: "hourly_activity",
  loadLogTable: "hourly_activity_loads",
  curatedBucket: "my-project-curated",
  loadWaitSeconds: 60,
};
const object = {
  bucket: "my-project-curated",
  name: "hourly/dt=2026-11-26/hr=07/run_id=20261126T150512123456Z/part-00000.csv",
  generation: "1764169512123456",
};

describe("the loader's job configurations", () => {
  it("load one published object into the hourly table: appended, never created, the CSV as published, no bad row", () => {
    expect(hourlyLoadConfiguration(config, object)).toEqual({
      load: {
        sourceUris: [`gs://my-project-curated/${object.name}`],
        destinationTable: { projectId: "my-project", datasetId: "clickstream", tableId: "hourly_activity" },
        sourceFormat: "CSV",
        schema: { fields: HOURLY_ACTIVITY_FIELDS },
        writeDisposition: "WRITE_APPEND",
        createDisposition: "CREATE_NEVER",
        skipLeadingRows: 0,
        fieldDelimiter: ",",
        encoding: "UTF-8",
        maxBadRecords: 0,
        allowJaggedRows: false,
        allowQuotedNewlines: false,
        ignoreUnknownValues: false,
      },
      labels: { pipeline: "clickstream", step: "hourly-load" },
    });
  });

  it("record a load's lineage row with named parameters, the hour as a UTC timestamp", () => {
    const file = { hour: "2026-11-26T07:00:00Z", runId: "20261126T150512123456Z", part: 0 };
    const param = (name: string, type: string, value: string) => ({
      name,
      parameterType: { type },
      parameterValue: { value },
    });
    expect(recordLoadConfiguration(config, object, file, "hourly_load_x", 42)).toEqual({
      query: {
        query:
          "INSERT INTO `my-project.clickstream.hourly_activity_loads` " +
          "(load_job_id, bucket, object, generation, hour, run_id, output_rows, loaded_at) " +
          "VALUES (@load_job_id, @bucket, @object, @generation, @hour, @run_id, @output_rows, CURRENT_TIMESTAMP())",
        useLegacySql: false,
        parameterMode: "NAMED",
        queryParameters: [
          param("load_job_id", "STRING", "hourly_load_x"),
          param("bucket", "STRING", "my-project-curated"),
          param("object", "STRING", object.name),
          param("generation", "STRING", "1764169512123456"),
          param("hour", "TIMESTAMP", "2026-11-26 07:00:00+00"),
          param("run_id", "STRING", "20261126T150512123456Z"),
          param("output_rows", "INT64", "42"),
        ],
      },
      labels: { pipeline: "clickstream", step: "hourly-load-log" },
    });
  });
});
