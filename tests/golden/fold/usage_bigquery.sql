-- roi usage fold for bigquery (bigquery dialect)
-- 1. The requests of pool azure-openai per month, model and feature.
SELECT
  CAST(TIMESTAMP_TRUNC(`t1`.`ts`, MONTH) AS DATE) AS `month`,
  `t1`.`model_id`,
  `t1`.`feature`,
  CAST(SUM(`t1`.`requests`) AS FLOAT64) AS `requests`,
  CAST(SUM(`t1`.`input_tokens`) AS FLOAT64) AS `input`,
  CAST(SUM(`t1`.`cached_input_tokens`) AS FLOAT64) AS `cached`,
  CAST(SUM(`t1`.`cache_write_tokens`) AS FLOAT64) AS `cache_write`,
  CAST(SUM(`t1`.`output_tokens`) AS FLOAT64) AS `output`,
  SUM(`t1`.`cost`) AS `cost`
FROM (
  SELECT
    *
  FROM `my-project`.`llm`.`inference_usage` AS `t0`
  WHERE
    `t0`.`provider` IN ('azure')
) AS `t1`
GROUP BY
  1,
  2,
  3;

-- 2. The requests of pool bedrock per month, model and feature.
SELECT
  CAST(TIMESTAMP_TRUNC(`t1`.`ts`, MONTH) AS DATE) AS `month`,
  `t1`.`model_id`,
  `t1`.`feature`,
  CAST(SUM(`t1`.`requests`) AS FLOAT64) AS `requests`,
  CAST(SUM(`t1`.`input_tokens`) AS FLOAT64) AS `input`,
  CAST(SUM(`t1`.`cached_input_tokens`) AS FLOAT64) AS `cached`,
  CAST(SUM(`t1`.`cache_write_tokens`) AS FLOAT64) AS `cache_write`,
  CAST(SUM(`t1`.`output_tokens`) AS FLOAT64) AS `output`,
  SUM(`t1`.`cost`) AS `cost`
FROM (
  SELECT
    *
  FROM `my-project`.`llm`.`inference_usage` AS `t0`
  WHERE
    `t0`.`provider` IN ('bedrock')
    OR REGEXP_CONTAINS(COALESCE(`t0`.`deployment`, ''), '(?:^prod\\-.*$)|(?:^eval\\-.$)')
) AS `t1`
GROUP BY
  1,
  2,
  3;

-- 3. The requests no pool takes (usage costs), per load.
SELECT
  CAST(TIMESTAMP_TRUNC(`t1`.`ts`, MONTH) AS DATE) AS `month`,
  `t1`.`provider`,
  `t1`.`model_id`,
  `t1`.`feature`,
  `t1`.`currency`,
  `t1`.`_load_id`,
  SUM(`t1`.`cost`) AS `amount`,
  SUM(`t1`.`requests`) AS `requests`,
  SUM(`t1`.`input_tokens`) AS `input_tokens`,
  SUM(`t1`.`output_tokens`) AS `output_tokens`,
  COUNTIF(`t1`.`cost` IS NULL) AS `unpriced_requests`
FROM (
  SELECT
    *
  FROM `my-project`.`llm`.`inference_usage` AS `t0`
  WHERE
    NOT (
      `t0`.`provider` IN ('azure')
      OR (
        `t0`.`provider` IN ('bedrock')
        OR REGEXP_CONTAINS(COALESCE(`t0`.`deployment`, ''), '(?:^prod\\-.*$)|(?:^eval\\-.$)')
      )
    )
    AND NOT (
      COALESCE(`t0`.`provider`, '') IN ('vllm', 'ollama')
    )
) AS `t1`
GROUP BY
  1,
  2,
  3,
  4,
  5,
  6;
