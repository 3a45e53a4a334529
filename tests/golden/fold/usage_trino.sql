-- roi usage fold for trino (trino dialect)
-- 1. The requests of pool azure-openai per month, model and feature.
SELECT
  CAST(DATE_TRUNC('MONTH', "t1"."ts") AS DATE) AS "month",
  "t1"."model_id",
  "t1"."feature",
  CAST(SUM("t1"."requests") AS DOUBLE) AS "requests",
  CAST(SUM("t1"."input_tokens") AS DOUBLE) AS "input",
  CAST(SUM("t1"."cached_input_tokens") AS DOUBLE) AS "cached",
  CAST(SUM("t1"."cache_write_tokens") AS DOUBLE) AS "cache_write",
  CAST(SUM("t1"."output_tokens") AS DOUBLE) AS "output",
  SUM("t1"."cost") AS "cost"
FROM (
  SELECT
    *
  FROM "hive"."llm"."inference_usage" AS "t0"
  WHERE
    "t0"."provider" IN ('azure')
) AS "t1"
GROUP BY
  1,
  2,
  3;

-- 2. The requests of pool bedrock per month, model and feature.
SELECT
  CAST(DATE_TRUNC('MONTH', "t1"."ts") AS DATE) AS "month",
  "t1"."model_id",
  "t1"."feature",
  CAST(SUM("t1"."requests") AS DOUBLE) AS "requests",
  CAST(SUM("t1"."input_tokens") AS DOUBLE) AS "input",
  CAST(SUM("t1"."cached_input_tokens") AS DOUBLE) AS "cached",
  CAST(SUM("t1"."cache_write_tokens") AS DOUBLE) AS "cache_write",
  CAST(SUM("t1"."output_tokens") AS DOUBLE) AS "output",
  SUM("t1"."cost") AS "cost"
FROM (
  SELECT
    *
  FROM "hive"."llm"."inference_usage" AS "t0"
  WHERE
    "t0"."provider" IN ('bedrock')
    OR REGEXP_LIKE(COALESCE("t0"."deployment", ''), '(?:^prod\-.*$)|(?:^eval\-.$)')
) AS "t1"
GROUP BY
  1,
  2,
  3;

-- 3. The requests no pool takes (usage costs), per load.
SELECT
  CAST(DATE_TRUNC('MONTH', "t1"."ts") AS DATE) AS "month",
  "t1"."provider",
  "t1"."model_id",
  "t1"."feature",
  "t1"."currency",
  "t1"."_load_id",
  SUM("t1"."cost") AS "amount",
  SUM("t1"."requests") AS "requests",
  SUM("t1"."input_tokens") AS "input_tokens",
  SUM("t1"."output_tokens") AS "output_tokens",
  COUNT(*) FILTER(WHERE
    "t1"."cost" IS NULL) AS "unpriced_requests"
FROM (
  SELECT
    *
  FROM "hive"."llm"."inference_usage" AS "t0"
  WHERE
    NOT (
      "t0"."provider" IN ('azure')
      OR (
        "t0"."provider" IN ('bedrock')
        OR REGEXP_LIKE(COALESCE("t0"."deployment", ''), '(?:^prod\-.*$)|(?:^eval\-.$)')
      )
    )
    AND NOT (
      COALESCE("t0"."provider", '') IN ('vllm', 'ollama')
    )
) AS "t1"
GROUP BY
  1,
  2,
  3,
  4,
  5,
  6;
