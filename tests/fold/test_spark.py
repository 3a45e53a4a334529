"""The folds on PySpark in local mode against the DuckDB path: every line group, every LLM
usage group and every `allocated_costs`, `allocation_bases` and `usage_costs` row equal,
reconciliation exact on both, on the sample project and on a 1M-line benchmark set; the lines
read where they live (a folder of Parquet files).

One local Spark session (local[2]) serves the module; it is stopped at the end.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest

from roi import warehouse
from roi.attribution.engine import plan_attribution
from roi.attribution.ledger import fold_lines, tag_keys
from roi.attribution.pool_bases.tokens import pool_requests
from roi.attribution.reconcile import reconcile
from roi.config import EngineSettings, ProjectConfig, load_project
from roi.fold import engines
from roi.fold.engines import pool_usage_frame, source_total_frame, unpooled_usage_frame
from roi.vocabulary import SELF_HOSTED_PROVIDERS, TOKEN_BASES
from roi.warehouse.cost_store import current_files, data_dir
from tests.conftest import REPO, copy_project, missing

pytestmark = pytest.mark.slow
SPARK = EngineSettings(kind="spark", master="local[2]")


@pytest.fixture(scope="module")
def spark() -> Iterator[EngineSettings]:
    try:
        import pyspark  # noqa: F401
    except ImportError:
        missing("pyspark is not installed (pip install -e '.[dev]')")
    if shutil.which("java") is None:
        missing("Java (a JRE 17) is not installed: .ci/run installs openjdk-17-jre-headless")
    from roi.fold.spark import session, stop_sessions

    session(SPARK)
    yield SPARK
    stop_sessions()


def _same_plans(con: warehouse.Connection, project: ProjectConfig, engine: EngineSettings) -> None:
    args = (con, project.models, project.attribution, None, project.pools)
    duck = plan_attribution(*args)
    spark = plan_attribution(*args, engine=engine)
    assert duck.ledger.height > 0
    assert spark.ledger.equals(duck.ledger), "line groups differ between Spark and DuckDB"
    for table in ("allocated", "bases", "usage"):
        ours, theirs = getattr(spark, table), getattr(duck, table)
        columns = [c for c in theirs.columns if c != "attribution_id"]
        assert ours.select(columns).equals(theirs.select(columns)), f"{table} differ"
    assert spark.lines == duck.lines and spark.load_ids == duck.load_ids


def _same_usage_groups(
    con: warehouse.Connection, project: ProjectConfig, engine: EngineSettings
) -> None:
    """Each pool's LLM requests fold and the unpooled one: the same groups on both engines."""
    token_pools = [p for p in project.pools if p.basis in TOKEN_BASES]
    assert token_pools, "the sample project has a pool split by LLM requests"
    for pool in token_pools:
        duck = pool_usage_frame(con, pool_requests(pool), None)
        assert duck.height > 0
        assert pool_usage_frame(con, pool_requests(pool), None, engine).equals(duck)
    pooled = tuple(pool_requests(p) for p in project.pools)
    duck = unpooled_usage_frame(con, pooled, SELF_HOSTED_PROVIDERS, None)
    spark = unpooled_usage_frame(con, pooled, SELF_HOSTED_PROVIDERS, None, engine)
    assert spark.equals(duck)
    every = unpooled_usage_frame(con, (), (), None, engine)
    requests = warehouse.fetch_one(con, "SELECT sum(requests) FROM inference_usage")[0]
    assert every["requests"].sum() == requests  # nothing lost on the way to Spark


def _exact_totals(
    con: warehouse.Connection, project: ProjectConfig, engine: EngineSettings
) -> None:
    basis = project.attribution.month_basis
    duck = source_total_frame(con, basis, None).sort("month", "currency")
    spark = source_total_frame(con, basis, None, engine).sort("month", "currency")
    assert spark.equals(duck)
    ledger = fold_lines(
        con,
        tag_keys(project.models, project.pools, project.attribution),
        project.attribution,
        None,
        engine=engine,
    )
    folded = (
        ledger.group_by("month", "currency")
        .agg(
            pl.col("billed_amount").sum().alias("billed"), pl.col("amount").sum().alias("effective")
        )
        .sort("month", "currency")
    )
    assert folded.equals(spark.select(folded.columns).cast(folded.schema))


def test_sample_project_equal_on_spark_and_duckdb(
    spark: EngineSettings, loaded_project: ProjectConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    on_spark: list[str] = []
    run = engines._usage_on_spark

    def spy(con: warehouse.Connection, engine: EngineSettings, sql: str) -> pl.DataFrame:
        on_spark.append(sql)
        return run(con, engine, sql)

    monkeypatch.setattr(engines, "_usage_on_spark", spy)
    with warehouse.open_warehouse(loaded_project.warehouse_path, read_only=True) as con:
        _same_plans(con, loaded_project, spark)
        # Attribution on Spark folded the requests there: every token pool's and the rest.
        token_pools = sum(p.basis in TOKEN_BASES for p in loaded_project.pools)
        assert len(on_spark) == token_pools + 1
        _same_usage_groups(con, loaded_project, spark)
        _exact_totals(con, loaded_project, spark)
        for engine in (None, spark):
            months = reconcile(con, loaded_project.attribution, engine=engine)
            assert months.height > 0 and (months["difference"] == 0).all()


def test_lines_read_where_they_live(
    spark: EngineSettings, loaded_project: ProjectConfig, tmp_path: Path
) -> None:
    """A folder of Parquet files (a lake's), read by Spark: groups name their files."""
    with warehouse.open_warehouse(loaded_project.warehouse_path, read_only=True) as con:
        data = data_dir(loaded_project.warehouse_path)
        for i, name in enumerate(current_files(con)):
            shutil.copy(data / name, tmp_path / f"part-{i:03d}.parquet")
        lake = EngineSettings(kind="spark", master=spark.master, billing=str(tmp_path))
        keys = tag_keys(loaded_project.models, loaded_project.pools, loaded_project.attribution)
        duck = fold_lines(con, keys, loaded_project.attribution, None)
        read = fold_lines(con, keys, loaded_project.attribution, None, engine=lake)
    assert read.drop("source_files").equals(duck.drop("source_files"))
    assert read["source_files"].list.len().min() >= 1  # type: ignore[operator]
    assert set(read["source_files"].explode()) == set(duck["source_files"].explode())


def test_one_million_lines_equal_on_spark_and_duckdb(spark: EngineSettings, tmp_path: Path) -> None:
    root = copy_project(tmp_path / "project")
    target = tmp_path / "bench.duckdb"
    roi = [sys.executable, "-m", "roi"]
    subprocess.run(
        [*roi, "sample", "--rows", "1000000", "--out", str(tmp_path / "focus"), "--quiet"],
        check=True,
        cwd=REPO,
    )
    for export in ("aws", "azure"):
        subprocess.run(
            [
                *roi,
                "ingest",
                "focus",
                str(tmp_path / "focus" / export),
                "--project",
                str(root),
                "--warehouse",
                str(target),
                "--quiet",
            ],
            check=True,
            cwd=REPO,
        )
    project = load_project(root)
    with warehouse.open_warehouse(target, read_only=True) as con:
        assert warehouse.fetch_one(con, "SELECT count(*) FROM cost_lines")[0] == 1_000_000
        _same_plans(con, project, spark)
        _exact_totals(con, project, spark)
