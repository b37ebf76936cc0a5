-- Hourly step 1: the external tables over the streaming job's Parquet, and this hour's partitions.
-- Runs unchanged on Dataproc Hive 3.1 and on Spark SQL with Hive support (docs/hive-and-spark-sql.md, "Hive 3.1 on Dataproc
-- and Spark SQL locally"). Portable choices:
--   * variables are Hive configuration values, written ${hiveconf:NAME}; the guard below fails the job
--     when one arrives unsubstituted (Hive leaves an unknown ${...} as literal text);
--   * tables carry a version in their name: the metastore on Dataproc outlives every run, so CREATE ... IF
--     NOT EXISTS would keep an older definition forever; a changed column list gets a new name, and the
--     names it replaces are dropped below (dropping an external table deletes no data);
--   * partitions are dropped and added again with an explicit LOCATION instead of MSCK REPAIR, which Spark
--     supports differently and which would scan the whole bucket; re-adding keeps a rerun correct even
--     when the location changed. The folders exist: the streaming job writes a _PRESENT object into both
--     trees before it marks the hour complete, because the Hive cluster may only read the raw bucket and
--     its metastore would otherwise try to create them.
-- Variables: RAW_LOCATION, QUARANTINE_LOCATION, DT (YYYY-MM-DD), HR (HH).

-- assert: the script variables are substituted
SELECT assert_true(
  '${hiveconf:DT}' RLIKE '^[0-9]{4}-[0-9]{2}-[0-9]{2}$'
  AND '${hiveconf:HR}' RLIKE '^[0-9]{2}$'
  AND '${hiveconf:RAW_LOCATION}' RLIKE '^(gs://|file:/|/)[^$]+$'
  AND '${hiveconf:QUARANTINE_LOCATION}' RLIKE '^(gs://|file:/|/)[^$]+$'
);

CREATE DATABASE IF NOT EXISTS clickstream;

-- Retired definitions (the unversioned tables), replaced by the _v1 tables below.
DROP TABLE IF EXISTS clickstream.weblog_raw;
DROP TABLE IF EXISTS clickstream.weblog_quarantine;
-- Retired: the check results without the value found and the limit (external: its files stay).
DROP TABLE IF EXISTS clickstream.hourly_check_results_v1;

-- Columns: the contract's fields (jobs/weblog_contract.py) then the Kafka metadata the job keeps;
-- test/jobs/test_hive_tables.py checks this list against what the streaming job writes.
CREATE EXTERNAL TABLE IF NOT EXISTS clickstream.weblog_raw_v1 (
  event_id STRING,
  event_time TIMESTAMP,
  session_id STRING,
  ip STRING,
  user_agent STRING,
  method STRING,
  url STRING,
  status INT,
  product_id STRING,
  pid STRING,
  kafka_partition INT,
  kafka_offset BIGINT,
  kafka_timestamp TIMESTAMP,
  ingest_time TIMESTAMP
)
PARTITIONED BY (dt STRING, hr STRING)
STORED AS PARQUET
LOCATION '${hiveconf:RAW_LOCATION}';
-- A table that already exists keeps its location under IF NOT EXISTS: a moved raw bucket reaches it here.
ALTER TABLE clickstream.weblog_raw_v1 SET LOCATION '${hiveconf:RAW_LOCATION}';

CREATE EXTERNAL TABLE IF NOT EXISTS clickstream.weblog_quarantine_v1 (
  raw_value BINARY,
  reason STRING,
  kafka_partition INT,
  kafka_offset BIGINT,
  kafka_timestamp TIMESTAMP,
  ingest_time TIMESTAMP
)
PARTITIONED BY (dt STRING, hr STRING)
STORED AS PARQUET
LOCATION '${hiveconf:QUARANTINE_LOCATION}';
ALTER TABLE clickstream.weblog_quarantine_v1 SET LOCATION '${hiveconf:QUARANTINE_LOCATION}';

ALTER TABLE clickstream.weblog_raw_v1 DROP IF EXISTS PARTITION (dt = '${hiveconf:DT}', hr = '${hiveconf:HR}');
ALTER TABLE clickstream.weblog_raw_v1 ADD IF NOT EXISTS PARTITION (dt = '${hiveconf:DT}', hr = '${hiveconf:HR}')
  LOCATION '${hiveconf:RAW_LOCATION}/dt=${hiveconf:DT}/hr=${hiveconf:HR}';

ALTER TABLE clickstream.weblog_quarantine_v1 DROP IF EXISTS PARTITION (dt = '${hiveconf:DT}', hr = '${hiveconf:HR}');
ALTER TABLE clickstream.weblog_quarantine_v1 ADD IF NOT EXISTS PARTITION (dt = '${hiveconf:DT}', hr = '${hiveconf:HR}')
  LOCATION '${hiveconf:QUARANTINE_LOCATION}/dt=${hiveconf:DT}/hr=${hiveconf:HR}';
