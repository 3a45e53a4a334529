"""FOCUS 1.3's Contract Commitment dataset: loaded as its own table, recognised by `roi connect`,
the committed cost per currency equal to the file's to the cent."""

from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path

import pytest

from roi import pipeline
from roi.context import Context
from roi.errors import ValidationFailed
from roi.start.detect import detect
from tests.helpers import roi_cli

HEADER = [
    "BillingCurrency",
    "ContractCommitmentCategory",
    "ContractCommitmentCost",
    "ContractCommitmentDescription",
    "ContractCommitmentId",
    "ContractCommitmentPeriodEnd",
    "ContractCommitmentPeriodStart",
    "ContractCommitmentQuantity",
    "ContractCommitmentType",
    "ContractCommitmentUnit",
    "ContractId",
    "ContractPeriodEnd",
    "ContractPeriodStart",
]


def _rows() -> list[dict[str, str]]:
    """A one-year compute savings plan billed monthly, and a usage commitment of GPU hours."""
    rows = []
    for month in range(1, 13):
        end = f"2026-{month + 1:02d}-01T00:00:00Z" if month < 12 else "2027-01-01T00:00:00Z"
        rows.append(
            {
                "BillingCurrency": "USD",
                "ContractCommitmentCategory": "Spend",
                "ContractCommitmentCost": "7300.0000000001" if month == 12 else "7300",
                "ContractCommitmentDescription": "Compute Savings Plan, 1 year, no upfront",
                "ContractCommitmentId": "sp-0a1b2c",
                "ContractCommitmentPeriodEnd": end,
                "ContractCommitmentPeriodStart": f"2026-{month:02d}-01T00:00:00Z",
                "ContractCommitmentQuantity": "",
                "ContractCommitmentType": "Savings Plan",
                "ContractCommitmentUnit": "",
                "ContractId": "arn:aws:savingsplans::123456789012:savingsplan/0a1b2c",
                "ContractPeriodEnd": "2027-01-01T00:00:00Z",
                "ContractPeriodStart": "2026-01-01T00:00:00Z",
            }
        )
    rows.append(
        {
            **rows[0],
            "ContractCommitmentCategory": "Usage",
            "ContractCommitmentCost": "",
            "ContractCommitmentQuantity": "2160",
            "ContractCommitmentUnit": "GPU-Hours",
            "ContractCommitmentId": "cud-gpu-9",
            "ContractCommitmentType": "Committed Use Discount",
            "ContractCommitmentDescription": "3 x A100 for a month, committed use",
            "BillingCurrency": "EUR",
        }
    )
    return rows


def _write(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, HEADER)
        writer.writeheader()
        writer.writerows(rows)
    return path


def test_commitments_load_as_their_own_table(tmp_path: Path) -> None:
    rows = _rows()
    source = _write(tmp_path / "contract_commitments.csv", rows)
    assert detect(source).type == "focus_commitments"
    warehouse = tmp_path / "roi.duckdb"
    result = roi_cli(
        "ingest", "focus_commitments", str(source), "--warehouse", str(warehouse), "-q"
    )
    assert result.returncode == 0, result.stderr
    loaded = pipeline.query(
        Context.for_warehouse(warehouse),
        "SELECT billing_currency, sum(cost)::VARCHAR, sum(quantity), count(*) "
        "FROM contract_commitments GROUP BY 1 ORDER BY 1",
    ).rows()
    expected: dict[str, list[Decimal]] = {}
    for row in rows:
        expected.setdefault(row["BillingCurrency"], []).append(
            Decimal(row["ContractCommitmentCost"] or "0")
        )
    assert [(c, Decimal(total or "0").normalize(), n) for c, total, _, n in loaded] == [
        (c, sum(v, Decimal(0)).normalize(), len(v)) for c, v in sorted(expected.items())
    ]
    assert loaded[0][2] == 2160.0  # the EUR usage commitment's GPU-hours


def test_an_unknown_category_names_the_row_and_field(tmp_path: Path) -> None:
    rows = _rows()
    rows[3]["ContractCommitmentCategory"] = "Other"
    source = _write(tmp_path / "commitments.csv", rows)
    warehouse = tmp_path / "roi.duckdb"
    with pytest.raises(ValidationFailed, match=r"commitments.csv row 5 field category"):
        pipeline.ingest(Context.for_warehouse(warehouse), "focus_commitments", str(source))
