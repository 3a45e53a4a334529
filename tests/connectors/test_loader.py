"""The load protocol on the sample project: idempotent, deduplicated, all-or-nothing."""

from __future__ import annotations

import shutil
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

from roi import pipeline, warehouse
from roi.config import ProjectConfig, load_project
from roi.context import Context
from roi.errors import ValidationFailed
from tests.helpers import snapshot

DATA_TABLES = ("cost_lines", "inference_usage", "gpu_usage", "kpi_values", "model_metrics")


def _newest_delivery_lines(billing: Path) -> int:
    """Rows in the newest delivery of every billing period (what the warehouse keeps)."""
    periods: dict[Path, list[Path]] = {}
    for part in billing.rglob("*.csv.gz"):
        delivery = part.parent
        periods.setdefault(delivery.parent, []).append(part)
    total = 0
    for parts in periods.values():
        newest = max(p.parent.name for p in parts)
        for part in parts:
            if part.parent.name == newest:
                total += pl.read_csv(part, infer_schema=False).height
    return total


def _sums(path: Path) -> dict[str, tuple[int, Decimal | None]]:
    money = {
        "cost_lines": "effective_cost",
        "inference_usage": "cost",
        "gpu_usage": "utilization",
        "kpi_values": "value",
        "model_metrics": "value",
    }
    with warehouse.open_warehouse(path, read_only=True) as con:
        return {
            t: warehouse.fetch_one(con, f"SELECT count(*), round(sum({money[t]}), 6) FROM {t}")
            for t in DATA_TABLES
        }


@pytest.mark.slow
def test_load_twice_equals_load_once(project: ProjectConfig) -> None:
    first = pipeline.load(Context(project))
    assert all(r.changed and r.rows_loaded > 0 for r in first)
    once = _sums(project.warehouse_path)
    state = snapshot(project.warehouse_path)

    second = pipeline.load(Context(project))
    assert [r.changed for r in second] == [False] * len(second)
    assert snapshot(project.warehouse_path) == state

    # Even with the cursors lost, reloading every file merges onto the same keys.
    with warehouse.open_warehouse(project.warehouse_path) as con:
        warehouse.execute(con, "DELETE FROM _state")
    third = pipeline.load(Context(project))
    assert all(r.changed for r in third)
    assert _sums(project.warehouse_path) == once
    assert once["cost_lines"][0] == _newest_delivery_lines(project.root / "sample_data/billing")


@pytest.mark.slow
def test_only_changed_sources_reload(project: ProjectConfig) -> None:
    pipeline.load(Context(project))
    metrics = project.root / "sample_data/metrics/model_metrics.csv"
    metrics.write_text(metrics.read_text() + "fraud-detection,auc,2026-11-02T06:00:00Z,0.9411,v9\n")
    results = {r.connector: r for r in pipeline.load(Context(project))}
    assert [name for name, r in results.items() if r.changed] == ["model_metrics"]
    assert results["model_metrics"].rows_loaded == 1_170
    assert results["model_metrics"].rows_replaced == 1_169


def test_a_key_twice_in_one_file_counts_once_or_is_an_error(project: ProjectConfig) -> None:
    """Audit: a KPI key twice in one file kept the last value without a word."""
    kpis = project.root / "sample_data/kpis/business_kpis.csv"
    header = "kpi,period_start,period_end,model_id,segment,value,unit\n"
    same = "tickets_deflected,2026-10-01,2026-11-01,support-assistant,all,100,tickets\n"
    september = "tickets_deflected,2026-09-01,2026-10-01,support-assistant,,90,tickets\n"
    kpis.write_text(header + same + same + september)  # the same row twice: harmless
    pipeline.load(Context(project), names=["business_kpis"])
    rows = pipeline.query(
        Context.for_warehouse(project.warehouse_path),
        "SELECT period_start::VARCHAR AS p, segment, value FROM kpi_values ORDER BY p",
    ).rows()
    assert rows == [("2026-09-01", "all", 90.0), ("2026-10-01", "all", 100.0)]
    before = snapshot(project.warehouse_path)
    kpis.write_text(header + same + same.replace(",100,", ",250,") + september)
    with pytest.raises(ValidationFailed) as err:
        pipeline.load(Context(project), names=["business_kpis"])
    assert str(err.value).startswith(
        "sample_data/kpis/business_kpis.csv row 2 field key (kpi, model_id, segment, "
        "period_start, period_end, experiment_id): the same key is in rows 2, 3 of this file "
        "with different values"
    )
    assert snapshot(project.warehouse_path) == before


