-- roi fold for athena (athena dialect), months by billing_period
-- 1. The line groups: save the result as Parquet or CSV for roi.
SELECT
  CAST(DATE_TRUNC('MONTH', "t2"."period_start") AS DATE) AS "month",
  "t2"."provider",
  "t2"."sub_account_id",
  "t2"."resource_id",
  "t2"."charge_category",
  "t2"."commitment_discount_status",
  "t2"."service_category",
  "t2"."service_name",
  "t2"."instance_type",
  "t2"."has_gpu",
  "t2"."tags_text",
  "t2"."currency",
  "t2"."_load_id",
  "t2"."source_file",
  SUM("t2"."amount") AS "amount",
  SUM("t2"."billed_amount") AS "billed_amount",
  SUM("t2"."line_count") AS "line_count"
FROM (
  SELECT
    "t1"."billing_period_start" AS "period_start",
    "t1"."provider",
    "t1"."sub_account_id",
    "t1"."resource_id",
    "t1"."charge_category",
    "t1"."commitment_discount_status",
    "t1"."service_category",
    "t1"."service_name",
    "t1"."x_instance_type" AS "instance_type",
    COALESCE("t1"."x_gpu_count", 0) > 0 AS "has_gpu",
    "t1"."tags_raw" AS "tags_text",
    "t1"."billing_currency" AS "currency",
    "t1"."_load_id",
    "t1"."source_file",
    SUM("t1"."effective_cost") AS "amount",
    SUM("t1"."billed_cost") AS "billed_amount",
    COUNT(*) AS "line_count"
  FROM (
    SELECT
      *
    FROM "billing"."cost_lines" AS "t0"
    WHERE
      "t0"."billing_period_start" >= CAST(FROM_ISO8601_TIMESTAMP('2026-10-01T00:00:00+00:00') AS TIMESTAMP WITH TIME ZONE)
      AND "t0"."billing_period_start" < CAST(FROM_ISO8601_TIMESTAMP('2026-11-01T00:00:00+00:00') AS TIMESTAMP WITH TIME ZONE)
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
    14
) AS "t2"
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
  CAST(DATE_TRUNC('MONTH', "t1"."billing_period_start") AS DATE) AS "month",
  "t1"."billing_currency" AS "currency",
  SUM("t1"."billed_cost") AS "billed",
  SUM("t1"."effective_cost") AS "effective",
  COUNT(*) AS "lines"
FROM (
  SELECT
    *
  FROM "billing"."cost_lines" AS "t0"
  WHERE
    "t0"."billing_period_start" >= CAST(FROM_ISO8601_TIMESTAMP('2026-10-01T00:00:00+00:00') AS TIMESTAMP WITH TIME ZONE)
    AND "t0"."billing_period_start" < CAST(FROM_ISO8601_TIMESTAMP('2026-11-01T00:00:00+00:00') AS TIMESTAMP WITH TIME ZONE)
) AS "t1"
GROUP BY
  1,
  2;
