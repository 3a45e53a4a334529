"""Google Cloud Billing exports as BigQuery writes them (JSON lines, Parquet, nested) and as
tools flatten them to CSV: credits netted per line, labels never multiplying a line, invoice
month as the billing period."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pytest

from roi import pipeline
from roi.connectors.gcp_billing import credit_sum, machine_gpus
from roi.context import Context
from roi.errors import RoiError
from roi.start.detect import detect
from tests.conftest import shared_file

CENT = Decimal("0.01")
SAMPLE = "billing/gcp_billing_export_koku_2022-08.csv"


def _ctx(tmp_path: Path) -> Context:
    return Context.for_warehouse(tmp_path / "w.duckdb", tmp_path)


def _rows(tmp_path: Path, sql: str) -> list[tuple[object, ...]]:
    return pipeline.query(Context.for_warehouse(tmp_path / "w.duckdb"), sql).rows()


def test_the_real_flattened_export_loads_and_matches_the_file(tmp_path: Path) -> None:
    export = shared_file(SAMPLE)
    assert detect(export).type == "gcp_billing"
    assert pipeline.ingest(_ctx(tmp_path), "gcp_billing", str(export)).rows_rejected == 0
    with duckdb.connect() as con:
        expected = con.execute(
            """SELECT left("invoice.month", 4) || '-' || right("invoice.month", 2), currency,
                      count(*), sum(cost::DECIMAL(38,10))
               FROM read_csv(?, all_varchar = true) GROUP BY ALL""",
            [str(export)],
        ).fetchall()
    got = _rows(
        tmp_path,
        "SELECT strftime(billing_period_start, '%Y-%m'), billing_currency, count(*), "
        "sum(effective_cost) FROM cost_lines GROUP BY ALL",
    )
    assert got == expected  # the sample has no credits: net = cost, to the last digit


def _line(
    cost: float, credits: list[dict[str, Any]], labels: dict[str, str], **extra: Any
) -> dict[str, Any]:
    return {
        "billing_account_id": "01ABCD-234567-89EFGH",
        "service": {"id": "6F81-5844-456A", "description": "Compute Engine"},
        "sku": {"id": "0A1B-2C3D", "description": "Nvidia Tesla A100 GPU running in Americas"},
        "usage_start_time": "2026-10-01T00:00:00Z",
        "usage_end_time": "2026-10-01T01:00:00Z",
        "project": {
            "id": "ml-prod",
            "name": "ML production",
            "labels": [
                {"key": "team", "value": "ml-platform"},
                {"key": "ml-model", "value": "default"},
            ],
        },
        "labels": [{"key": k, "value": v} for k, v in labels.items()],
        "system_labels": [{"key": "compute.googleapis.com/machine_spec", "value": "a2-highgpu-4g"}],
        "location": {"location": "us-central1", "region": "us-central1"},
        "cost": cost,
        "currency": "USD",
        "usage": {"amount": 3600.0, "unit": "seconds"},
        "credits": credits,
        "invoice": {"month": "202610"},
        "cost_type": extra.get("cost_type", "regular"),
    }


LINES = [
    _line(
        14.69,
        [
            {
                "name": "Sustained usage discount",
                "amount": -2.5,
                "type": "SUSTAINED_USAGE_DISCOUNT",
            },
            {"name": "Committed use discount", "amount": -4.0, "type": "COMMITTED_USAGE_DISCOUNT"},
        ],
        {"ml-model": "ranker", "env": "prod", "owner": "ana"},
    ),
    _line(3.0, [], {"env": "prod"}),
    _line(0.31, [], {}, cost_type="tax"),
]


def _check(tmp_path: Path, path: Path) -> None:
    result = pipeline.ingest(_ctx(tmp_path), "gcp_billing", str(path))
    assert result.rows_loaded == len(LINES) and result.rows_rejected == 0
    got = _rows(
        tmp_path,
        "SELECT charge_category, effective_cost, billed_cost, tags['ml-model'], tags['team'], "
        "x_gpu_count, strftime(billing_period_end, '%Y-%m-%d') FROM cost_lines ORDER BY effective_cost",
    )
    # Three labels on the first line: it is still one line (never one per label), its credits
    # netted; the project's labels fill in under the resource's.
    assert got == [
        ("Tax", Decimal("0.31"), Decimal("0.31"), "default", "ml-platform", 4, "2026-11-01"),
        ("Usage", Decimal("3"), Decimal("3"), "default", "ml-platform", 4, "2026-11-01"),
        ("Usage", Decimal("8.19"), Decimal("8.19"), "ranker", "ml-platform", 4, "2026-11-01"),
    ]


def test_json_lines_as_bigquery_exports_them(tmp_path: Path) -> None:
    path = tmp_path / "billing-000000000000.json"
    path.write_text("".join(json.dumps(line) + "\n" for line in LINES))
    _check(tmp_path, path)


def test_parquet_with_nested_records(tmp_path: Path) -> None:
    path = tmp_path / "billing-000000000000.parquet"
    pl.read_ndjson("".join(json.dumps(line) + "\n" for line in LINES).encode()).write_parquet(path)
    _check(tmp_path, path)


def test_python_style_credits_in_a_flattened_csv_are_read_not_run(tmp_path: Path) -> None:
    export = tmp_path / "export.csv"
    text = shared_file(SAMPLE).read_text()
    header, first, *rest = text.splitlines()
    credits = "\"[{'name': 'Free tier', 'amount': -0.5, 'type': 'FREE_TIER'}]\""
    first = first.replace(",0.0,USD,1.0,", ",1.25,USD,1.0,").replace(
        ",[],202208,", f",{credits},202208,"
    )
    export.write_text("\n".join([header, first, *rest]) + "\n")
    pipeline.ingest(_ctx(tmp_path), "gcp_billing", str(export))
    [(net,)] = _rows(tmp_path, "SELECT sum(effective_cost) FROM cost_lines")
    assert net == Decimal("0.75") + Decimal("0.000012")  # 1.25 − 0.5, plus the sample's own costs
    # A literal is read as data: text that would run code is just unreadable credits.
    assert credit_sum("[__import__('os').system('true')]") == "\x00invalid"


def test_unreadable_credits_name_the_file_row_and_column(tmp_path: Path) -> None:
    export = tmp_path / "export.csv"
    text = shared_file(SAMPLE).read_text().splitlines()
    text[3] = text[3].replace(",[],202208,", ",[{oops,202208,")
    export.write_text("\n".join(text) + "\n")
    with pytest.raises(RoiError, match=r"export\.csv row 4 field credits"):
        pipeline.ingest(_ctx(tmp_path), "gcp_billing", str(export))
    assert not (tmp_path / "w.duckdb").exists()


def test_a_missing_invoice_month_is_refused(tmp_path: Path) -> None:
    export = tmp_path / "export.csv"
    export.write_text(shared_file(SAMPLE).read_text().replace("invoice.month", "invoice_mth"))
    with pytest.raises(RoiError, match=r"missing Cloud Billing export column\(s\) invoice\.month"):
        pipeline.ingest(_ctx(tmp_path), "gcp_billing", str(export))


@pytest.mark.parametrize(
    ("machine", "gpus"),
    [
        ("a2-highgpu-8g", 8),
        ("a3-megagpu-8g", 8),
        ("a2-ultragpu-1g", 1),
        ("g2-standard-48", 4),
        ("n2-standard-8", None),
    ],
)
def test_gpus_from_the_machine_type(machine: str, gpus: int | None) -> None:
    assert machine_gpus(machine) == gpus
