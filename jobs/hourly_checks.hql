-- Hourly step 3: the data-quality checks' verdicts on the staged CSV, one row per check in
-- clickstream.hourly_check_results_v2. This step only reads and records: an error here (Tez, HiveServer2,
-- Cloud Storage) is retried like every other step's, and check_quality (hourly_check_verdicts.hql), which is
-- never retried, fails the run on a failed check. Portable choices:
--   * Hive's assert_true takes no message, so the verdicts are data: one row per check, with its name, the
--     value it found and its limit;
--   * the run's staging tables are dropped at the start (a retry's leftovers) and at the end, so none outlives
--     a run that passes (the metastore on Dataproc is persistent); the DAG's drop_staging_tables teardown
--     drops them when this step dies mid-script on its last try;
--   * the raw row count and distinct entries come from the aggregate's own read of the hour (RAW_ROWS_DIR),
--     not a new one;
--   * no joins (UNION ALL of counts), so Hive's cartesian-product guard and Spark's cross-join rules never
--     apply.
--   * the check results are an external table: Hive 3 may make a managed table transactional, and a
--     managed table's folder outlives a local metastore (the sandbox starts a new one per run).
-- Variables: DT, HR, HOUR, RUN_ID, STAGING_TABLE, STAGED_CSV_DIR, RAW_ROWS_DIR, CHECK_RESULTS_LOCATION,
-- MAX_QUARANTINE_SHARE, MAX_DUPLICATE_SHARE, COMMITTED_ROWS, COMMITTED_QUARANTINED (the hour's marker: what the
-- stream committed for it; NULL when the run has no marker).

-- assert: the script variables are substituted
SELECT assert_true(
  '${hiveconf:DT}' RLIKE '^[0-9]{4}-[0-9]{2}-[0-9]{2}$'
  AND '${hiveconf:HR}' RLIKE '^[0-9]{2}$'
  AND '${hiveconf:HOUR}' RLIKE '^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:00:00$'
  AND '${hiveconf:RUN_ID}' RLIKE '^[0-9A-Za-z_.-]+$'
  AND '${hiveconf:STAGING_TABLE}' RLIKE '^hourly_staging_[0-9A-Za-z_]+$'
  AND '${hiveconf:STAGED_CSV_DIR}' RLIKE '^(gs://|file:/|/)[^$]+$'
  AND '${hiveconf:RAW_ROWS_DIR}' RLIKE '^(gs://|file:/|/)[^$]+$'
  AND '${hiveconf:CHECK_RESULTS_LOCATION}' RLIKE '^(gs://|file:/|/)[^$]+$'
  AND '${hiveconf:MAX_QUARANTINE_SHARE}' RLIKE '^[0-9]+[.][0-9]+$'
  AND '${hiveconf:MAX_DUPLICATE_SHARE}' RLIKE '^[0-9]+[.][0-9]+$'
  AND '${hiveconf:COMMITTED_ROWS}' RLIKE '^([0-9]+|NULL)$'
  AND '${hiveconf:COMMITTED_QUARANTINED}' RLIKE '^([0-9]+|NULL)$'
);

-- One row per check and run: why an hour was not published stays queryable.
CREATE EXTERNAL TABLE IF NOT EXISTS clickstream.hourly_check_results_v2 (
  check_name STRING,
  passed BOOLEAN,
  found STRING,
  limit_text STRING
)
PARTITIONED BY (dt STRING, hr STRING, run_id STRING)
STORED AS TEXTFILE
LOCATION '${hiveconf:CHECK_RESULTS_LOCATION}';

DROP TABLE IF EXISTS clickstream.${hiveconf:STAGING_TABLE};
DROP TABLE IF EXISTS clickstream.${hiveconf:STAGING_TABLE}_raw_rows;

CREATE EXTERNAL TABLE clickstream.${hiveconf:STAGING_TABLE} (
  hour STRING,
  product_id STRING,
  visits BIGINT,
  cart_adds BIGINT,
  run_id STRING
)
ROW FORMAT DELIMITED FIELDS TERMINATED BY ','
STORED AS TEXTFILE
LOCATION '${hiveconf:STAGED_CSV_DIR}';

CREATE EXTERNAL TABLE clickstream.${hiveconf:STAGING_TABLE}_raw_rows (
  raw_rows BIGINT,
  distinct_entries BIGINT
)
ROW FORMAT DELIMITED FIELDS TERMINATED BY ','
STORED AS TEXTFILE
LOCATION '${hiveconf:RAW_ROWS_DIR}';

-- A check whose inputs are missing (NULL) fails.
INSERT OVERWRITE TABLE clickstream.hourly_check_results_v2
  PARTITION (dt = '${hiveconf:DT}', hr = '${hiveconf:HR}', run_id = '${hiveconf:RUN_ID}')
