-- Hourly step 3: data-quality checks on the staged CSV; each failing check fails the job, so nothing is
-- published. Each check is one statement preceded by a "-- check:" line that names it (the local runner
-- reports that name). Portable choices: assert_true with one argument (Hive's takes no message; Spark
-- names the failed expression); no joins (UNION ALL of counts), so Hive's cartesian-product guard and
-- Spark's cross-join rules never apply.
-- Variables: STAGING_TABLE, STAGING_DIR, DT, HR, HOUR, RUN_ID, MAX_QUARANTINE_SHARE.
DROP TABLE IF EXISTS clickstream.${STAGING_TABLE};

CREATE EXTERNAL TABLE clickstream.${STAGING_TABLE} (
  hour STRING,
  product_id STRING,
  visits BIGINT,
  cart_adds BIGINT,
  run_id STRING
)
ROW FORMAT DELIMITED FIELDS TERMINATED BY ','
STORED AS TEXTFILE
LOCATION '${STAGING_DIR}';

-- check: the raw partition of the hour exists and has rows
SELECT assert_true(raw_rows_of_hour > 0)
FROM (SELECT COUNT(*) AS raw_rows_of_hour FROM clickstream.weblog_raw WHERE dt = '${DT}' AND hr = '${HR}') t;

-- check: the aggregates add up to the raw row count of the hour
SELECT assert_true(staged_entries = raw_rows_of_hour)
FROM (
  SELECT SUM(raw_rows) AS raw_rows_of_hour, SUM(staged) AS staged_entries
  FROM (
    SELECT COUNT(*) AS raw_rows, CAST(0 AS BIGINT) AS staged
    FROM clickstream.weblog_raw WHERE dt = '${DT}' AND hr = '${HR}'
    UNION ALL
    SELECT CAST(0 AS BIGINT) AS raw_rows, COALESCE(SUM(visits + cart_adds), CAST(0 AS BIGINT)) AS staged
    FROM clickstream.${STAGING_TABLE}
  ) counts
) t;

-- check: no null keys (hour, product, run id) and every row belongs to this hour and run
SELECT assert_true(rows_with_bad_keys = 0)
FROM (
  SELECT COUNT(*) AS rows_with_bad_keys FROM clickstream.${STAGING_TABLE}
  WHERE hour IS NULL OR product_id IS NULL OR product_id = '' OR run_id IS NULL
     OR hour <> '${HOUR}' OR run_id <> '${RUN_ID}'
) t;

-- check: no negative or missing counts
SELECT assert_true(rows_with_bad_counts = 0)
FROM (
  SELECT COUNT(*) AS rows_with_bad_counts FROM clickstream.${STAGING_TABLE}
  WHERE visits IS NULL OR cart_adds IS NULL OR visits < 0 OR cart_adds < 0
) t;

-- check: the quarantined share of the hour's records is at most MAX_QUARANTINE_SHARE
SELECT assert_true(quarantined <= ${MAX_QUARANTINE_SHARE} * (quarantined + raw_rows_of_hour))
FROM (
  SELECT SUM(q) AS quarantined, SUM(r) AS raw_rows_of_hour
  FROM (
    SELECT COUNT(*) AS q, CAST(0 AS BIGINT) AS r
    FROM clickstream.weblog_quarantine WHERE dt = '${DT}' AND hr = '${HR}'
    UNION ALL
    SELECT CAST(0 AS BIGINT) AS q, COUNT(*) AS r
    FROM clickstream.weblog_raw WHERE dt = '${DT}' AND hr = '${HR}'
  ) counts
) t;

DROP TABLE clickstream.${STAGING_TABLE};
