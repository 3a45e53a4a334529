"""Azure cost details as Microsoft writes them: EA's old and new column names, US dates, tags
without braces, actual and amortized combined so that no charge counts twice."""

from __future__ import annotations

import shutil
from decimal import Decimal
from pathlib import Path

import duckdb
import polars as pl
import pytest

from roi import pipeline
from roi.config import ConnectorConfig
from roi.connectors.azure_cost import AzureCostConnector, read_azure_file, survey_azure
from roi.connectors.azure_views import survey_of_read
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


@pytest.mark.parametrize(
    "names",
    [
        # views told by the names: no first pass, the amortized file read first
        {ACTUAL: "azure_ea_actual_cost_small.csv", AMORTIZED: "azure_ea_amortized_cost_small.csv"},
        # views told by the lines: every file surveyed first
        {ACTUAL: "part_1.csv", AMORTIZED: "part_2.csv"},
    ],
    ids=["named", "unnamed"],
)
def test_actual_and_amortized_of_one_month_count_once(
    tmp_path: Path, names: dict[str, str]
) -> None:
    folder = tmp_path / "exports"
    folder.mkdir()
    for relative, name in names.items():
        shutil.copy(shared_file(relative), folder / name)
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


def test_ea_unit_prices_are_read_as_written(tmp_path: Path) -> None:
    """EA prices are in the billing currency: list = PayGPrice, contracted = UnitPrice,
    effective = EffectivePrice, line by line."""
    export = shared_file(NEWER_EA)
    pipeline.ingest(_ctx(tmp_path), "azure_cost", str(export))
    loaded = _warehouse(
        tmp_path,
        "SELECT source_row, list_unit_price, contracted_unit_price, x_effective_unit_price "
        "FROM cost_lines ORDER BY source_row",
    )
    written = _file(
        export,
        """SELECT row_number() OVER () + 1, "PayGPrice"::DECIMAL(38,10),
                  "UnitPrice"::DECIMAL(38,10), "EffectivePrice"::DECIMAL(38,10) FROM t""",
    )
    assert loaded == written and any(r[1] is not None for r in loaded)


# An MCA cost details export as Microsoft documents its columns (camelCase; billed in EUR,
# priced in USD): costs are in the billing currency, unit prices in the pricing currency.
MCA_HEADER = [
    "invoiceId", "billingAccountId", "billingAccountName", "billingProfileId",
    "billingProfileName", "billingPeriodStartDate", "billingPeriodEndDate", "date",
    "serviceFamily", "meterId", "meterName", "meterCategory", "meterSubCategory", "ProductId",
    "ProductName", "SubscriptionId", "subscriptionName", "ResourceId", "resourceLocation",
    "effectivePrice", "quantity", "unitOfMeasure", "chargeType", "billingCurrency",
    "pricingCurrency", "costInBillingCurrency", "costInPricingCurrency",
    "paygCostInBillingCurrency", "exchangeRatePricingToBilling", "exchangeRateDate", "tags",
    "PayGPrice", "frequency", "pricingModel", "unitPrice",
]  # fmt: skip
# (meter category, meter, quantity, pricing currency, effectivePrice, unitPrice, PayGPrice,
#  rate): a GPU VM, tokens priced in millionths (the product needs rounding: 0.0000025 ×
#  0.9125 = 0.00000228125, half to even at the 10th decimal), a marketplace line priced in EUR.
MCA_LINES = [
    ("Virtual Machines", "NC24ads A100 v4", "24", "USD", "3.1720", "3.4900", "3.6730", "0.9125"),
    ("Cognitive Services", "gpt-4o Input Tokens", "1200", "USD", "0.0000025", "0.0000025",
     "0.0000025", "0.9125"),
    ("SaaS", "Seat", "3", "EUR", "10.00", "10.00", "12.00", "1"),
]  # fmt: skip


