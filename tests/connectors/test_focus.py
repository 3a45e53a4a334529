"""FOCUS exports as providers write them: real samples, quirks, Parquet, versions."""

from __future__ import annotations

import gzip
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

from roi import pipeline
from roi.connectors.focus_file import FocusOptions, focus_version, read_focus_file
from roi.context import Context
from roi.errors import SourceError, ValidationFailed
from roi.loading.loader import LoadResult
from tests.conftest import shared_file
from tests.helpers import number, of_type


def _ingest(tmp_path: Path, path: Path, **options: str) -> LoadResult:
    return pipeline.ingest(
        Context.for_warehouse(tmp_path / "w.duckdb", tmp_path), "focus", str(path), options=options
    )


def _one(tmp_path: Path, sql: str) -> tuple[object, ...]:
    return pipeline.query(Context.for_warehouse(tmp_path / "w.duckdb"), sql).row(0)


def test_real_focus_10_sample_loads_with_its_quirks(tmp_path: Path) -> None:
    sample = shared_file("focus/focus-1.0-sample/focus_sample.csv")
    result = _ingest(tmp_path, sample)
    assert result.rows_loaded == 1_000 and result.rows_rejected == 0
    lines, billed, effective, providers, version = _one(
        tmp_path,
        "SELECT count(*), sum(billed_cost), sum(effective_cost), "
        "string_agg(DISTINCT provider, ',' ORDER BY provider), any_value(focus_version) FROM cost_lines",
    )
    assert lines == 1_000
    assert billed == Decimal("20.5202267289")
    assert effective == Decimal("14.9765141858")
    assert providers == "AWS,Microsoft,Oracle"
    assert version == "1.0"
    # Literal NULL is null; tag keys are trimmed and lower-cased (' org' → 'org').
    nulls, org = _one(
        tmp_path,
        "SELECT count(*) FILTER (WHERE charge_class IS NULL), "
        "count(*) FILTER (WHERE tags['org'] IS NOT NULL) FROM cost_lines",
    )
    assert nulls == 1_000
    assert number(org) > 0
    # 999 lines bill in September 2024, one in October: two partitions.
    periods = pipeline.query(
        Context.for_warehouse(tmp_path / "w.duckdb"),
        "SELECT billing_period_start::DATE::VARCHAR AS p, count(*) AS n FROM cost_lines GROUP BY 1 ORDER BY 1",
    ).rows()
    assert periods == [("2024-09-01", 999), ("2024-10-01", 1)]


def test_spec_examples_with_partial_columns_are_refused_clearly(tmp_path: Path) -> None:
    example = shared_file(
        "focus/spec-1.2-examples/commitment_discount_scenarios/commitment_discount_usage_scenario_3.csv"
    )
    with pytest.raises(
        SourceError, match=r"missing FOCUS column\(s\) BillingAccountId, .*ProviderName"
    ):
        _ingest(tmp_path, example)
    assert not (tmp_path / "w.duckdb").exists() or _one(
        tmp_path, "SELECT count(*) FROM cost_lines"
    ) == (0,)


def test_bom_gzip_and_case_drifted_headers(tmp_path: Path) -> None:
    text = (
        "\ufeffbillingaccountid,ProviderName,BillingPeriodStart,BillingPeriodEnd,ChargePeriodStart,"
        "ChargePeriodEnd,ChargeType,BilledCost,AmortizedCost,BillingCurrency,ResourceId,Tags,SkuPriceid\n"
        "A1,AWS,2025-01-01T00:00:00Z,2025-02-01T00:00:00Z,2025-01-03 00:00:00,2025-01-04 00:00:00,"
        'usage,1.5,35.2E-1,USD,r-1,"{""ml-model"": ""fraud-detection""}",S1\n'
    )
    path = tmp_path / "export.csv.gz"
    path.write_bytes(gzip.compress(text.encode("utf-8")))
    frame = read_focus_file(path, "export.csv.gz", FocusOptions())
    assert frame["billing_account_id"].to_list() == ["A1"]
    assert frame["charge_category"].to_list() == ["Usage"]  # ChargeType alias, case fixed
    assert frame["sku_price_id"].to_list() == ["S1"]
    assert focus_version(["ChargeType", "AmortizedCost"]) == "1.0-preview"
    result = _ingest(tmp_path, path)
    assert result.rows_loaded == 1
    assert _one(tmp_path, "SELECT effective_cost, tags['ml-model'] FROM cost_lines") == (
        Decimal("3.5200000000"),
        "fraud-detection",
    )


def test_typed_parquet_export(tmp_path: Path, project_dir: Path) -> None:
    source = next((project_dir / "sample_data/billing/azure/focus-cost").rglob("*.csv.gz"))
    frame = pl.read_csv(source, infer_schema_length=10_000, try_parse_dates=True)
    assert frame.schema["BilledCost"] == pl.Float64
    export = tmp_path / "parquet" / "2024-11"
    export.mkdir(parents=True)
    frame.write_parquet(export / "part-0.parquet")
    _ingest(tmp_path, tmp_path / "parquet")
    lines, effective = _one(tmp_path, "SELECT count(*), sum(effective_cost) FROM cost_lines")
    expected = (
        pl.read_csv(source, infer_schema=False)["EffectiveCost"].cast(pl.Decimal(38, 10)).sum()
    )
    assert lines == frame.height
    assert abs(of_type(effective, Decimal) - of_type(expected, Decimal)) < Decimal("0.000001")


def test_impossible_amount_names_file_row_and_column(tmp_path: Path, project_dir: Path) -> None:
    source = next((project_dir / "sample_data/billing/azure/focus-cost").rglob("*.csv.gz"))
    lines = gzip.decompress(source.read_bytes()).decode().splitlines()
    header = lines[0].split(",")
    column = header.index("BilledCost")
    row = lines[4].split(",")
    row[column] = "$10,000.00"  # a currency-formatted number, as in the SaaS spec examples
    lines[4] = ",".join(row[:column]) + ',"$10,000.00",' + ",".join(row[column + 1 :])
    bad = tmp_path / "bad" / "x.csv"
    bad.parent.mkdir()
    bad.write_text("\n".join(lines) + "\n")
    with pytest.raises(
        ValidationFailed, match=r"x\.csv row 5 field billed_cost: not a decimal number"
    ):
        _ingest(tmp_path, bad.parent)


def test_not_utf8_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes("BillingAccountId,Tags\nA,caf\xe9\n".encode("latin-1"))
    with pytest.raises(SourceError, match=r"not UTF-8 text.*iconv"):
        _ingest(tmp_path, path)
    empty = tmp_path / "empty" / "e.csv"
    empty.parent.mkdir()
    empty.write_text("")
    with pytest.raises(SourceError, match="the file is empty"):
        _ingest(tmp_path, empty.parent)


def test_missing_path_names_what_was_looked_for(tmp_path: Path) -> None:
    with pytest.raises(
        SourceError,
        match=r"no input files match nowhere \(looked for \.csv, \.csv\.gz, \.parquet under .*/nowhere\); "
        "check the connector's path",
    ):
        _ingest(tmp_path, Path("nowhere"))
