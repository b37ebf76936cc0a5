-- Hourly step 1: the external tables over the streaming job's Parquet, and this hour's partitions.
-- Runs unchanged on Dataproc Hive and on Spark SQL with Hive support. Portable choices:
--   * variables are written ${NAME} with no namespace: Dataproc passes them as script variables, which
--     Hive resolves; jobs/hourly_local.py replaces them the same way before Spark SQL parses a statement;
--   * partitions are dropped and added again with an explicit LOCATION instead of MSCK REPAIR, which
--     Spark supports differently and which would scan the whole bucket; re-adding keeps a rerun correct
--     even when the location changed (dropping a partition of an external table deletes no data).
-- Variables: RAW_LOCATION, QUARANTINE_LOCATION, DT (YYYY-MM-DD), HR (HH).
CREATE DATABASE IF NOT EXISTS clickstream;

-- Columns: the contract's fields (jobs/weblog_contract.py) then the Kafka metadata the job keeps;
-- test/jobs/test_hive_tables.py checks this list against what the streaming job writes.
CREATE EXTERNAL TABLE IF NOT EXISTS clickstream.weblog_raw (
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
LOCATION '${RAW_LOCATION}';

CREATE EXTERNAL TABLE IF NOT EXISTS clickstream.weblog_quarantine (
  raw_value BINARY,
  reason STRING,
  kafka_partition INT,
  kafka_offset BIGINT,
  kafka_timestamp TIMESTAMP,
  ingest_time TIMESTAMP
)
PARTITIONED BY (dt STRING, hr STRING)
STORED AS PARQUET
LOCATION '${QUARANTINE_LOCATION}';

ALTER TABLE clickstream.weblog_raw DROP IF EXISTS PARTITION (dt = '${DT}', hr = '${HR}');
ALTER TABLE clickstream.weblog_raw ADD IF NOT EXISTS PARTITION (dt = '${DT}', hr = '${HR}')
  LOCATION '${RAW_LOCATION}/dt=${DT}/hr=${HR}';

ALTER TABLE clickstream.weblog_quarantine DROP IF EXISTS PARTITION (dt = '${DT}', hr = '${HR}');
ALTER TABLE clickstream.weblog_quarantine ADD IF NOT EXISTS PARTITION (dt = '${DT}', hr = '${HR}')
  LOCATION '${QUARANTINE_LOCATION}/dt=${DT}/hr=${HR}';
