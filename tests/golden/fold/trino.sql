-- roi fold for trino (trino dialect), months by billing_period
-- 1. The line groups: save the result as Parquet or CSV for roi.
SELECT
  CAST(DATE_TRUNC('MONTH', "t1"."period_start") AS DATE) AS "month",
  "t1"."provider",
  "t1"."sub_account_id",
  "t1"."resource_id",
  "t1"."charge_category",
  "t1"."commitment_discount_status",
  "t1"."service_category",
  "t1"."service_name",
  "t1"."instance_type",
  "t1"."has_gpu",
  "t1"."tags_text",
  "t1"."currency",
  "t1"."_load_id",
  "t1"."source_file",
  SUM("t1"."amount") AS "amount",
  SUM("t1"."billed_amount") AS "billed_amount",
  SUM("t1"."line_count") AS "line_count"
FROM (
  SELECT
    "t0"."billing_period_start" AS "period_start",
    "t0"."provider",
    "t0"."sub_account_id",
    "t0"."resource_id",
    "t0"."charge_category",
    "t0"."commitment_discount_status",
    "t0"."service_category",
    "t0"."service_name",
    "t0"."x_instance_type" AS "instance_type",
    COALESCE("t0"."x_gpu_count", 0) > 0 AS "has_gpu",
    "t0"."tags_raw" AS "tags_text",
    "t0"."billing_currency" AS "currency",
    "t0"."_load_id",
    "t0"."source_file",
    SUM("t0"."effective_cost") AS "amount",
    SUM("t0"."billed_cost") AS "billed_amount",
    COUNT(*) AS "line_count"
  FROM "hive"."billing"."cost_lines" AS "t0"
  GROUP BY
    1,
    2,
    3,
    4,
    5,
    6,
    7,
    8,
    9,
    10,
    11,
    12,
    13,
    14
) AS "t1"
GROUP BY
  1,
  2,
  3,
  4,
  5,
  6,
  7,
  8,
  9,
  10,
  11,
  12,
  13,
  14;

-- 2. The source totals per month and currency (reconciliation).
SELECT
  CAST(DATE_TRUNC('MONTH', "t0"."billing_period_start") AS DATE) AS "month",
  "t0"."billing_currency" AS "currency",
  SUM("t0"."billed_cost") AS "billed",
  SUM("t0"."effective_cost") AS "effective",
  COUNT(*) AS "lines"
FROM "hive"."billing"."cost_lines" AS "t0"
GROUP BY
  1,
  2;
