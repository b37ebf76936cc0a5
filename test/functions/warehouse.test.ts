import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  hourlyActivityTable,
  loadLogTable,
  rawEntriesExternalTable,
  WAREHOUSE_VIEWS,
  warehouseViewQuery,
} from "../../functions/loader/warehouse/warehouse";

const PARTITIONS_PER_CENTURY = { HOUR: 100 * 8766, DAY: 36525, MONTH: 1200, YEAR: 100 } as const;
const BIGQUERY_PARTITION_LIMIT = 10000;

describe("the warehouse declaration", () => {
  test("the hourly table holds a century of hourly data under BigQuery's partition limit", () => {
    expect(PARTITIONS_PER_CENTURY[hourlyActivityTable.timePartitioning.type]).toBeLessThan(BIGQUERY_PARTITION_LIMIT);
    expect(PARTITIONS_PER_CENTURY[loadLogTable.timePartitioning.type]).toBeLessThan(BIGQUERY_PARTITION_LIMIT);
    expect(hourlyActivityTable.timePartitioning.field).toBe("hour");
    expect(hourlyActivityTable.clustering).toEqual(["hour", "product_id"]);
  });

  test("the hourly table has the hour, the product, both counts and the run, all required, in that order", () => {
    expect(hourlyActivityTable.schema.map((c) => [c.name, c.type, c.mode])).toEqual([
      ["hour", "TIMESTAMP", "REQUIRED"],
      ["product_id", "STRING", "REQUIRED"],
      ["visits", "INT64", "REQUIRED"],
      ["cart_adds", "INT64", "REQUIRED"],
      ["run_id", "STRING", "REQUIRED"],
    ]);
    expect(hourlyActivityTable.schema.every((c) => c.description.length > 0)).toBe(true);
  });

  test("the lineage table joins to the hourly rows on hour and run_id", () => {
    const columns = Object.fromEntries(loadLogTable.schema.map((c) => [c.name, c.type]));
    expect(columns).toMatchObject({
      hour: "TIMESTAMP",
      run_id: "STRING",
      load_job_id: "STRING",
      object: "STRING",
      generation: "STRING",
      output_rows: "INT64",
    });
  });

  test("view SQL names the dataset fully and leaves no placeholder", () => {
    for (const view of WAREHOUSE_VIEWS) {
      const sql = warehouseViewQuery(view, { project: "my-project", dataset: "clickstream" });
      expect(sql).not.toMatch(/\{\{|\}\}/);
      expect(sql).toMatch(/`my-project\.clickstream\.hourly_activity(_latest)?`/);
    }
    expect(() => warehouseViewQuery("hourly_totals", { project: "x`; DROP", dataset: "d" })).toThrow(
      /not a project and dataset id/,
    );
  });

  test("the raw external table reads the streaming job's Parquet in place, partitioned by dt and hr, with no autodetect", () => {
    const { schema, ...rest } = rawEntriesExternalTable("my-project-raw").externalDataConfiguration;
    expect(rest).toEqual({
      sourceFormat: "PARQUET",
      autodetect: false,
      sourceUris: ["gs://my-project-raw/events/dt=*.parquet"],
      hivePartitioningOptions: {
        mode: "CUSTOM",
        sourceUriPrefix: "gs://my-project-raw/events/{dt:DATE}/{hr:INTEGER}",
        requirePartitionFilter: false,
      },
    });
    // dt and hr come from the path, so they are not columns of the files.
    expect(schema.map((c) => c.name)).not.toContain("dt");
    expect(schema.map((c) => c.name)).not.toContain("hr");
  });

  test("the raw external table has the streaming job's columns: the entry's fields as written, then the Kafka metadata", () => {
    // Spark writes every column as optional; event_time is parsed to a timestamp, status is an integer.
    const nullable = (name: string, type: string, description: string) => ({
      name,
      type,
      mode: "NULLABLE",
      description,
    });
    expect(rawEntriesExternalTable("raw").externalDataConfiguration.schema).toEqual([
      nullable("event_id", "STRING", "unique per entry"),
      nullable(
        "event_time",
        "TIMESTAMP",
        "when the server logged it: any RFC 3339 date-time, with any number of fractional digits and Z or any offset; raw stores it as UTC, truncated to milliseconds",
      ),
      nullable("session_id", "STRING", "the visitor's session; also the Kafka message key"),
      nullable("ip", "STRING", "client IPv4 or IPv6 address"),
      nullable("user_agent", "STRING", "client user agent"),
      nullable("method", "STRING", "GET for a page visit, POST for an add-to-cart"),
      nullable("url", "STRING", "path requested, e.g. /products/P000123 or /cart"),
      nullable("status", "INT64", "HTTP status"),
      nullable(
        "product_id",
        "STRING",
        "the product whose page was visited or that was added, in the site's own id scheme: 1 to 128 characters, none of them a comma, a double quote, a backslash, whitespace (\\s, \\p{Z}) or a control, format or unassigned character (\\p{C}), because the published hourly CSV is written without quoting or escaping; not starting with =, +, - or @, which a spreadsheet opening the CSV would run as a formula",
      ),
      nullable(
        "pid",
        "STRING",
        "null for a product-page visit; for an add-to-cart, the product added, equal to product_id (x-equal-when-set)",
      ),
      nullable("kafka_partition", "INT64", "Kafka partition the entry was read from"),
      nullable("kafka_offset", "INT64", "offset of the entry in its Kafka partition"),
      nullable("kafka_timestamp", "TIMESTAMP", "when Kafka received the entry"),
      nullable("ingest_time", "TIMESTAMP", "when the streaming job wrote the entry"),
    ]);
  });

  test("the raw external table's source URI matches the partition files, not markers nor an earlier file sink's log", () => {
    const [uri] = rawEntriesExternalTable("raw").externalDataConfiguration.sourceUris;
    // BigQuery's single wildcard matches any run of characters, '/' included.
    const [before, after] = uri.split("*");
    const matches = (object: string) => object.startsWith(before) && object.endsWith(after);
    expect(matches("gs://raw/events/dt=2026-11-26/hr=10/b42-part-00000-1f2e.c000.snappy.parquet")).toBe(true);
    expect(matches("gs://raw/events/dt=2026-11-26/hr=10/_PRESENT")).toBe(false);
    expect(matches("gs://raw/events/_spark_metadata/0")).toBe(false);
    expect(matches("gs://raw/events/_spark_metadata/9.compact")).toBe(false);
  });

  test("the deployable archive depends only on the repository's pinned Functions Framework, for Node 20 and 22", () => {
    const repo = JSON.parse(readFileSync(join(__dirname, "..", "..", "package.json"), "utf8"));
    const deploy = JSON.parse(
      readFileSync(join(__dirname, "..", "..", "functions", "loader", "deploy", "package.json"), "utf8"),
    );
    const lock = JSON.parse(
      readFileSync(join(__dirname, "..", "..", "functions", "loader", "deploy", "package-lock.json"), "utf8"),
    );
    expect(deploy.main).toBe("index.js");
    expect(deploy.dependencies).toEqual({
      "@google-cloud/functions-framework": repo.dependencies["@google-cloud/functions-framework"],
    });
    expect(lock.packages["node_modules/@google-cloud/functions-framework"].version).toBe(
      repo.dependencies["@google-cloud/functions-framework"],
    );
    expect(deploy.engines.node).toBe(">=20");
    // The bundled clients: their 8.x/7.x lines support Node 18+, the 9.x/8.x lines would need Node 22.
    expect(repo.dependencies["@google-cloud/bigquery"]).toMatch(/^8\./);
  });
});