@pytest.mark.slow
def test_a_bad_row_fails_the_load_and_names_file_row_and_field(project: ProjectConfig) -> None:
    pipeline.load(Context(project))
    before = snapshot(project.warehouse_path)
    kpis = project.root / "sample_data/kpis/business_kpis.csv"
    lines = kpis.read_text().splitlines()
    lines[5] = lines[5].rsplit(",", 2)[0] + ",12O.5,count"  # a letter O instead of a zero
    kpis.write_text("\n".join(lines) + "\n")
    with pytest.raises(ValidationFailed) as err:
        pipeline.load(Context(project))
    message = str(err.value)
    assert message.startswith(
        "sample_data/kpis/business_kpis.csv row 6 field value: not a finite number; "
        "write plain or E-notation digits, e.g. 0.42 (value '12O.5')"
    )
    assert 'on_reject = "skip"' in message
    assert snapshot(project.warehouse_path) == before


def test_skip_mode_loads_valid_rows_and_keeps_rejects(project_dir: Path) -> None:
    toml = project_dir / "connectors/business_kpis.toml"
    toml.write_text(toml.read_text() + 'on_reject = "skip"\n')
    kpis = project_dir / "sample_data/kpis/business_kpis.csv"
    text = kpis.read_text().splitlines()
    total = len(text) - 1
    text[7] = "fraud_cases_caught,2026-13-01,2026-14-01,fraud-detection,all,1,cases"
    kpis.write_text("\n".join(text) + "\n")
    config = load_project(project_dir)
    [result] = pipeline.load(Context(config), names=["business_kpis"])
    assert result.rows_rejected == 1  # line 8: both of its periods are impossible dates
    assert result.rows_loaded == total - 1
    rejects = pipeline.query(
        Context.for_warehouse(config.warehouse_path),
        'SELECT source_file, source_row, "column", value FROM _rejects ORDER BY 3',
    ).rows()
    assert rejects == [
        ("sample_data/kpis/business_kpis.csv", 8, "period_end", "2026-14-01"),
        ("sample_data/kpis/business_kpis.csv", 8, "period_start", "2026-13-01"),
    ]


def test_reissued_month_keeps_only_the_newest_delivery(project: ProjectConfig) -> None:
    month_dir = project.root / "sample_data/billing/aws/focus-export/data/BILLING_PERIOD=2025-06"
    deliveries = sorted(p for p in month_dir.iterdir())
    assert len(deliveries) == 2
    expected = sum(
        pl.read_csv(f, infer_schema=False)["EffectiveCost"].cast(pl.Decimal(38, 10)).sum()
        for f in deliveries[-1].iterdir()
    )
    original = sum(
        pl.read_csv(f, infer_schema=False)["EffectiveCost"].cast(pl.Decimal(38, 10)).sum()
        for f in deliveries[0].iterdir()
    )
    assert expected != original
    pipeline.load(Context(project), names=["aws_focus"])

    def june() -> list[tuple[object, ...]]:
        return pipeline.query(
            Context.for_warehouse(project.warehouse_path),
            "SELECT delivery, sum(effective_cost) FROM cost_lines WHERE provider = 'AWS' "
            "AND billing_period_start = '2025-06-01' GROUP BY ALL",
        ).rows()

    assert june() == [(deliveries[-1].name, expected)]

    # The original delivery turning up again later (e.g. restored from a backup under a new
    # name that sorts earlier) never overwrites the newer one.
    stale = month_dir / "20250701T000000Z"
    shutil.copytree(deliveries[0], stale)
    [result] = pipeline.load(Context(project), names=["aws_focus"])
    assert result.stale_partitions and "older than" in result.stale_partitions[0]
    assert result.rows_loaded == 0
    assert june() == [(deliveries[-1].name, expected)]


def _focus_csv(path: Path, sub_account: str, amount: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "BillingAccountId,SubAccountId,ProviderName,BillingPeriodStart,BillingPeriodEnd,"
        "ChargePeriodStart,ChargePeriodEnd,ChargeCategory,BilledCost,EffectiveCost,BillingCurrency\n"
        f"EA1,{sub_account},Microsoft,2025-06-01T00:00:00Z,2025-07-01T00:00:00Z,"
        f"2025-06-03T00:00:00Z,2025-06-04T00:00:00Z,Usage,{amount},{amount},USD\n"
    )


def test_exports_of_one_account_never_replace_each_other(tmp_path: Path) -> None:
    """Two subscription-scoped exports of one billing account are two exports, both kept."""
    billing = tmp_path / "billing"
    _focus_csv(billing / "sub-a/20250601-20250630/run-1/part.csv", "sub-a", "10.00")
    _focus_csv(billing / "sub-b/20250601-20250630/run-1/part.csv", "sub-b", "5.00")
    result = pipeline.ingest(
        Context.for_warehouse(tmp_path / "w.duckdb", tmp_path), "focus", str(billing)
    )
    assert (result.rows_extracted, result.rows_loaded) == (2, 2)
    rows = pipeline.query(
        Context.for_warehouse(tmp_path / "w.duckdb"),
        "SELECT sub_account_id, effective_cost FROM cost_lines ORDER BY 1",
    ).rows()
    assert rows == [("sub-a", Decimal("10.0000000000")), ("sub-b", Decimal("5.0000000000"))]


