"""The folds on PySpark in local mode against the DuckDB path: every line group, every LLM
usage group, every GPU group and every `allocated_costs`, `allocation_bases` and `usage_costs`
row equal, reconciliation exact on both, on the sample project and on a 1M-line benchmark set;
the lines, requests and GPU samples read where they live (folders of Parquet or CSV files).

One local Spark session (local[2]) serves the module; it is stopped at the end.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import TypeVar

import duckdb
import polars as pl
import pyarrow as pa
import pytest
from click.testing import CliRunner

from roi import warehouse
from roi.attribution.engine import plan_attribution
from roi.attribution.ledger import fold_lines, tag_keys
from roi.attribution.pool_bases.tokens import pool_requests
from roi.attribution.reconcile import reconcile
from roi.cli import cli
from roi.config import EngineSettings, ProjectConfig, load_project
from roi.fold import engines
from roi.fold.engines import (
    gpu_frames,
    pool_usage_frame,
    source_total_frame,
    unpooled_usage_frame,
)
from roi.fold.requests import Requests
from roi.fold.spark import EngineError
from roi.tables import Table
from roi.vocabulary import GPU_BASES, SELF_HOSTED_PROVIDERS, TOKEN_BASES
from roi.warehouse.cost_store import current_files, data_dir
from tests.conftest import REPO, copy_project, missing

pytestmark = pytest.mark.slow
T = TypeVar("T")
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


def _same_gpu_groups(
    con: warehouse.Connection, project: ProjectConfig, engine: EngineSettings
) -> None:
    """Each GPU pool's fold (GPU-seconds held and busy per workload, capacity): the same
    groups, to the nanosecond, on both engines."""
    gpu_pools = [p for p in project.pools if p.basis in GPU_BASES]
    assert gpu_pools, "the sample project has a pool split by GPU-hours"
    for pool in gpu_pools:
        held, capacity = gpu_frames(con, pool.usage.clusters, None)
        assert held.height > 0 and capacity.height > 0
        on_spark = gpu_frames(con, pool.usage.clusters, None, engine)
        assert on_spark[0].equals(held) and on_spark[1].equals(capacity)


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
    on_spark: list[tuple[str, str]] = []
    run = engines._usage_on_spark

    def spy(
        con: warehouse.Connection, engine: EngineSettings, contract: Table, *sql: str
    ) -> list[pl.DataFrame]:
        on_spark.extend((contract.name, query) for query in sql)
        return run(con, engine, contract, *sql)

    monkeypatch.setattr(engines, "_usage_on_spark", spy)
    with warehouse.open_warehouse(loaded_project.warehouse_path, read_only=True) as con:
        _same_plans(con, loaded_project, spark)
        # Attribution on Spark folded the requests there (every token pool's and the rest) and
        # the GPU samples (each GPU pool's held hours and capacity).
        token_pools = sum(p.basis in TOKEN_BASES for p in loaded_project.pools)
        gpu_pools = sum(p.basis in GPU_BASES for p in loaded_project.pools)
        tables = [name for name, _ in on_spark]
        assert tables.count("inference_usage") == token_pools + 1
        assert tables.count("gpu_usage") == 2 * gpu_pools > 0
        _same_usage_groups(con, loaded_project, spark)
        _same_gpu_groups(con, loaded_project, spark)
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


def _write_parts(rows: pa.Table, folder: Path, fmt: str, parts: int = 3) -> None:
    """Rows as a lake holds them: several files in nested folders, columns in another order."""
    rows = rows.select(list(reversed(rows.column_names)))
    step = max(1, -(-rows.num_rows // parts))
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    for i in range(parts):
        target = folder / f"part={i}"
        target.mkdir(parents=True)
        chunk = rows.slice(i * step, step)  # noqa: F841 (read by DuckDB below)
        con.execute(f"COPY (SELECT * FROM chunk) TO '{target}/rows.{fmt}' (FORMAT {fmt})")
    con.close()


def test_usage_read_where_it_lives(
    spark: EngineSettings, loaded_project: ProjectConfig, tmp_path: Path
) -> None:
    """The LLM requests as Parquet files and the GPU samples as CSV files (`[engine] usage`,
    `gpu_usage`), read by Spark: the same usage and GPU groups as DuckDB folds from the
    warehouse's tables."""
    with warehouse.open_warehouse(loaded_project.warehouse_path, read_only=True) as con:
        _write_parts(
            warehouse.fetch_arrow(con, "SELECT * FROM inference_usage"),
            tmp_path / "requests",
            "parquet",
        )
        _write_parts(  # a CSV has no maps: the labels stay out
            warehouse.fetch_arrow(con, "SELECT * EXCLUDE (labels) FROM gpu_usage"),
            tmp_path / "gpu",
            "csv",
        )
        lake = EngineSettings(
            kind="spark",
            master=spark.master,
            usage=str(tmp_path / "requests"),
            gpu_usage=str(tmp_path / "gpu"),
            gpu_usage_format="csv",
        )
        _same_usage_groups(con, loaded_project, lake)
        _same_gpu_groups(con, loaded_project, lake)
        missing = EngineSettings(  # GPU samples where the requests should be
            kind="spark", master=spark.master, usage=str(tmp_path / "gpu"), usage_format="csv"
        )
        with pytest.raises(EngineError, match=r"inference_usage \(.*no column ts, requests"):
            pool_usage_frame(con, Requests(("azure",)), None, missing)


