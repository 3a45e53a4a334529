"""The FOCUS specification's own worked examples (v1.2 `specification/data`), loaded unmodified:
partial column sets, blank lines, US dates, `$` amounts, no final line break, and commitment
discounts whose purchases never count on top of their amortised usage."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from roi import pipeline
from roi.context import Context
from tests.conftest import SHARED_DATA

EXAMPLES = SHARED_DATA / "focus/spec-1.2-examples"
FILES = sorted(p.relative_to(EXAMPLES).as_posix() for p in EXAMPLES.rglob("*.csv"))
# The commitment examples carry no account, currency or provider: the options name them. The
# SaaS examples write dates month first with two-digit years and amounts like "$10,100.00 ".
COMMITMENT = {"provider": "Example", "billing_account": "example", "currency": "USD"}
SAAS = {"dates": "us", "currency_symbols": "true"}
# Two examples end a charge period at "2023-02-01T30:00:00Z": hour 30 is no time, so that row is
# a reject (named, counted) and the rest loads.
IMPOSSIBLE_TIME = {
    "commitment_discount_scenarios/commitment_discount_purchase_scenario_2.csv": 4,
    "commitment_discount_scenarios/commitment_discount_purchase_scenario_3.csv": 5,
}


def _file_totals(path: Path, skip_row: int | None) -> tuple[int, Decimal, Decimal]:
    """Lines, billed and effective cost of an example, read by DuckDB in the test."""
    money = "replace(regexp_replace({c}, '[$ ]', '', 'g'), ',', '')::DECIMAL(38,10)"
    with duckdb.connect() as con:
        con.execute(
            "CREATE TABLE t AS SELECT row_number() OVER () + 1 AS row, * "
            "FROM read_csv(?, all_varchar = true, header = true)",
            [str(path)],
        )
        found = con.execute(
            f"""SELECT count(*), sum({money.format(c='"BilledCost"')}),
                       sum({money.format(c='"EffectiveCost"')})
                FROM t WHERE row IS DISTINCT FROM ? AND "ChargeCategory" IS NOT NULL""",
            [skip_row],
        ).fetchone()
    assert found is not None
    lines, billed, effective = found
    assert isinstance(billed, Decimal) and isinstance(effective, Decimal)
    return int(lines), billed, effective


@pytest.mark.skipif(not EXAMPLES.exists(), reason=f"{EXAMPLES} not found (../shared is absent)")
@pytest.mark.parametrize("relative", FILES or ["(none)"])
def test_every_spec_example_loads_unmodified_and_matches_its_totals(
    tmp_path: Path, relative: str
) -> None:
    path = EXAMPLES / relative
    options = SAAS if relative.startswith("saas_examples") else COMMITMENT
    bad_row = IMPOSSIBLE_TIME.get(relative)
    result = pipeline.ingest(
        Context.for_warehouse(tmp_path / "w.duckdb", tmp_path),
        "focus",
        str(path),
        options=dict(options),
        on_reject="skip" if bad_row else "fail",
    )
    assert result.rows_rejected == (1 if bad_row else 0)
    got = pipeline.query(
        Context.for_warehouse(tmp_path / "w.duckdb"),
        "SELECT count(*), sum(billed_cost), sum(effective_cost), "
        "coalesce(sum(effective_cost) FILTER (WHERE charge_category = 'Purchase'), 0), "
        "count(*) FILTER (WHERE commitment_discount_status = 'Unused') FROM cost_lines",
    ).row(0)
    lines, billed, effective = _file_totals(path, bad_row)
    assert got[:3] == (lines, billed, effective)
    if relative.startswith("commitment"):
        # A commitment's purchase is never counted on top of the usage it covers.
        assert got[3] == 0
    if "zero_percent" in relative or relative.endswith("usage_scenario_3.csv"):
        assert got[4] == 1  # the unused commitment is its own line


def test_the_examples_are_all_there() -> None:
    if not EXAMPLES.exists():
        pytest.skip(f"{EXAMPLES} not found (../shared is absent)")
    assert len(FILES) == 26
