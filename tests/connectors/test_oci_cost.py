"""OCI cost reports as Oracle writes them: times without seconds, E-notation costs, tags as one
column each, corrections that replace the line they restate (even from a later file)."""

from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from roi import pipeline
from roi.context import Context
from roi.errors import RoiError
from roi.start.detect import detect
from tests.conftest import shared_file

CENT = Decimal("0.01")
SAMPLE = "focus/native-provider-samples/oci_cost_report_sample.csv"


def _ctx(tmp_path: Path) -> Context:
    return Context.for_warehouse(tmp_path / "w.duckdb", tmp_path)


def _rows(tmp_path: Path, sql: str) -> list[tuple[object, ...]]:
    return pipeline.query(Context.for_warehouse(tmp_path / "w.duckdb"), sql).rows()


def test_the_real_cost_report_loads_and_matches_the_file(tmp_path: Path) -> None:
    report = shared_file(SAMPLE)
    assert detect(report).type == "oci_cost"
    assert pipeline.ingest(_ctx(tmp_path), "oci_cost", str(report)).rows_rejected == 0
    with duckdb.connect() as con:
        [(month, currency, lines, cost, tagged)] = con.execute(
            """SELECT left("lineItem/intervalUsageStart", 7), "cost/currencyCode", count(*),
                      sum("cost/myCost"::DOUBLE) + coalesce(sum("cost/myCostOverage"::DOUBLE), 0),
                      count("tags/Valtest.Cat")
               FROM read_csv(?, all_varchar = true) GROUP BY ALL""",
            [str(report)],
        ).fetchall()
    [(got_month, got_currency, got_lines, billed, effective, got_tagged)] = _rows(
        tmp_path,
        "SELECT strftime(billing_period_start, '%Y-%m'), billing_currency, count(*), "
        "sum(billed_cost), sum(effective_cost), count(tags['valtest.cat']) FROM cost_lines "
        "GROUP BY ALL",
    )
    assert (got_month, got_currency, got_lines, got_tagged) == (month, currency, lines, tagged)
    assert isinstance(billed, Decimal) and isinstance(cost, float)
    assert billed == effective and billed.quantize(CENT) == Decimal(str(cost)).quantize(CENT)


HEADER = [
    "lineItem/referenceNo",
    "lineItem/tenantId",
    "lineItem/intervalUsageStart",
    "lineItem/intervalUsageEnd",
    "product/service",
    "product/resourceId",
    "cost/myCost",
    "cost/currencyCode",
    "lineItem/isCorrection",
    "lineItem/backreferenceNo",
    "tags/ml.model",
]


def _report(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(HEADER)
        out.writerows(rows)
    return path


def _line(ref: str, cost: str, correction: str = "false", corrects: str = "") -> list[str]:
    return [
        ref,
        "ocid1.tenancy.oc1..t",
        "2026-10-02T10:00Z",
        "2026-10-02T11:00:00Z",
        "COMPUTE",
        "ocid1.instance.oc1..gpu",
        cost,
        "USD",
        correction,
        corrects,
        "ranker",
    ]


def test_a_correction_in_a_later_file_replaces_the_line_it_restates(tmp_path: Path) -> None:
    folder = tmp_path / "cost-csv"
    folder.mkdir()
    _report(folder / "0001.csv", [_line("a", "10.00"), _line("b", "2.5E+1")])
    ctx = _ctx(tmp_path)
    pipeline.ingest(ctx, "oci_cost", str(folder))
    assert _rows(tmp_path, "SELECT sum(effective_cost) FROM cost_lines") == [(Decimal("35"),)]
    _report(folder / "0002.csv", [_line("c", "12.00", "true", "a")])
    pipeline.ingest(ctx, "oci_cost", str(folder))
    rows = _rows(
        tmp_path,
        "SELECT resource_id, effective_cost, charge_class, tags['ml.model'] FROM cost_lines "
        "ORDER BY effective_cost",
    )
    assert rows == [
        ("ocid1.instance.oc1..gpu", Decimal("12"), "Correction", "ranker"),
        ("ocid1.instance.oc1..gpu", Decimal("25"), None, "ranker"),
    ]


def test_a_bad_cost_names_the_file_row_and_column(tmp_path: Path) -> None:
    report = _report(tmp_path / "0001.csv", [_line("a", "10.00"), _line("b", "ten")])
    with pytest.raises(RoiError, match=r"0001\.csv row 3 field cost/myCost"):
        pipeline.ingest(_ctx(tmp_path), "oci_cost", str(report))
    assert not (tmp_path / "w.duckdb").exists()


def test_an_unparseable_start_names_its_column(tmp_path: Path) -> None:
    bad = _line("a", "10.00")
    bad[2] = "13/11/2023 10h"
    report = _report(tmp_path / "0001.csv", [bad])
    with pytest.raises(RoiError, match=r"0001\.csv row 2 field lineItem/intervalUsageStart"):
        pipeline.ingest(_ctx(tmp_path), "oci_cost", str(report))


def test_gpus_of_a_line_billed_per_gpu_hour(tmp_path: Path) -> None:
    """OCI names no shape: a GPU SKU billed per GPU and hour gives its GPUs as its GPU-hours
    over its interval's hours; other lines have none."""
    header = [*HEADER, "usage/billedQuantity", "cost/skuUnitDescription"]
    lines = [  # (reference, start, end, GPU-hours or OCPU-hours, unit)
        ("gpu-1h", "2026-10-02T10:00Z", "2026-10-02T11:00:00Z", "8", "GPU Per Hour"),
        ("gpu-2h", "2026-10-02T11:00Z", "2026-10-02T13:00:00Z", "16", "GPU Per Hour"),
        ("cpu", "2026-10-02T10:00Z", "2026-10-02T11:00:00Z", "64", "OCPU Per Hour"),
    ]
    path = tmp_path / "gpu.csv"
    with path.open("w", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(header)
        for ref, start, end, quantity, unit in lines:
            row = _line(ref, "1.00")
            row[2:4] = [start, end]
            out.writerow([*row, quantity, unit])
    pipeline.ingest(_ctx(tmp_path), "oci_cost", str(path))
    found = _rows(tmp_path, "SELECT consumed_unit, x_gpu_count FROM cost_lines ORDER BY ALL")
    expected = sorted(
        (unit, round(float(q) / (int(end[11:13]) - int(start[11:13]))) if "GPU" in unit else None)
        for _, start, end, q, unit in lines
    )
    assert found == expected
    assert found.count(("GPU Per Hour", 8)) == 2


def test_a_correction_in_the_same_file_replaces_the_line_it_restates(tmp_path: Path) -> None:
    # One file is surveyed from its own read: its corrections still take their lines' place.
    folder = tmp_path / "cost-csv"
    folder.mkdir()
    _report(
        folder / "0001.csv",
        [_line("a", "10.00"), _line("b", "2.5E+1"), _line("c", "12.00", "true", "a")],
    )
    pipeline.ingest(_ctx(tmp_path), "oci_cost", str(folder))
    rows = _rows(tmp_path, "SELECT effective_cost FROM cost_lines ORDER BY effective_cost")
    assert rows == [(Decimal("12"),), (Decimal("25"),)]