def test_an_older_delivery_ingested_later_never_wins(tmp_path: Path) -> None:
    month = tmp_path / "export/BILLING_PERIOD=2025-06"
    _focus_csv(month / "20250705T000000Z/a.csv", "s", "12.00")
    _focus_csv(month / "20250701T000000Z/a.csv", "s", "10.00")
    warehouse_file = tmp_path / "w.duckdb"
    pipeline.ingest(
        Context.for_warehouse(warehouse_file, tmp_path),
        "focus",
        str(month / "20250705T000000Z/a.csv"),
    )
    late = pipeline.ingest(
        Context.for_warehouse(warehouse_file, tmp_path),
        "focus",
        str(month / "20250701T000000Z/a.csv"),
    )
    assert late.rows_loaded == 0 and "older than '20250705T000000Z'" in late.stale_partitions[0]
    total = pipeline.query(
        Context.for_warehouse(warehouse_file), "SELECT sum(effective_cost) FROM cost_lines"
    ).item()
    assert total == Decimal("12.0000000000")


def test_delivery_order_by_modification_time(tmp_path: Path) -> None:
    """Azure-style run folders named by GUID: the newest files win when asked to order by time."""
    import os

    month = tmp_path / "export/20250601-20250630"
    _focus_csv(month / "f3c1a2b0-guid/part.csv", "s", "7.00")  # sorts last by name, but older
    _focus_csv(month / "0a9d4e5f-guid/part.csv", "s", "9.00")
    os.utime(month / "f3c1a2b0-guid/part.csv", (1_751_000_000, 1_751_000_000))
    os.utime(month / "0a9d4e5f-guid/part.csv", (1_752_000_000, 1_752_000_000))
    pipeline.ingest(
        Context.for_warehouse(tmp_path / "w.duckdb", tmp_path),
        "focus",
        str(tmp_path / "export"),
        options={"delivery_order": "modified_time"},
    )
    rows = pipeline.query(
        Context.for_warehouse(tmp_path / "w.duckdb"),
        "SELECT delivery, effective_cost FROM cost_lines",
    ).rows()
    assert rows == [("2025-07-08T18:40:00Z 0a9d4e5f-guid", Decimal("9.0000000000"))]


def _kpi_file(path: Path, rows: list[str]) -> None:
    path.write_text(
        "kpi,period_start,period_end,model_id,segment,value,unit\n" + "\n".join(rows) + "\n"
    )


def test_the_later_file_wins_whatever_the_load_history(tmp_path: Path) -> None:
    """A key in two files takes the value of the file that sorts last, on every load."""
    folder = tmp_path / "kpis"
    folder.mkdir()
    october = "tickets,2026-10-01,2026-11-01,m,all,{},count"
    _kpi_file(folder / "a.csv", [october.format(100), "other,2026-10-01,2026-11-01,m,all,1,count"])
    _kpi_file(folder / "b_corrections.csv", [october.format(120)])
    warehouse_file = tmp_path / "w.duckdb"

    def load_and_read() -> list[tuple[object, ...]]:
        pipeline.ingest(
            Context.for_warehouse(warehouse_file, tmp_path), "kpi_csv", str(folder), name="kpis"
        )
        return pipeline.query(
            Context.for_warehouse(warehouse_file), "SELECT kpi, value FROM kpi_values ORDER BY 1"
        ).rows()

    assert load_and_read() == [("other", 1.0), ("tickets", 120.0)]
    # Editing a.csv alone (b_corrections.csv unchanged) must not bring back its stale value.
    _kpi_file(folder / "a.csv", [october.format(100), "other,2026-10-01,2026-11-01,m,all,2,count"])
    assert load_and_read() == [("other", 2.0), ("tickets", 120.0)]
    # A row removed from a file disappears from the warehouse when the file is read again.
    _kpi_file(folder / "a.csv", [october.format(100)])
    assert load_and_read() == [("tickets", 120.0)]
    (folder / "a.csv").write_text("kpi,period_start,period_end,model_id,segment,value,unit\n")
    assert load_and_read() == [("tickets", 120.0)]


def test_champion_and_challenger_metrics_at_the_same_time(tmp_path: Path) -> None:
    path = tmp_path / "metrics.csv"
    path.write_text(
        "model_id,metric,ts,value,model_version\n"
        "fraud-detection,auc,2026-10-05T06:00:00Z,0.95,v9\n"
        "fraud-detection,auc,2026-10-05T06:00:00Z,0.96,v10\n"
    )
    assert (
        pipeline.ingest(
            Context.for_warehouse(tmp_path / "w.duckdb", tmp_path), "model_metrics_csv", str(path)
        ).rows_loaded
        == 2
    )
