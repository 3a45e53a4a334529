"""No silent coercion: values that do not parse are errors naming file, row and field.

Each test here failed on the loader before strict parsing: the input loaded with exit 0 and a
wrong or missing value.
"""

from __future__ import annotations

import gzip
import json
from decimal import Decimal
from pathlib import Path

import pytest

from roi import pipeline
from roi.context import Context
from roi.errors import SourceError, ValidationFailed
from roi.loading.loader import LoadResult
from tests.helpers import snapshot
from tests.services import libreoffice_convert

FOCUS_HEADER = (
    "BillingAccountId,SubAccountId,ProviderName,BillingPeriodStart,BillingPeriodEnd,"
    "ChargePeriodStart,ChargePeriodEnd,ChargeCategory,BilledCost,EffectiveCost,"
    "BillingCurrency,Tags"
)


def _line(amount: str, tags: str = "", start: str = "2026-10-01T00:00:00Z") -> str:
    return (
        f"A1,S1,AWS,{start},2026-11-01T00:00:00Z,2026-10-03T00:00:00Z,"
        f"2026-10-04T00:00:00Z,Usage,{amount},{amount},USD,{tags}"
    )


def _ingest(tmp_path: Path, kind: str, path: Path, **options: object) -> LoadResult:
    return pipeline.ingest(
        Context.for_warehouse(tmp_path / "w.duckdb", tmp_path), kind, str(path), options=options
    )


def _rows(tmp_path: Path, sql: str) -> list[tuple[object, ...]]:
    return pipeline.query(Context.for_warehouse(tmp_path / "w.duckdb"), sql).rows()


def test_billing_period_with_utc_offset_is_its_calendar_month(tmp_path: Path) -> None:
    path = tmp_path / "export/BILLING_PERIOD=2026-10/d1/part.csv"
    path.parent.mkdir(parents=True)
    path.write_text(
        FOCUS_HEADER
        + "\n"
        + _line("123.45", start="2026-10-01T00:00:00+02:00").replace(
            "2026-11-01T00:00:00Z", "2026-11-01T00:00:00+01:00"
        )
        + "\n"
    )
    _ingest(tmp_path, "focus", path)
    assert _rows(
        tmp_path,
        "SELECT strftime(billing_period_start, '%Y-%m-%d %H:%M'), "
        "strftime(billing_period_end, '%Y-%m-%d') FROM cost_lines",
    ) == [("2026-10-01 00:00", "2026-11-01")]


def test_a_file_cut_mid_row_is_an_error_not_a_shorter_amount(tmp_path: Path) -> None:
    path = tmp_path / "cut.csv"
    whole = FOCUS_HEADER + "\n" + _line("10.00") + "\n" + _line("123.45")
    path.write_text(whole[: whole.rindex("123.45") + 2])  # "...,12" and no line break
    with pytest.raises(SourceError, match=r"cut\.csv row 3: .*cut off mid-row"):
        _ingest(tmp_path, "focus", path)


def test_a_row_with_fewer_fields_is_an_error_anywhere_in_the_file(tmp_path: Path) -> None:
    path = tmp_path / "ragged.csv.gz"
    rows = [_line("1.00"), _line("2.00").rsplit(",", 2)[0], _line("3.00")]
    path.write_bytes(gzip.compress((FOCUS_HEADER + "\n" + "\n".join(rows) + "\n").encode()))
    with pytest.raises(
        SourceError, match=r"ragged\.csv\.gz row 3: 10 field\(s\) where the header has 12"
    ):
        _ingest(tmp_path, "focus", path)


def test_a_column_named_twice_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "twice.csv"
    path.write_text(FOCUS_HEADER + ",BilledCost\n" + _line("1.00") + ",999\n")
    with pytest.raises(
        SourceError, match=r"twice\.csv: the header names column 'BilledCost' twice"
    ):
        _ingest(tmp_path, "focus", path)
    # Two spellings of one FOCUS column are the same column, too.
    path.write_text(FOCUS_HEADER + ",billedcost\n" + _line("1.00") + ",999\n")
    with pytest.raises(SourceError, match=r"columns 'BilledCost' and 'billedcost' are the same"):
        _ingest(tmp_path, "focus", path)


