-- Hourly step 2: visits and cart additions per product for one hour, into the run's staging folder as
-- the published CSV (no header, columns of contract/hourly-activity.schema.json, hour 'YYYY-MM-DD HH:00:00').
-- INSERT OVERWRITE DIRECTORY ... ROW FORMAT DELIMITED is written the same way in Hive and Spark SQL;
-- file names differ (Hive 000000_0, Spark part-*), the publish step renames them to part-NNNNN.csv.
-- The rule of the contract: a null pid is a product-page visit, a non-null pid an add-to-cart.
-- Variables: STAGING_DIR, HOUR, RUN_ID, DT, HR.
INSERT OVERWRITE DIRECTORY '${STAGING_DIR}'
ROW FORMAT DELIMITED FIELDS TERMINATED BY ','
STORED AS TEXTFILE
SELECT
  '${HOUR}' AS hour,
  product_id,
  SUM(CASE WHEN pid IS NULL THEN 1 ELSE 0 END) AS visits,
  SUM(CASE WHEN pid IS NOT NULL THEN 1 ELSE 0 END) AS cart_adds,
  '${RUN_ID}' AS run_id
FROM clickstream.weblog_raw
WHERE dt = '${DT}' AND hr = '${HR}'
GROUP BY product_id
ORDER BY product_id;
