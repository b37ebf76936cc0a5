-- Hourly step 2: visits and cart additions per product for one hour, into the run's staging folder as
-- the published CSV (no header, columns of contract/hourly-activity.schema.json, hour 'YYYY-MM-DD HH:00:00'),
-- and, from the same read of the hour, its raw row count and distinct entries, which the checks (step 3)
-- reconcile against: entries the streaming job adds to the hour later are counted by a rerun, not held
-- against this run.
-- Each event_id counts once: delivery is at least once (a shipper's retry, a producer without idempotence,
-- a replayed file), so raw keeps every delivery and the hour counts the first one by Kafka position.
-- INSERT OVERWRITE DIRECTORY ... ROW FORMAT DELIMITED is written the same way in Hive and Spark SQL;
-- file names differ (Hive 000000_0, Spark part-*), the publish step renames them to part-NNNNN.csv.
-- The rule of the contract: a null pid is a product-page visit, a non-null pid an add-to-cart.
-- Variables: DT, HR, HOUR, RUN_ID, STAGED_CSV_DIR, RAW_ROWS_DIR.

-- assert: the script variables are substituted
SELECT assert_true(
  '${hiveconf:DT}' RLIKE '^[0-9]{4}-[0-9]{2}-[0-9]{2}$'
  AND '${hiveconf:HR}' RLIKE '^[0-9]{2}$'
  AND '${hiveconf:HOUR}' RLIKE '^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:00:00$'
  AND '${hiveconf:RUN_ID}' RLIKE '^[0-9A-Za-z_.-]+$'
  AND '${hiveconf:STAGED_CSV_DIR}' RLIKE '^(gs://|file:/|/)[^$]+$'
  AND '${hiveconf:RAW_ROWS_DIR}' RLIKE '^(gs://|file:/|/)[^$]+$'
);

-- BigQuery's CSV loads read gzip, not Hadoop's deflate: plain text whatever the cluster's default.
SET hive.exec.compress.output=false;

-- One multi-insert: both outputs come from one read of the hour's partition.
FROM (
  SELECT product_id, pid,
         ROW_NUMBER() OVER (PARTITION BY event_id ORDER BY kafka_timestamp, kafka_partition, kafka_offset) AS delivery
  FROM clickstream.weblog_raw_v1 WHERE dt = '${hiveconf:DT}' AND hr = '${hiveconf:HR}'
) hour_deliveries
INSERT OVERWRITE DIRECTORY '${hiveconf:STAGED_CSV_DIR}'
  ROW FORMAT DELIMITED FIELDS TERMINATED BY ','
  STORED AS TEXTFILE
  SELECT
    '${hiveconf:HOUR}' AS hour,
    product_id,
    SUM(CASE WHEN pid IS NULL THEN 1 ELSE 0 END) AS visits,
    SUM(CASE WHEN pid IS NOT NULL THEN 1 ELSE 0 END) AS cart_adds,
    '${hiveconf:RUN_ID}' AS run_id
  WHERE delivery = 1
  GROUP BY product_id
  ORDER BY product_id
INSERT OVERWRITE DIRECTORY '${hiveconf:RAW_ROWS_DIR}'
  ROW FORMAT DELIMITED FIELDS TERMINATED BY ','
  STORED AS TEXTFILE
  SELECT COUNT(*) AS raw_rows, COALESCE(SUM(CASE WHEN delivery = 1 THEN 1 ELSE 0 END), CAST(0 AS BIGINT)) AS distinct_entries;