def test_attribute_over_a_lake_the_warehouse_never_loaded(
    spark: EngineSettings, loaded_project: ProjectConfig, tmp_path: Path
) -> None:
    """A fresh project whose billing lines, LLM requests and GPU samples live in a lake
    (folders of Parquet files, no lineage columns: the files name the lines): `roi attribute`
    and `roi reconcile` on Spark, conserving to the cent the totals DuckDB computes straight
    from the files, and attributing as the DuckDB path does from a loaded warehouse."""
    lake = tmp_path / "lake"
    with warehouse.open_warehouse(loaded_project.warehouse_path, read_only=True) as con:
        lines = warehouse.fetch_arrow(
            con, "SELECT * EXCLUDE (source_file, source_row, _load_id) FROM cost_lines"
        )
        _write_parts(lines, lake / "billing", "parquet", parts=4)
        _write_parts(
            warehouse.fetch_arrow(con, "SELECT * FROM inference_usage"),
            lake / "requests",
            "parquet",
        )
        _write_parts(warehouse.fetch_arrow(con, "SELECT * FROM gpu_usage"), lake / "gpu", "parquet")
        loaded = {
            table: warehouse.fetch_frame(con, f"SELECT * EXCLUDE (attribution_id) FROM {table}")
            for table in ("allocated_costs", "usage_costs", "allocation_bases")
        }
    root = copy_project(tmp_path / "project")
    shutil.rmtree(root / "sample_data")  # nothing to load: the warehouse never sees the rows
    with (root / "roi.toml").open("a") as toml:
        toml.write(
            f'\n[engine]\nkind = "spark"\nmaster = "{spark.master}"\n'
            f'billing = "{lake / "billing"}"\nusage = "{lake / "requests"}"\n'
            f'gpu_usage = "{lake / "gpu"}"\n'
        )
    project = load_project(root)
    assert not project.warehouse_path.exists()

    def roi(*args: str) -> str:
        result = CliRunner().invoke(cli, [*args, "--project", str(root), "--quiet"])
        assert result.exit_code == 0, result.output
        return result.stdout

    roi("attribute")
    assert "TOTAL" in roi("portfolio")  # the months read from the lake count as attributed
    reconciled = pl.DataFrame(json.loads(roi("reconcile", "--format", "json"))["months"])
    files = duckdb.connect()
    files.execute("SET TimeZone = 'UTC'")
    source = files.sql(
        f"""SELECT date_trunc('month', billing_period_start)::DATE AS month,
                   billing_currency AS currency, sum(effective_cost) AS effective,
                   sum(billed_cost) AS billed, count(*) AS lines
            FROM read_parquet('{lake / "billing"}/**/*.parquet') GROUP BY ALL ORDER BY ALL"""
    ).pl()
    assert source["lines"].sum() == lines.num_rows > 0
    assert reconciled.height == source.height
    for row, total in zip(
        reconciled.iter_rows(named=True), source.iter_rows(named=True), strict=True
    ):
        assert (row["month"], row["currency"]) == (total["month"].isoformat(), total["currency"])
        assert Decimal(row["effective"]) == total["effective"]
        assert Decimal(row["billed"]) == total["billed"]
        assert Decimal(row["difference"]) == 0
    with warehouse.open_warehouse(project.warehouse_path, read_only=True) as con:
        assert warehouse.fetch_one(con, "SELECT count(*) FROM cost_lines")[0] == 0
        allocated = warehouse.fetch_frame(
            con,
            """SELECT month, currency, sum(amount) AS effective, sum(billed_amount) AS billed
               FROM allocated_costs GROUP BY ALL ORDER BY ALL""",
        )
        assert allocated.select("month", "currency", "effective", "billed").equals(
            source.select("month", "currency", "effective", "billed")
        )
        # The same attribution as the DuckDB path's from the loaded warehouse (the lake's rows
        # have no load ids: the files name them).
        for table, theirs in loaded.items():
            ours = warehouse.fetch_frame(con, f"SELECT * EXCLUDE (attribution_id) FROM {table}")
            columns = [c for c in theirs.columns if c != "load_ids"]
            order = [c for c in columns if theirs.schema[c] != pl.List(pl.String)]
            assert (
                ours.select(columns)
                .sort(order, nulls_last=True)
                .equals(theirs.select(columns).sort(order, nulls_last=True))
            ), f"{table} differs from the DuckDB path's"


class _Recorder:
    """A progress that keeps every (done, total) a bar was given."""

    def __init__(self) -> None:
        self.updates: list[tuple[str, int, int]] = []

    def info(self, message: str) -> None:
        """Not needed here."""

    def track(self, items: Sequence[T], description: str) -> Iterator[T]:
        """Iterate without a bar."""
        yield from items

    @contextmanager
    def tasks(self, description: str) -> Iterator[Callable[[int, int], None]]:
        """Record each update of the bar."""
        yield lambda done, total: self.updates.append((description, done, total))


def test_a_spark_fold_shows_its_tasks_on_the_step_progress(
    spark: EngineSettings, loaded_project: ProjectConfig
) -> None:
    """The fold's Spark jobs report tasks done out of their stages' tasks to the progress of
    the step running them (`roi.progress.reporting`), ending with every task done."""
    from roi.progress import reporting

    recorder = _Recorder()
    keys = tag_keys(loaded_project.models, loaded_project.pools, loaded_project.attribution)
    with (
        warehouse.open_warehouse(loaded_project.warehouse_path, read_only=True) as con,
        reporting(recorder),
    ):
        fold_lines(con, keys, loaded_project.attribution, None, engine=spark)
    assert recorder.updates, "no progress from the Spark job"
    description, done, total = recorder.updates[-1]
    assert "Spark local[2]" in description
    assert total > 0 and done == total
    assert all(0 <= d <= t for _, d, t in recorder.updates)
