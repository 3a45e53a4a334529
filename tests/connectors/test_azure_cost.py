"""Azure cost details as Microsoft writes them: EA's old and new column names, US dates, tags
without braces, actual and amortized combined so that no charge counts twice."""

from __future__ import annotations

import shutil
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from roi import pipeline
from roi.context import Context
from roi.errors import RoiError
from roi.start.detect import detect
from tests.conftest import shared_file
from tests.helpers import of_type

CENT = Decimal("0.01")
ACTUAL = "billing/azure_ea_actual_cost_small.csv"
AMORTIZED = "billing/azure_ea_amortized_cost_small.csv"
NEWER_EA = "focus/native-provider-samples/azure_ea_actualcost_sample.csv"


def _ctx(tmp_path: Path) -> Context:
    return Context.for_warehouse(tmp_path / "w.duckdb", tmp_path)


def _warehouse(tmp_path: Path, sql: str) -> list[tuple[object, ...]]:
    return pipeline.query(Context.for_warehouse(tmp_path / "w.duckdb"), sql).rows()


def _file(path: Path, sql: str) -> list[tuple[object, ...]]:
    """`sql` over the export read by DuckDB itself (`t`), costs as exact decimals."""
    with duckdb.connect() as con:
        con.execute(
            "CREATE TABLE t AS SELECT * FROM read_csv(?, all_varchar = true, header = true)",
            [str(path)],
        )
        return con.execute(sql).fetchall()


TOTALS = (
    "SELECT strftime(billing_period_start, '%Y-%m'), billing_currency, count(*), "
    "sum(billed_cost), sum(effective_cost) FROM cost_lines GROUP BY ALL ORDER BY ALL"
)


def _cents(rows: list[tuple[object, ...]]) -> list[tuple[object, ...]]:
    return [tuple(v.quantize(CENT) if isinstance(v, Decimal) else v for v in r) for r in rows]


@pytest.mark.parametrize(
    ("relative", "cost", "currency", "covered_bills"),
    [
        (ACTUAL, "Cost", "BillingCurrency", True),
        (AMORTIZED, "Cost", "BillingCurrency", False),
        (NEWER_EA, "CostInBillingCurrency", "BillingCurrencyCode", True),
    ],
)
def test_each_real_export_loads_and_matches_the_file_to_the_cent(
    tmp_path: Path, relative: str, cost: str, currency: str, covered_bills: bool
) -> None:
    export = shared_file(relative)
    assert detect(export).type == "azure_cost"
    result = pipeline.ingest(_ctx(tmp_path), "azure_cost", str(export))
    assert result.rows_rejected == 0
    # Billed: the cost, except (amortized) where a reservation or savings plan covers the line.
    billed = (
        f'"{cost}"::DECIMAL(38,10)'
        if covered_bills
        else f"""CASE WHEN "PricingModel" IN ('Reservation', 'SavingsPlan') THEN 0
                 ELSE "{cost}"::DECIMAL(38,10) END"""
    )
    expected = _file(
        export,
        f"""SELECT strftime(strptime("BillingPeriodStartDate", '%m/%d/%Y'), '%Y-%m'), "{currency}",
                   count(*), sum({billed}), sum("{cost}"::DECIMAL(38,10))
            FROM t GROUP BY ALL ORDER BY ALL""",
    )
    assert _cents(_warehouse(tmp_path, TOTALS)) == _cents(expected)
    [(end,)] = _warehouse(
        tmp_path, "SELECT DISTINCT strftime(billing_period_end, '%Y-%m-%d') FROM cost_lines"
    )
    assert end == "2023-10-01"  # the export's last day, 09/30/2023, is FOCUS's next-day end


def test_actual_and_amortized_of_one_month_count_once(tmp_path: Path) -> None:
    folder = tmp_path / "exports"
    folder.mkdir()
    for relative in (ACTUAL, AMORTIZED):
        shutil.copy(shared_file(relative), folder / Path(relative).name)
    result = pipeline.ingest(_ctx(tmp_path), "azure_cost", str(folder))
    assert result.rows_rejected == 0
    [(am_lines, am_effective, am_on_demand)] = _file(
        shared_file(AMORTIZED),
        """SELECT count(*), sum("Cost"::DECIMAL(38,10)),
                  sum("Cost"::DECIMAL(38,10)) FILTER (WHERE "PricingModel" = 'OnDemand') FROM t""",
    )
    [(purchases, purchased)] = _file(
        shared_file(ACTUAL),
        """SELECT count(*), sum("Cost"::DECIMAL(38,10)) FROM t
           WHERE "ChargeType" IN ('Purchase', 'Refund')
             AND "PricingModel" IN ('Reservation', 'SavingsPlan')""",
    )
    [(_, _, lines, billed, effective)] = _warehouse(tmp_path, TOTALS)
    # Effective cost is the amortized view; billed is what the invoice holds: the on-demand
    # usage and the reservation bought this month.
    assert lines == of_type(am_lines, int) + of_type(purchases, int)
    money = [
        of_type(v, Decimal) for v in (effective, am_effective, billed, am_on_demand, purchased)
    ]
    assert money[0].quantize(CENT) == money[1].quantize(CENT)
    assert money[2].quantize(CENT) == (money[3] + money[4]).quantize(CENT)


def _copy(tmp_path: Path, relative: str) -> Path:
    target = tmp_path / "export.csv"
    shutil.copy(shared_file(relative), target)
    return target


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (",3.25,3.25,3.25,USD,", ",3.25,three,3.25,USD,", r"export\.csv row 2 field Cost"),
        (",09/21/2023,", ",21.09.2023,", r"export\.csv row 2 field Date"),
        ("ChargeType", "Charge", r"missing Azure cost details column\(s\) ChargeType"),
    ],
)
def test_bad_input_names_the_file_row_and_column(
    tmp_path: Path, old: str, new: str, message: str
) -> None:
    export = _copy(tmp_path, ACTUAL)
    text = export.read_text(encoding="utf-8-sig")
    assert old in text
    export.write_text(text.replace(old, new, 1))
    with pytest.raises(RoiError, match=message):
        pipeline.ingest(_ctx(tmp_path), "azure_cost", str(export))
    assert not (tmp_path / "w.duckdb").exists()


def test_two_currencies_for_one_account_and_month_are_refused(tmp_path: Path) -> None:
    export = _copy(tmp_path, ACTUAL)
    lines = export.read_text(encoding="utf-8-sig").splitlines()
    lines[-1] = lines[-1].replace(",USD,", ",EUR,", 1)
    export.write_text("\n".join(lines) + "\n")
    with pytest.raises(RoiError, match=r"bills 2023-09 in EUR, USD"):
        pipeline.ingest(_ctx(tmp_path), "azure_cost", str(export))
