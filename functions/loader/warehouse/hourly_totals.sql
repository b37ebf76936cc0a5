-- The original design's two metrics per hour, from the latest run of each hour only.
SELECT
  hour,
  SUM(visits) AS product_page_visits,
  SUM(cart_adds) AS items_added_to_cart,
  MAX(run_id) AS run_id
FROM `{{project}}.{{dataset}}.hourly_activity_latest`
GROUP BY hour
