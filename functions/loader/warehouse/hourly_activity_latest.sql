-- The hourly rows of the latest run of each hour: a backfill publishes a new run_id (run ids sort in
-- the order the runs started), so older runs of an hour are hidden instead of counted twice. Grouping
-- by (hour, product_id, run_id) also folds identical rows, should one object ever be loaded twice.
WITH latest_run AS (
  SELECT hour, MAX(run_id) AS run_id
  FROM `{{project}}.{{dataset}}.hourly_activity`
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