def test_tags_that_are_not_json_are_a_reject_not_a_silent_key(tmp_path: Path) -> None:
    path = tmp_path / "tags.csv"
    good = json.dumps({"ml-model": "fraud-detection"}).replace('"', '""')
    path.write_text(
        FOCUS_HEADER
        + "\n"
        + _line("1.00", f'"{good}"')
        + "\n"
        + _line("2.00", '"{ml-model: fraud"')
        + "\n"
    )
    with pytest.raises(
        ValidationFailed, match=r"tags\.csv row 3 field tags_raw: not a JSON object"
    ):
        _ingest(tmp_path, "focus", path)
    result = pipeline.ingest(
        Context.for_warehouse(tmp_path / "w.duckdb", tmp_path), "focus", str(path), on_reject="skip"
    )
    assert (result.rows_loaded, result.rows_rejected) == (1, 1)
    assert _rows(tmp_path, "SELECT tags['ml-model'], effective_cost FROM cost_lines") == [
        ("fraud-detection", Decimal("1.0000000000"))
    ]


def test_tag_keys_in_two_cases_are_a_reject_and_nested_values_stay_json(tmp_path: Path) -> None:
    """Audit: `Team`/`team` resolved silently; a nested value was stored as Python text."""
    path = tmp_path / "tags.csv"
    nested = json.dumps({"ml-model": "fraud", "cost": {"centre": "risk", "ids": [1, 2]}})
    clash = json.dumps({"Team": "risk", "team": "fraud", "TEAM ": "risk"})
    same = json.dumps({"Team": "risk", "team": "risk"})
    lines = [("1.00", nested), ("2.00", clash), ("3.00", same)]
    path.write_text(
        FOCUS_HEADER
        + "\n"
        + "\n".join(_line(a, '"' + t.replace('"', '""') + '"') for a, t in lines)
        + "\n"
    )
    with pytest.raises(
        ValidationFailed, match=r"tags\.csv row 3 field tags_raw: holds one tag key"
    ):
        _ingest(tmp_path, "focus", path)
    pipeline.ingest(
        Context.for_warehouse(tmp_path / "w.duckdb", tmp_path), "focus", str(path), on_reject="skip"
    )
    rows = _rows(
        tmp_path, "SELECT tags['cost'], tags['team'] FROM cost_lines ORDER BY effective_cost"
    )
    assert rows == [('{"centre":"risk","ids":[1,2]}', None), (None, "risk")]


def test_a_nul_byte_in_a_name_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "nul.csv"
    path.write_bytes((FOCUS_HEADER + "\n" + _line("1.00").replace("S1", "S\x001") + "\n").encode())
    with pytest.raises(
        ValidationFailed, match=r"nul\.csv row 2 field sub_account_id: holds a NUL byte"
    ):
        _ingest(tmp_path, "focus", path)


def test_nan_and_infinity_amounts_are_rejected(tmp_path: Path) -> None:
    for bad in ("NaN", "inf", "-Infinity"):
        path = tmp_path / f"{bad}.csv"
        path.write_text(FOCUS_HEADER + "\n" + _line(bad) + "\n")
        with pytest.raises(
            ValidationFailed, match=r"row 2 field billed_cost: not a decimal number"
        ):
            _ingest(tmp_path, "focus", path)


def _spend_log(path: Path, prompt_tokens: str, metadata: str, tags: str = "[]") -> None:
    import csv

    with path.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(
            [
                "request_id",
                "startTime",
                "model",
                "spend",
                "prompt_tokens",
                "completion_tokens",
                "metadata",
                "request_tags",
            ]
        )
        writer.writerow(
            ["r1", "2026-10-01 08:00:00", "gpt-4o", "0.01", prompt_tokens, "20", metadata, tags]
        )


def test_fractional_token_counts_are_rejected(tmp_path: Path) -> None:
    path = tmp_path / "spend.csv"
    _spend_log(path, "100.7", "{}")
    with pytest.raises(ValidationFailed, match=r"row 2 field input_tokens: not a whole number"):
        _ingest(tmp_path, "litellm_spend_logs", path)
    _spend_log(path, "100.0", "{}")  # a whole number written with a decimal point is fine
    _ingest(tmp_path, "litellm_spend_logs", path)
    assert _rows(tmp_path, "SELECT input_tokens FROM inference_usage") == [(100,)]


def test_litellm_metadata_and_tags_that_are_not_json_are_rejected(tmp_path: Path) -> None:
    path = tmp_path / "spend.csv"
    _spend_log(path, "100", "{'spend_logs_metadata': {'model_portfolio_id': 'x'}}")
    with pytest.raises(ValidationFailed, match=r"row 2 field metadata: not valid JSON"):
        _ingest(tmp_path, "litellm_spend_logs", path)
    _spend_log(path, "100", "{}", tags="feature:search")
    with pytest.raises(ValidationFailed, match=r"row 2 field request_tags: not a JSON list"):
        _ingest(tmp_path, "litellm_spend_logs", path)


