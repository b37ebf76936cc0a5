-- The hourly rows of the latest run of each hour: a backfill publishes a new run_id (run ids sort in
-- the order the runs started), so older runs of an hour are hidden instead of counted twice.
-- The runs come from the lineage the loader records (hourly_activity_loads), never from the rows: only a
-- file whose name, live generation and every row's hour and run_id the loader verified gets a lineage
-- row, so a row carrying any other run_id cannot take an hour. An hour whose latest run loaded zero rows
-- (a quiet hour) has no rows here.
-- MAX(...) over (hour, product_id, run_id) folds the rows of an object loaded twice, so anything that
-- reads this view (the sandbox's reconciliation included) cannot see a double load: find one in
-- hourly_activity_loads (an object with more than one load_job_id) or in hourly_activity itself.
WITH latest_run AS (
  SELECT hour, MAX(run_id) AS run_id
  FROM `{{project}}.{{dataset}}.hourly_activity_loads`
  GROUP BY hour
)
SELECT
  a.hour,
  a.product_id,
  MAX(a.visits) AS visits,
  MAX(a.cart_adds) AS cart_adds,
  a.run_id
FROM `{{project}}.{{dataset}}.hourly_activity` AS a
JOIN latest_run AS l
  ON a.hour = l.hour AND a.run_id = l.run_id
GROUP BY a.hour, a.product_id, a.run_id
