-- The run's teardown in the metastore: drops the staging tables hourly_checks.hql creates, whatever the run's
-- outcome (a checks step that died mid-script on its last try leaves them; the metastore on Dataproc is
-- persistent). External tables: the files go with the run's staging place (clean_staging).
-- Variables: STAGING_TABLE.

-- assert: the script variables are substituted
SELECT assert_true('${hiveconf:STAGING_TABLE}' RLIKE '^hourly_staging_[0-9A-Za-z_]+$');

DROP TABLE IF EXISTS clickstream.${hiveconf:STAGING_TABLE};
DROP TABLE IF EXISTS clickstream.${hiveconf:STAGING_TABLE}_raw_rows;
