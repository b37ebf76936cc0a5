-- Hourly step 4: fails the run when a check of hourly_checks.hql failed, so nothing is published. It only
-- reads the run's verdicts: a failed check fails the same way again, so this step is never retried.
-- Hive's assert_true takes no message: the failed checks are printed first as the result of a query, each with
-- the value it found and its limit (the job's driver output on Dataproc, the error of jobs/hourly_local.py).
-- Variables: DT, HR, RUN_ID.

-- assert: the script variables are substituted
SELECT assert_true(
  '${hiveconf:DT}' RLIKE '^[0-9]{4}-[0-9]{2}-[0-9]{2}$'
  AND '${hiveconf:HR}' RLIKE '^[0-9]{2}$'
  AND '${hiveconf:RUN_ID}' RLIKE '^[0-9A-Za-z_.-]+$'
);

-- The failed checks, each with the value it found and its limit, printed before the job fails.
SELECT check_name AS failed_check, concat('found ', found, ', limit ', COALESCE(limit_text, 'none')) AS failed_value
FROM clickstream.hourly_check_results_v2
WHERE dt = '${hiveconf:DT}' AND hr = '${hiveconf:HR}' AND run_id = '${hiveconf:RUN_ID}' AND NOT passed
ORDER BY failed_check;

-- assert: every check of the run passed
SELECT assert_true(COUNT(*) > 0 AND COUNT(*) = SUM(CASE WHEN passed THEN 1 ELSE 0 END))
FROM clickstream.hourly_check_results_v2
WHERE dt = '${hiveconf:DT}' AND hr = '${hiveconf:HR}' AND run_id = '${hiveconf:RUN_ID}';