def _write_mca(path: Path, rate_of_row_2: str | None = None) -> Path:
    import csv

    with path.open("w", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(MCA_HEADER)
        for n, (category, meter, qty, pricing, eff, unit, payg, rate) in enumerate(MCA_LINES):
            rate = rate_of_row_2 if n == 0 and rate_of_row_2 is not None else rate
            in_pricing = Decimal(eff) * Decimal(qty)
            in_billing = in_pricing * Decimal(rate or "0.9125")
            out.writerow(
                [
                    "E0600ABCDE", "acct-1", "Contoso", "BP-1", "Contoso EUR", "10/01/2026",
                    "10/31/2026", "10/05/2026", "Compute", f"m{n}", meter, category, "",
                    f"prod{n}", meter, "sub-1", "ml", f"/subscriptions/sub-1/r{n}", "westeurope",
                    eff, qty, "1 Hour", "Usage", "EUR", pricing, str(in_billing),
                    str(in_pricing), str(Decimal(payg) * Decimal(qty) * Decimal(rate or "1")),
                    rate, "10/01/2026", '"ml-model": "fraud"', payg, "UsageBased", "OnDemand",
                    unit,
                ]
            )  # fmt: skip
    return path


def test_mca_unit_prices_are_converted_to_the_billing_currency(tmp_path: Path) -> None:
    from decimal import ROUND_HALF_EVEN

    export = _write_mca(tmp_path / "mca-actual.csv")
    assert detect(export).type == "azure_cost"
    result = pipeline.ingest(_ctx(tmp_path), "azure_cost", str(export))
    assert result.rows_rejected == 0

    def billing(price: str, rate: str, pricing: str) -> Decimal:
        if pricing == "EUR":  # priced in the billing currency: as written
            return Decimal(price)
        return (Decimal(price) * Decimal(rate)).quantize(Decimal("1e-10"), ROUND_HALF_EVEN)

    expected = [
        (
            meter,
            billing(payg, rate, pricing),
            billing(unit, rate, pricing),
            billing(eff, rate, pricing),
        )
        for _, meter, _, pricing, eff, unit, payg, rate in MCA_LINES
    ]
    loaded = _warehouse(
        tmp_path,
        "SELECT sku_meter, list_unit_price, contracted_unit_price, x_effective_unit_price "
        "FROM cost_lines ORDER BY source_row",
    )
    assert loaded == expected
    assert loaded[1][1] == Decimal("0.0000022812")  # 0.00000228125, half to even
    # Costs stay as billed (EUR), counted once.
    file_totals = _file(
        export,
        """SELECT count(*), sum("costInBillingCurrency"::DECIMAL(38,10)) FROM t""",
    )
    [(lines, billed, effective, currency, version)] = _warehouse(
        tmp_path,
        "SELECT count(*), sum(billed_cost), sum(effective_cost), any_value(billing_currency), "
        "any_value(focus_version) FROM cost_lines",
    )
    assert (lines, billed, effective) == (file_totals[0][0], file_totals[0][1], file_totals[0][1])
    assert (currency, version) == ("EUR", "Azure cost details (MCA)")


def test_a_row_priced_in_another_currency_without_a_rate_is_an_error(tmp_path: Path) -> None:
    export = _write_mca(tmp_path / "mca-actual.csv", rate_of_row_2="")
    with pytest.raises(
        RoiError, match=r"mca-actual\.csv row 2 field exchangeRatePricingToBilling: the unit prices"
    ):
        pipeline.ingest(_ctx(tmp_path), "azure_cost", str(export))
    assert not (tmp_path / "w.duckdb").exists()


@pytest.mark.parametrize("relative", [ACTUAL, AMORTIZED, NEWER_EA])
def test_a_files_survey_told_from_its_read_equals_the_light_survey(relative: str) -> None:
    # A single file is surveyed from its own read instead of a second pass: the same rows.
    export = shared_file(relative)
    light = survey_azure(export, relative)
    read = survey_of_read(read_azure_file(export, relative).frame, relative)
    assert light.height > 0
    assert read.sort(light.columns).equals(light.select(read.columns).sort(light.columns))


def test_files_are_surveyed_first_only_when_their_lines_tell_their_view(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    surveyed: list[str] = []
    light = AzureCostConnector.survey

    def counted(self: AzureCostConnector, path: Path, relative: str) -> pl.DataFrame:
        surveyed.append(relative)
        return light(self, path, relative)

    monkeypatch.setattr(AzureCostConnector, "survey", counted)
    folder = tmp_path / "exports"
    folder.mkdir()
    shutil.copy(shared_file(ACTUAL), folder / "actual.csv")
    ctx = _ctx(tmp_path)
    alone = pipeline.ingest(ctx, "azure_cost", str(folder))
    assert surveyed == [] and alone.rows_loaded > 0
    shutil.copy(shared_file(AMORTIZED), folder / "amortized.csv")
    pipeline.ingest(ctx, "azure_cost", str(folder))
    assert surveyed == []  # both views named: each file surveyed from its own read
    (folder / "amortized.csv").rename(folder / "part_2.csv")
    pipeline.ingest(ctx, "azure_cost", str(folder))
    assert sorted(Path(r).name for r in surveyed) == ["actual.csv", "part_2.csv"]


def test_named_views_are_read_amortized_first() -> None:
    connector = AzureCostConnector(
        ConnectorConfig("azure", "azure_cost", Path("/project/connectors/azure.toml"), "exports"),
        Path("/project"),
    )
    files = [Path(f"/project/exports/{n}.csv") for n in ("a_actual", "b_amortized", "c_actual")]
    assert connector.read_order(files) == [files[1], files[0], files[2]]
    assert connector.read_order([*files, Path("/project/exports/d.csv")]) is None
    assert connector.read_order(files[:1]) == files[:1]
