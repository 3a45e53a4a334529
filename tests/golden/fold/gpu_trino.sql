-- roi GPU fold for trino (trino dialect)
-- 1. The GPU-seconds held and busy on pool eks-gpu's clusters per month, namespace, workload and pod.
SELECT
  CAST(DATE_TRUNC('MONTH', "t1"."interval_start") AS DATE) AS "month",
  "t1"."namespace",
  "t1"."workload",
  "t1"."pod",
  SUM(
    CAST((
      CAST(DATE_DIFF('MILLISECOND', "t1"."interval_start", "t1"."interval_end") * 1000 AS DOUBLE) / CAST(1000000.0 AS DOUBLE)
    ) * "t1"."gpu_share" AS DECIMAL(38, 9))
  ) AS "held",
  SUM(
    CAST((
      CAST(DATE_DIFF('MILLISECOND', "t1"."interval_start", "t1"."interval_end") * 1000 AS DOUBLE) / CAST(1000000.0 AS DOUBLE)
    ) * "t1"."gpu_share" * COALESCE("t1"."utilization", 0) AS DECIMAL(38, 9))
  ) AS "busy"
FROM (
  SELECT
    *
  FROM "hive"."k8s"."gpu_usage" AS "t0"
  WHERE
    "t0"."cluster" IN ('ml-shared-gpu') AND "t0"."gpu_share" > 0
) AS "t1"
GROUP BY
  1,
  2,
  3,
  4;

-- 2. The GPU-seconds of capacity on pool eks-gpu's clusters.
SELECT
  CAST(DATE_TRUNC('MONTH', "t1"."interval_start") AS DATE) AS "month",
  SUM(
    CAST(CAST(DATE_DIFF('MILLISECOND', "t1"."interval_start", "t1"."interval_end") * 1000 AS DOUBLE) / CAST(1000000.0 AS DOUBLE) AS DECIMAL(38, 9))
  ) AS "capacity"
FROM (
  SELECT DISTINCT
    "t0"."cluster",
    "t0"."gpu_uuid",
    "t0"."interval_start",
    "t0"."interval_end"
  FROM "hive"."k8s"."gpu_usage" AS "t0"
  WHERE
    "t0"."cluster" IN ('ml-shared-gpu')
) AS "t1"
GROUP BY
  1;

-- 3. The GPU-seconds held and busy on pool training's clusters per month, namespace, workload and pod.
SELECT
  CAST(DATE_TRUNC('MONTH', "t1"."interval_start") AS DATE) AS "month",
  "t1"."namespace",
  "t1"."workload",
  "t1"."pod",
  SUM(
    CAST((
      CAST(DATE_DIFF('MILLISECOND', "t1"."interval_start", "t1"."interval_end") * 1000 AS DOUBLE) / CAST(1000000.0 AS DOUBLE)
    ) * "t1"."gpu_share" AS DECIMAL(38, 9))
  ) AS "held",
  SUM(
    CAST((
      CAST(DATE_DIFF('MILLISECOND', "t1"."interval_start", "t1"."interval_end") * 1000 AS DOUBLE) / CAST(1000000.0 AS DOUBLE)
    ) * "t1"."gpu_share" * COALESCE("t1"."utilization", 0) AS DECIMAL(38, 9))
  ) AS "busy"
FROM (
  SELECT
    *
  FROM "hive"."k8s"."gpu_usage" AS "t0"
  WHERE
    "t0"."cluster" IN ('train-a', 'train-b') AND "t0"."gpu_share" > 0
) AS "t1"
GROUP BY
  1,
  2,
  3,
  4;

-- 4. The GPU-seconds of capacity on pool training's clusters.
SELECT
  CAST(DATE_TRUNC('MONTH', "t1"."interval_start") AS DATE) AS "month",
  SUM(
    CAST(CAST(DATE_DIFF('MILLISECOND', "t1"."interval_start", "t1"."interval_end") * 1000 AS DOUBLE) / CAST(1000000.0 AS DOUBLE) AS DECIMAL(38, 9))
  ) AS "capacity"
FROM (
  SELECT DISTINCT
    "t0"."cluster",
    "t0"."gpu_uuid",
    "t0"."interval_start",
    "t0"."interval_end"
  FROM "hive"."k8s"."gpu_usage" AS "t0"
  WHERE
    "t0"."cluster" IN ('train-a', 'train-b')
) AS "t1"
GROUP BY
  1;
