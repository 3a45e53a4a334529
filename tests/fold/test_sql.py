"""The fold's SQL for the warehouses roi cannot run on (BigQuery, Snowflake, Trino/Athena),
compiled from the one definition and compared with golden files a reviewer can read
(tests/golden/fold/; ROI_UPDATE_GOLDEN=1 rewrites them after a deliberate change)."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from roi.cli import cli
from roi.fold.definition import billing_fold, cost_lines_table, to_sql
from roi.fold.gpu import gpu_capacity, gpu_held, gpu_usage_table
from roi.fold.requests import Requests
from roi.fold.run import print_gpu_sql, print_sql, print_usage_sql
from roi.fold.usage import inference_usage_table, pool_usage, unpooled_usage

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "fold"
REPO = Path(__file__).resolve().parents[2]
CASES = {
    "bigquery": ("bigquery", "my-project.billing.cost_lines", None),
    "snowflake": ("snowflake", "BILLING.ROI.COST_LINES", None),
    "trino": ("trino", "hive.billing.cost_lines", None),
    "athena_2026_10": ("athena", "billing.cost_lines", date(2026, 10, 1)),
}


# The usage folds: a pool taking a provider, one taking deployments by glob, self-hosted apart.
POOLS = {
    "azure-openai": Requests(("azure",)),
    "bedrock": Requests(("bedrock",), r"(?:^prod\-.*$)|(?:^eval\-.$)"),
}
USAGE_CASES = {
    "usage_bigquery": ("bigquery", "my-project.llm.inference_usage", None),
    "usage_snowflake": ("snowflake", "LLM.ROI.INFERENCE_USAGE", None),
    "usage_trino": ("trino", "hive.llm.inference_usage", None),
    "usage_athena_2026_10": ("athena", "llm.inference_usage", date(2026, 10, 1)),
}

# The GPU folds: two pools, one on two clusters.
GPU_POOLS = {"eks-gpu": ("ml-shared-gpu",), "training": ("train-a", "train-b")}
GPU_CASES = {
    "gpu_bigquery": ("bigquery", "my-project.k8s.gpu_usage", None),
    "gpu_snowflake": ("snowflake", "K8S.ROI.GPU_USAGE", None),
    "gpu_trino": ("trino", "hive.k8s.gpu_usage", None),
    "gpu_athena_2026_10": ("athena", "k8s.gpu_usage", date(2026, 10, 1)),
}


def _printed(case: str) -> str:
    if case in CASES:
        engine, table, month = CASES[case]
        return print_sql(engine, "billing_period", month, table)
    if case in GPU_CASES:
        engine, table, month = GPU_CASES[case]
        return print_gpu_sql(engine, month, table, GPU_POOLS)
    engine, table, month = USAGE_CASES[case]
    pooled = tuple(POOLS.values())
    return print_usage_sql(engine, month, table, POOLS, pooled, ("vllm", "ollama"))


@pytest.mark.parametrize("case", sorted(CASES) + sorted(USAGE_CASES) + sorted(GPU_CASES))
def test_sql_matches_golden_file(case: str) -> None:
    engine = {**CASES, **USAGE_CASES, **GPU_CASES}[case][0]
    sql = _printed(case)
    golden = GOLDEN / f"{case}.sql"
    if os.environ.get("ROI_UPDATE_GOLDEN") == "1":
        golden.write_text(sql)
    assert golden.exists(), f"{golden} is missing: run with ROI_UPDATE_GOLDEN=1"
    assert sql == golden.read_text(), (
        f"the {engine} SQL of the fold changed; review the difference and rerun with "
        "ROI_UPDATE_GOLDEN=1 if it is meant"
    )


def test_cli_prints_the_same_sql() -> None:
    result = CliRunner().invoke(
        cli,
        ["fold", "--engine", "trino", "--print-sql", "--table", "hive.billing.cost_lines"],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    assert result.output == (GOLDEN / "trino.sql").read_text()


def test_cli_prints_the_projects_usage_folds() -> None:
    """The sample project's pool split by requests, then the requests no pool takes."""
    result = CliRunner().invoke(
        cli,
        ["fold", "--engine", "trino", "--print-sql", "--usage", "--project", str(REPO)],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    assert "-- 1. The requests of pool azure-openai per month" in result.output
    assert 'FROM "inference_usage"' in result.output
    assert result.output.count("SELECT\n") == 2 + result.output.count("  SELECT\n")


def test_cli_prints_the_projects_gpu_folds() -> None:
    """The sample project's pool split by GPU-hours: its held GPU-seconds, then capacity."""
    result = CliRunner().invoke(
        cli,
        ["fold", "--engine", "bigquery", "--print-sql", "--gpu", "--project", str(REPO)],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    assert "-- 1. The GPU-seconds held and busy on pool eks-gpu's clusters" in result.output
    assert "-- 2. The GPU-seconds of capacity on pool eks-gpu's clusters." in result.output
    assert "FROM `gpu_usage`" in result.output and "UNIX_MICROS" in result.output
    both = CliRunner().invoke(cli, ["fold", "--print-sql", "--gpu", "--usage"])
    assert both.exit_code == 2 and "choose one" in both.output


def test_warehouse_engines_need_print_sql() -> None:
    result = CliRunner().invoke(cli, ["fold", "--engine", "snowflake"])
    assert result.exit_code == 1
    assert "--engine snowflake --print-sql" in result.output


def test_one_definition_for_every_engine() -> None:
    """DuckDB and Spark run the very expression the warehouses get, only the dialect differs."""
    source = cost_lines_table()
    expr = billing_fold(source, "billing_period", date(2026, 10, 1))
    duck, spark = to_sql(expr, "duckdb"), to_sql(expr, "spark")
    for column in ("month", "tags_text", "amount", "billed_amount", "line_count", "_load_id"):
        assert f'"{column}"' in duck and f"`{column}`" in spark
    # Months are ranges of UTC instants (row groups and partitions are skipped by them).
    assert "MAKE_TIMESTAMPTZ(2026, 10, 1, 0, 0, 0.0, 'UTC')" in duck
    assert "CAST('2026-11-01T00:00:00+00:00' AS TIMESTAMP)" in spark


def test_one_usage_definition_for_every_engine() -> None:
    """DuckDB and Spark run the usage folds the warehouses get; a pool's deployments are one
    regular expression searched in the name (DuckDB's regexp_matches, Spark's RLIKE)."""
    source = inference_usage_table()
    requests = POOLS["bedrock"]
    for expr in (
        pool_usage(source, requests, date(2026, 10, 1)),
        unpooled_usage(source, (requests,), ("vllm",), date(2026, 10, 1)),
    ):
        duck, spark = to_sql(expr, "duckdb"), to_sql(expr, "spark")
        assert 'REGEXP_MATCHES(COALESCE("t0"."deployment", \'\')' in duck
        assert "COALESCE(`t0`.`deployment`, '') RLIKE" in spark
        assert "MAKE_TIMESTAMPTZ(2026, 10, 1, 0, 0, 0.0, 'UTC')" in duck


def test_one_gpu_definition_for_every_engine() -> None:
    """DuckDB and Spark run the GPU folds the warehouses get; a sample's length is the exact
    microseconds between its instants, from each engine's epoch microseconds."""
    source = gpu_usage_table()
    for expr in (
        gpu_held(source, ("ml-shared-gpu",), date(2026, 10, 1)),
        gpu_capacity(source, ("ml-shared-gpu",), date(2026, 10, 1)),
    ):
        duck, spark = to_sql(expr, "duckdb"), to_sql(expr, "spark")
        assert 'EPOCH_US("t1"."interval_end") - EPOCH_US("t1"."interval_start")' in duck
        assert "UNIX_MICROS(`t1`.`interval_end`) - UNIX_MICROS(`t1`.`interval_start`)" in spark
        assert "AS DECIMAL(38, 9)" in duck and "AS DECIMAL(38, 9)" in spark
        assert "MAKE_TIMESTAMPTZ(2026, 10, 1, 0, 0, 0.0, 'UTC')" in duck