def test_a_dcgm_sample_that_is_not_a_number_is_an_error(tmp_path: Path) -> None:
    samples: list[list[int | str]] = [[1790000000, "37"], [1790000060, "abc"], [1790000120, "NaN"]]
    body = {
        "status": "success",
        "data": {
            "resultType": "matrix",
            "result": [
                {
                    "metric": {
                        "__name__": "DCGM_FI_DEV_GPU_UTIL",
                        "UUID": "GPU-1",
                        "Hostname": "node-1",
                        "pod": "p",
                    },
                    "values": samples,
                }
            ],
        },
    }
    path = tmp_path / "DCGM_FI_DEV_GPU_UTIL_2026-10.json"
    path.write_text(json.dumps(body))
    with pytest.raises(SourceError, match=r"has the sample value 'abc' at .*not a number"):
        _ingest(tmp_path, "dcgm_prometheus", path)
    # "NaN" is how Prometheus writes a missing value: that sample is null, not an error.
    samples[1] = [1790000060, "40"]
    path.write_text(json.dumps(body))
    _ingest(tmp_path, "dcgm_prometheus", path)
    assert _rows(tmp_path, "SELECT utilization FROM gpu_usage ORDER BY interval_start") == [
        (0.37,),
        (0.4,),
        (None,),
    ]


def test_corrupt_gzip_names_the_real_cause(tmp_path: Path) -> None:
    data = gzip.compress(((FOCUS_HEADER + "\n" + _line("1.00") + "\n") * 50).encode())
    cut = tmp_path / "cut.csv.gz"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(SourceError, match=r"cut\.csv\.gz: the gzip stream is cut off"):
        _ingest(tmp_path, "focus", cut)
    fake = tmp_path / "fake.csv.gz"
    fake.write_text(FOCUS_HEADER)
    with pytest.raises(SourceError, match=r"fake\.csv\.gz: not a gzip file"):
        _ingest(tmp_path, "focus", fake)


def test_missing_billed_cost_does_not_blame_the_provider(tmp_path: Path) -> None:
    path = tmp_path / "no-billed.csv"
    path.write_text(
        FOCUS_HEADER.replace("BilledCost,", "")
        + "\n"
        + _line("1.00").replace("1.00,", "", 1)
        + "\n"
    )
    with pytest.raises(SourceError) as err:
        _ingest(tmp_path, "focus", path)
    assert "missing FOCUS column(s) BilledCost" in str(err.value)
    assert "provider" not in str(err.value)


@pytest.mark.service
def test_workbook_formulas_count_with_their_saved_result(tmp_path: Path) -> None:
    from datetime import date

    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "Units"
    ws.append(["KPI", "Model", "Unit", date(2026, 9, 1), date(2026, 10, 1)])
    ws.append(["cost_per_ticket", None, "USD", 7.5, "=D2*2"])
    source = tmp_path / "in" / "units.xlsx"
    source.parent.mkdir()
    wb.save(source)
    # openpyxl saves a formula without its result: the month's value cannot be known.
    with pytest.raises(
        SourceError, match=r"units\.xlsx#Units cell E2: a formula with no saved result"
    ):
        _ingest(tmp_path, "kpi_excel", source)
    # Saved by a spreadsheet program, the file holds the result: it counts.
    saved = libreoffice_convert(source, "xlsx", tmp_path / "saved")
    _ingest(tmp_path, "kpi_excel", saved)
    assert _rows(tmp_path, "SELECT period_start::VARCHAR, value FROM kpi_values ORDER BY 1") == [
        ("2026-09-01", 7.5),
        ("2026-10-01", 15.0),
    ]


def test_a_failed_load_leaves_every_table_as_it_was(tmp_path: Path) -> None:
    good = tmp_path / "good.csv"
    good.write_text(FOCUS_HEADER + "\n" + _line("5.00") + "\n")
    _ingest(tmp_path, "focus", good)
    before = snapshot(tmp_path / "w.duckdb")
    bad = tmp_path / "bad.csv"
    bad.write_text(FOCUS_HEADER + "\n" + _line("5.00") + "\n" + _line("6.00")[:-20] + "\n")
    with pytest.raises(SourceError):
        _ingest(tmp_path, "focus", bad)
    assert snapshot(tmp_path / "w.duckdb") == before
