"""The sample portfolio: deterministic, committed as generated, realistic enough for later work."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import polars as pl
import pytest

from roi import pipeline
from roi.config import ProjectConfig
from roi.context import Context
from roi.sample import DEFAULT_SEED, business, sample_files
from roi.sample.bench import write_benchmark_set
from roi.sample.project import project_files
from tests.conftest import REPO
from tests.helpers import number, of_type


@pytest.fixture(scope="module")
def generated() -> dict[str, bytes]:
    files, _ = sample_files(DEFAULT_SEED)
    return files


@pytest.mark.slow
def test_committed_sample_data_is_the_generator_output(generated: dict[str, bytes]) -> None:
    committed = {
        p.relative_to(REPO / "sample_data").as_posix(): p.read_bytes()
        for p in (REPO / "sample_data").rglob("*")
        if p.is_file()
    }
    assert sorted(committed) == sorted(generated)
    different = [name for name, data in generated.items() if committed[name] != data]
    assert different == [], "run `roi sample` and commit sample_data/"
    assert sum(len(b) for b in committed.values()) < 20 * 1024 * 1024


def test_committed_definitions_are_the_scaffold() -> None:
    for name, text in project_files().items():
        assert (REPO / name).read_text(encoding="utf-8") == text, (
            f"{name}: run `roi init --force .`"
        )


def test_seed_changes_the_data() -> None:
    assert business.kpis_csv(DEFAULT_SEED) != business.kpis_csv(DEFAULT_SEED + 1)
    assert business.kpis_csv(DEFAULT_SEED) == business.kpis_csv(DEFAULT_SEED)


def test_portfolio_covers_what_later_work_needs(loaded_project: ProjectConfig) -> None:
    def one(sql: str) -> tuple[object, ...]:
        return pipeline.query(Context.for_warehouse(loaded_project.warehouse_path), sql).row(0)

    def count(sql: str) -> int:  # a query's first cell, a count
        return of_type(one(sql)[0], int)

    models = pipeline.query(
        Context.for_warehouse(loaded_project.warehouse_path), "SELECT * FROM portfolio_models"
    )
    assert models.height >= 10
    assert set(models["stage"]) == {"experiment", "production", "retired"}
    assert models["owner"].n_unique() >= 8 and models["business_unit"].n_unique() >= 8
    domains = set(models["domain"])
    assert {
        "fraud detection",
        "credit scoring",
        "churn prediction",
        "demand forecasting",
        "recommendations",
        "predictive maintenance",
        "clinical triage",
        "LLM support assistant",
        "document extraction",
        "search ranking",
    } <= domains

    months, providers = one(
        "SELECT count(DISTINCT billing_period_start), count(DISTINCT provider) FROM cost_lines"
    )
    assert number(months) >= 18 and number(providers) >= 2
    assert one("SELECT max(focus_version) FROM cost_lines") == ("1.2",)
    gpu_lines, gpu_instances = one(
        "SELECT count(*), count(DISTINCT x_instance_type) FROM cost_lines WHERE x_gpu_count > 0"
    )
    assert number(gpu_lines) > 0 and number(gpu_instances) >= 4
    assert (
        count("SELECT count(*) FROM cost_lines WHERE service_category = 'AI and Machine Learning'")
        > 0
    )
    categories = {
        r[0]
        for r in pipeline.query(
            Context.for_warehouse(loaded_project.warehouse_path),
            "SELECT DISTINCT charge_category FROM cost_lines",
        ).rows()
    }
    assert categories >= {"Usage", "Purchase", "Credit", "Tax"}
    assert count("SELECT count(*) FROM cost_lines WHERE commitment_discount_status = 'Used'") > 0
    assert count("SELECT count(*) FROM cost_lines WHERE commitment_discount_status = 'Unused'") > 0
    assert one("SELECT count(*) FROM cost_lines WHERE charge_class = 'Correction'")[0] == 1
    # The shared GPU cluster's nodes serve several models (per DCGM pods).
    assert (
        count("SELECT count(DISTINCT workload) FROM gpu_usage WHERE cluster = 'ml-shared-gpu'") >= 5
    )
    untagged, total = one(
        "SELECT count(*) FILTER (WHERE tags IS NULL OR cardinality(tags) = 0), count(*) FROM cost_lines"
    )
    assert 0.05 < number(untagged) / number(total) < 0.6
    # LLM usage with cached tokens, request tags naming the feature.
    cached, features = one(
        "SELECT sum(cached_input_tokens) > 0, count(DISTINCT feature) FROM inference_usage"
    )
    assert cached and features == 3
    # KPIs from CSV and the finance workbook, A/B arms, metric histories.
    assert one("SELECT count(DISTINCT source_file) FROM kpi_values")[0] == 3
    segments = set(
        pipeline.query(
            Context.for_warehouse(loaded_project.warehouse_path),
            "SELECT DISTINCT segment FROM kpi_values",
        )["segment"]
    )
    assert {"all", "treatment", "control"} < segments  # and a rollout's segments (did)


def test_reissued_month_has_two_deliveries_in_the_sample() -> None:
    month = REPO / "sample_data/billing/aws/focus-export/data/BILLING_PERIOD=2025-06"
    deliveries = sorted(p.name for p in month.iterdir())
    assert len(deliveries) == 2
    totals = []
    for name in deliveries:
        frames = [pl.read_csv(f, infer_schema=False) for f in sorted((month / name).iterdir())]
        totals.append(pl.concat(frames)["EffectiveCost"].cast(pl.Decimal(38, 10)).sum())
    assert totals[0] > totals[1]  # the re-issue removed a double charge


def test_dcgm_files_use_both_hostname_labels() -> None:
    files = sorted((REPO / "sample_data/gpu/dcgm").glob("DCGM_FI_DEV_FB_USED_*.json.gz"))
    labels = set()
    for path in (files[0], files[-1]):
        body = json.loads(gzip.decompress(path.read_bytes()))
        labels |= set(body["data"]["result"][0]["metric"])
    assert {"Hostname", "hostname"} <= labels


@pytest.mark.slow
def test_benchmark_set_has_the_asked_rows_and_loads(tmp_path: Path) -> None:
    summary = write_benchmark_set(tmp_path / "bench", 30_000, seed=1)
    assert summary.rows == 30_000
    pipeline.ingest(
        Context.for_warehouse(tmp_path / "w.duckdb", tmp_path), "focus", str(tmp_path / "bench/aws")
    )
    pipeline.ingest(
        Context.for_warehouse(tmp_path / "w.duckdb", tmp_path),
        "focus",
        str(tmp_path / "bench/azure"),
    )
    lines, total = pipeline.query(
        Context.for_warehouse(tmp_path / "w.duckdb"),
        "SELECT count(*), sum(effective_cost)::DOUBLE FROM cost_lines",
    ).row(0)
    assert lines == 30_000
    assert abs(total - summary.effective_cost_total) < 0.01
    csv_set = write_benchmark_set(tmp_path / "csv", 2_000, seed=1, file_format="csv.gz")
    assert csv_set.files == 48 and all(p.suffix == ".gz" for p in (tmp_path / "csv").rglob("*.gz"))