SELECT check_name, COALESCE(passed, FALSE) AS passed, COALESCE(found, 'nothing') AS found, limit_text
FROM (
  -- A quiet hour (the marker counts no entry and no quarantined record) is an hour with zero rows; late
  -- entries may add rows after the marker, never remove them.
  SELECT 'raw holds every row the marker counts, and rows unless quiet'
           AS check_name,
         CASE WHEN raw_rows_of_hour > 0 THEN raw_rows_of_hour >= COALESCE(${hiveconf:COMMITTED_ROWS}, CAST(0 AS BIGINT))
              ELSE ${hiveconf:COMMITTED_ROWS} = 0 AND ${hiveconf:COMMITTED_QUARANTINED} = 0 END AS passed,
         concat(CAST(COALESCE(raw_rows_of_hour, CAST(0 AS BIGINT)) AS STRING), ' raw rows, ',
                COALESCE(concat('the marker counts ', CAST(${hiveconf:COMMITTED_ROWS} AS STRING), ' rows and ',
                                CAST(${hiveconf:COMMITTED_QUARANTINED} AS STRING), ' quarantined'), 'no marker')) AS found,
         'at least the rows the marker counts, and more than 0 unless it counts 0 rows and 0 quarantined' AS limit_text
  FROM (SELECT SUM(raw_rows) AS raw_rows_of_hour FROM clickstream.${hiveconf:STAGING_TABLE}_raw_rows) t

  UNION ALL
  SELECT 'the aggregates add up to the distinct entries of the hour' AS check_name,
         staged_entries = distinct_entries_of_hour AS passed,
         concat(CAST(staged_entries AS STRING), ' visits and cart additions') AS found,
         concat('exactly the ', CAST(distinct_entries_of_hour AS STRING), ' distinct entries') AS limit_text
  FROM (
    SELECT SUM(distinct_entries) AS distinct_entries_of_hour, SUM(staged) AS staged_entries
    FROM (
      SELECT distinct_entries, CAST(0 AS BIGINT) AS staged FROM clickstream.${hiveconf:STAGING_TABLE}_raw_rows
      UNION ALL
      SELECT CAST(0 AS BIGINT) AS distinct_entries,
             COALESCE(visits, CAST(0 AS BIGINT)) + COALESCE(cart_adds, CAST(0 AS BIGINT)) AS staged
      FROM clickstream.${hiveconf:STAGING_TABLE}
    ) counts
  ) t

  UNION ALL
  -- Repeated deliveries of an event_id are counted once; a share this high means a producer or shipper
  -- is replaying in a loop.
  SELECT 'the duplicate share of the hour is at most MAX_DUPLICATE_SHARE' AS check_name,
         raw_rows - distinct_entries <= ${hiveconf:MAX_DUPLICATE_SHARE} * raw_rows AS passed,
         concat('a share of ', format_number((raw_rows - distinct_entries) / raw_rows, 4), ', ',
                CAST(raw_rows - distinct_entries AS STRING), ' of ', CAST(raw_rows AS STRING), ' rows') AS found,
         concat('at most ', '${hiveconf:MAX_DUPLICATE_SHARE}') AS limit_text
  FROM (
    SELECT SUM(raw_rows) AS raw_rows, SUM(distinct_entries) AS distinct_entries
    FROM clickstream.${hiveconf:STAGING_TABLE}_raw_rows
  ) t

  UNION ALL
  SELECT 'no null keys and every row belongs to this hour and run' AS check_name, rows_with_bad_keys = 0 AS passed,
         concat(CAST(rows_with_bad_keys AS STRING), ' such rows') AS found, '0' AS limit_text
  FROM (
    SELECT COUNT(*) AS rows_with_bad_keys FROM clickstream.${hiveconf:STAGING_TABLE}
    WHERE hour IS NULL OR product_id IS NULL OR product_id = '' OR run_id IS NULL
       OR hour <> '${hiveconf:HOUR}' OR run_id <> '${hiveconf:RUN_ID}'
  ) t

  UNION ALL
  SELECT 'no negative or missing counts' AS check_name, rows_with_bad_counts = 0 AS passed,
         concat(CAST(rows_with_bad_counts AS STRING), ' such rows') AS found, '0' AS limit_text
  FROM (
    SELECT COUNT(*) AS rows_with_bad_counts FROM clickstream.${hiveconf:STAGING_TABLE}
    WHERE visits IS NULL OR cart_adds IS NULL OR visits < 0 OR cart_adds < 0
  ) t

  UNION ALL
  SELECT 'the quarantined share of the hour is at most MAX_QUARANTINE_SHARE' AS check_name,
         quarantined <= ${hiveconf:MAX_QUARANTINE_SHARE} * (quarantined + raw_rows_of_hour) AS passed,
         concat('a share of ', format_number(quarantined / (quarantined + raw_rows_of_hour), 4), ', ',
                CAST(quarantined AS STRING), ' of ', CAST(quarantined + raw_rows_of_hour AS STRING), ' records') AS found,
         concat('at most ', '${hiveconf:MAX_QUARANTINE_SHARE}') AS limit_text
  FROM (
    SELECT SUM(q) AS quarantined, SUM(r) AS raw_rows_of_hour
    FROM (
      SELECT COUNT(*) AS q, CAST(0 AS BIGINT) AS r
      FROM clickstream.weblog_quarantine_v1 WHERE dt = '${hiveconf:DT}' AND hr = '${hiveconf:HR}'
      UNION ALL
      SELECT CAST(0 AS BIGINT) AS q, raw_rows AS r FROM clickstream.${hiveconf:STAGING_TABLE}_raw_rows
    ) counts
  ) t
) verdicts;

DROP TABLE clickstream.${hiveconf:STAGING_TABLE};
DROP TABLE clickstream.${hiveconf:STAGING_TABLE}_raw_rows;
