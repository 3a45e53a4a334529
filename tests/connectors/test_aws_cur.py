"""AWS Cost and Usage Reports as AWS writes them: the real legacy sample, commitments amortised
the CUDOS way, CUR 2.0 as CSV and Parquet with its tag map, manifests, bad values."""

from __future__ import annotations

import csv
import gzip
import json
from decimal import Decimal
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from roi import pipeline
from roi.connectors.aws_cur import AwsCurConnector
from roi.connectors.base import SourceSample
from roi.context import Context
from roi.errors import RoiError
from roi.start.detect import detect
from tests.conftest import shared_file

CENT = Decimal("0.01")
# The amortised cost as the CUDOS queries write it, in the test's own SQL (formats-cost.md §4),
# with FOCUS's rule that a purchase covering future charges (a reservation's upfront fee) has
# no effective cost: its money reaches the covered usage's reservation effective cost.
EFFECTIVE_SQL = """CASE WHEN "{t}" = 'Fee' AND "{ri_arn}" IS NOT NULL THEN 0 ELSE CASE "{t}"
    WHEN 'SavingsPlanCoveredUsage' THEN "{sp_eff}"::DECIMAL(38,10)
    WHEN 'DiscountedUsage' THEN "{ri_eff}"::DECIMAL(38,10)
    WHEN 'SavingsPlanNegation' THEN 0
    WHEN 'SavingsPlanUpfrontFee' THEN 0
    WHEN 'SavingsPlanRecurringFee' THEN "{total}"::DECIMAL(38,10) - "{used}"::DECIMAL(38,10)
    WHEN 'RIFee' THEN coalesce("{unused_up}"::DECIMAL(38,10), 0)
                      + coalesce("{unused_rec}"::DECIMAL(38,10), 0)
    ELSE "{cost}"::DECIMAL(38,10) END END"""
LEGACY = {
    "t": "lineItem/LineItemType",
    "sp_eff": "savingsPlan/SavingsPlanEffectiveCost",
    "ri_eff": "reservation/EffectiveCost",
    "total": "savingsPlan/TotalCommitmentToDate",
    "used": "savingsPlan/UsedCommitment",
    "unused_up": "reservation/UnusedAmortizedUpfrontFeeForBillingPeriod",
    "unused_rec": "reservation/UnusedRecurringFee",
    "cost": "lineItem/UnblendedCost",
    "ri_arn": "reservation/ReservationARN",
}


def _ctx(tmp_path: Path) -> Context:
    return Context.for_warehouse(tmp_path / "w.duckdb", tmp_path)


def _warehouse_totals(tmp_path: Path) -> list[tuple[object, ...]]:
    return pipeline.query(
        Context.for_warehouse(tmp_path / "w.duckdb"),
        "SELECT strftime(billing_period_start, '%Y-%m') AS period, billing_currency, count(*), "
        "sum(billed_cost), sum(effective_cost) FROM cost_lines GROUP BY ALL ORDER BY ALL",
    ).rows()


def _file_totals(
    path: Path, names: dict[str, str], period: str, currency: str
) -> list[tuple[object, ...]]:
    """Per billing period and currency: lines, billed (unblended) and amortised cost, read from
    the file itself with DuckDB."""
    effective = EFFECTIVE_SQL.format(**names)
    with duckdb.connect() as con:
        con.execute(
            "CREATE TABLE cur AS SELECT * FROM read_csv(?, all_varchar = true, header = true)",
            [str(path)],
        )
        for column in names.values():  # a report without a column has no such amounts
            con.execute(f'ALTER TABLE cur ADD COLUMN IF NOT EXISTS "{column}" VARCHAR')
        return con.execute(
            f"""SELECT left("{period}", 7), "{currency}", count(*),
                       sum("{names["cost"]}"::DECIMAL(38,10)), sum({effective})
                FROM cur GROUP BY ALL ORDER BY ALL"""
        ).fetchall()


def _cents(rows: list[tuple[object, ...]]) -> list[tuple[object, ...]]:
    return [
        tuple(Decimal(str(v)).quantize(CENT) if isinstance(v, Decimal | float) else v for v in r)
        for r in rows
    ]


def test_the_real_legacy_cur_sample_loads_and_matches_the_file_to_the_cent(tmp_path: Path) -> None:
    sample = shared_file("focus/native-provider-samples/aws_cur_legacy_sample.csv")
    assert detect(sample).type == "aws_cur"
    result = pipeline.ingest(_ctx(tmp_path), "aws_cur", str(sample))
    assert result.rows_rejected == 0
    expected = _file_totals(sample, LEGACY, "bill/BillingPeriodStartDate", "lineItem/CurrencyCode")
    assert _cents(_warehouse_totals(tmp_path)) == _cents(expected)
    taxes = pipeline.query(
        Context.for_warehouse(tmp_path / "w.duckdb"),
        "SELECT count(*) FROM cost_lines WHERE charge_category = 'Tax'",
    ).item()
    with sample.open(newline="") as handle:
        assert taxes == sum(
            1 for r in csv.DictReader(handle) if r["lineItem/LineItemType"] == "Tax"
        )


COMMITMENT_HEADER = [
    "identity/LineItemId",
    "bill/PayerAccountId",
    "bill/BillingPeriodStartDate",
    "bill/BillingPeriodEndDate",
    "lineItem/UsageAccountId",
    "lineItem/LineItemType",
    "lineItem/UsageStartDate",
    "lineItem/UsageEndDate",
    "lineItem/ProductCode",
    "lineItem/ResourceId",
    "lineItem/UsageAmount",
    "lineItem/CurrencyCode",
    "lineItem/UnblendedCost",
    "product/instanceType",
    "pricing/term",
    "savingsPlan/SavingsPlanARN",
    "savingsPlan/SavingsPlanEffectiveCost",
    "savingsPlan/TotalCommitmentToDate",
    "savingsPlan/UsedCommitment",
    "reservation/ReservationARN",
    "reservation/EffectiveCost",
    "reservation/UnusedAmortizedUpfrontFeeForBillingPeriod",
    "reservation/UnusedRecurringFee",
    "resourceTags/user:ml-model",
]
SP = "arn:aws:savingsplans::1:savingsplan/sp-1"
RI = "arn:aws:ec2:us-east-1:1:reserved-instances/ri-1"
# (type, resource, usage, cost, instance, term, sp arn, sp eff, total, used, ri arn, ri eff,
#  unused upfront, unused recurring, tag)
LINES = [
    (
        "Usage",
        "i-od",
        "10",
        "32.77",
        "p4d.24xlarge",
        "OnDemand",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
        "fraud",
    ),
    (
        "SavingsPlanCoveredUsage",
        "i-sp",
        "5",
        "16.00",
        "g5.xlarge",
        "",
        SP,
        "9.50",
        "",
        "",
        "",
        "",
        "",
        "",
        "fraud",
    ),
    ("SavingsPlanNegation", "i-sp", "", "-16.00", "", "", SP, "", "", "", "", "", "", "", ""),
    (
        "SavingsPlanRecurringFee",
        "",
        "",
        "10.00",
        "",
        "",
        SP,
        "",
        "10.00",
        "9.50",
        "",
        "",
        "",
        "",
        "",
    ),
    ("SavingsPlanUpfrontFee", "", "", "1200.00", "", "", SP, "", "", "", "", "", "", "", ""),
    (
        "DiscountedUsage",
        "i-ri",
        "24",
        "0",
        "g6.xlarge",
        "Reserved",
        "",
        "",
        "",
        "",
        RI,
        "7.25",
        "",
        "",
        "chat",
    ),
    ("RIFee", "", "", "20.00", "", "Reserved", "", "", "", "", RI, "", "1.25", "2.50", ""),
    ("Fee", "", "", "500.00", "", "Reserved", "", "", "", "", RI, "", "", "", ""),
    ("Tax", "", "", "3.10", "", "", "", "", "", "", "", "", "", "", ""),
    ("Credit", "", "", "-4.00", "", "", "", "", "", "", "", "", "", "", ""),
    ("Refund", "", "", "-1.00", "", "", "", "", "", "", "", "", "", "", ""),
]


def _write_commitments(path: Path) -> Path:
    with path.open("w", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(COMMITMENT_HEADER)
        for n, line in enumerate(LINES, 1):
            kind, resource, usage, cost, instance, term = line[:6]
            out.writerow(
                [
                    f"l{n}",
                    "111122223333",
                    "2026-10-01T00:00:00Z",
                    "2026-11-01T00:00:00Z",
                    "444455556666",
                    kind,
                    "2026-10-01T00:00:00Z",
                    "2026-10-02T00:00:00Z",
                    "AmazonEC2",
                    resource,
                    usage,
                    "USD",
                    cost,
                    instance,
                    term,
                    *line[6:],
                ]
            )
    return path


def test_commitments_are_amortised_never_counted_twice(tmp_path: Path) -> None:
    cur = _write_commitments(tmp_path / "cur.csv")
    result = pipeline.ingest(_ctx(tmp_path), "aws_cur", str(cur))
    assert result.rows_rejected == 0
    expected = _file_totals(cur, LEGACY, "bill/BillingPeriodStartDate", "lineItem/CurrencyCode")
    assert _cents(_warehouse_totals(tmp_path)) == _cents(expected)
    # Usage costs 32.77 on demand + 9.50 by the plan + 7.25 by the reservation; the plan's
    # unused 0.50 and the reservation's unused 3.75 are their own lines; purchases count 0.
    rows = dict(
        pipeline.query(
            Context.for_warehouse(tmp_path / "w.duckdb"),
            "SELECT charge_category, sum(effective_cost) FROM cost_lines GROUP BY 1",
        ).rows()
    )
    assert rows == {
        "Usage": Decimal("49.52"),
        "Purchase": Decimal("4.25"),
        "Tax": Decimal("3.10"),
        "Credit": Decimal("-4.00"),
        "Adjustment": Decimal("-1.00"),
    }
    gpus = pipeline.query(
        Context.for_warehouse(tmp_path / "w.duckdb"),
        "SELECT resource_id, x_instance_type, x_gpu_count, tags['ml-model'] FROM cost_lines "
        "WHERE x_gpu_count IS NOT NULL ORDER BY 1",
    ).rows()
    assert gpus == [
        ("i-od", "p4d.24xlarge", 8, "fraud"),
        ("i-ri", "g6.xlarge", 1, "chat"),
        ("i-sp", "g5.xlarge", 1, "fraud"),
    ]


def _cur2_rows() -> list[dict[str, object]]:
    return [
        {
            "bill_payer_account_id": "111122223333",
            "bill_billing_period_start_date": "2026-10-01T00:00:00Z",
            "bill_billing_period_end_date": "2026-11-01T00:00:00Z",
            "line_item_usage_account_id": "444455556666",
            "line_item_line_item_type": kind,
            "line_item_usage_start_date": "2026-10-03T00:00:00Z",
            "line_item_usage_end_date": "2026-10-03T01:00:00Z",
            "line_item_product_code": "AmazonSageMaker",
            "line_item_resource_id": resource,
            "line_item_currency_code": "USD",
            "line_item_unblended_cost": cost,
            "product_instance_type": "ml.p5.48xlarge",
            "savings_plan_savings_plan_effective_cost": sp_eff,
            "tags": tags,
        }
        for kind, resource, cost, sp_eff, tags in [
            ("Usage", "endpoint/a", "55.04", "", {"user_ml-model": "ranker", "aws_createdBy": "x"}),
            ("SavingsPlanCoveredUsage", "endpoint/b", "55.04", "30.00", {"user_ml-model": "chat"}),
            ("SavingsPlanNegation", "endpoint/b", "-55.04", "", {}),
        ]
    ]


def _check_cur2(tmp_path: Path, path: Path) -> None:
    result = pipeline.ingest(_ctx(tmp_path), "aws_cur", str(path))
    assert result.rows_rejected == 0
    rows = pipeline.query(
        Context.for_warehouse(tmp_path / "w.duckdb"),
        "SELECT resource_id, effective_cost, billed_cost, tags['ml-model'], x_gpu_count, "
        "focus_version FROM cost_lines ORDER BY resource_id, billed_cost",
    ).rows()
    assert rows == [
        ("endpoint/a", Decimal("55.04"), Decimal("55.04"), "ranker", 8, "CUR 2.0"),
        ("endpoint/b", Decimal("0"), Decimal("-55.04"), None, 8, "CUR 2.0"),
        ("endpoint/b", Decimal("30.00"), Decimal("55.04"), "chat", 8, "CUR 2.0"),
    ]


def test_cur2_csv_gzip_with_its_tag_map_as_json(tmp_path: Path) -> None:
    rows = _cur2_rows()
    path = tmp_path / "export-00001.csv.gz"
    with gzip.open(path, "wt", newline="") as handle:
        header = [k for k in rows[0] if k != "tags"] + ["resource_tags"]
        out = csv.writer(handle)
        out.writerow(header)
        for row in rows:
            out.writerow([row[k] for k in header[:-1]] + [json.dumps(row["tags"])])
    _check_cur2(tmp_path, path)


def test_cur2_parquet_with_its_tag_map(tmp_path: Path) -> None:
    rows = _cur2_rows()
    columns: dict[str, pa.Array] = {
        k: pa.array([str(r[k]) if r[k] != "" else None for r in rows], pa.string())
        for k in rows[0]
        if k != "tags"
    }
    for k in ("line_item_unblended_cost", "savings_plan_savings_plan_effective_cost"):
        columns[k] = pa.array([float(str(r[k])) if r[k] != "" else None for r in rows])
    tags = [list(dict(r["tags"]).items()) if isinstance(r["tags"], dict) else [] for r in rows]
    columns["resource_tags"] = pa.array(tags, pa.map_(pa.string(), pa.string()))
    path = tmp_path / "export-00001.snappy.parquet"
    pq.write_table(pa.table(columns), path)
    _check_cur2(tmp_path, path)


def test_a_delivery_missing_a_part_its_manifest_lists_is_an_error(tmp_path: Path) -> None:
    period = tmp_path / "cur/my-report/20261001-20261101"
    period.mkdir(parents=True)
    _write_commitments(period / "my-report-1.csv")
    (period / "my-report-Manifest.json").write_text(
        json.dumps(
            {
                "reportKeys": [
                    "cur/my-report/20261001-20261101/my-report-1.csv",
                    "cur/my-report/20261001-20261101/my-report-2.csv",
                ]
            }
        )
    )
    with pytest.raises(
        RoiError, match=r"my-report-Manifest\.json: the manifest lists my-report-2\.csv"
    ):
        pipeline.ingest(_ctx(tmp_path), "aws_cur", str(tmp_path / "cur"))
    assert not (tmp_path / "w.duckdb").exists()
    (period / "my-report-2.csv").write_text((period / "my-report-1.csv").read_text())
    assert pipeline.ingest(_ctx(tmp_path), "aws_cur", str(tmp_path / "cur")).rows_loaded == 2 * len(
        LINES
    )


def test_a_bad_cost_names_the_file_row_and_column_as_written(tmp_path: Path) -> None:
    cur = _write_commitments(tmp_path / "cur.csv")
    cur.write_text(cur.read_text().replace(",32.77,", ",thirty,"))
    with pytest.raises(RoiError, match=r"cur\.csv row 2 field lineItem/UnblendedCost"):
        pipeline.ingest(_ctx(tmp_path), "aws_cur", str(cur))
    assert not (tmp_path / "w.duckdb").exists()


def test_a_cur_without_its_payer_account_is_refused(tmp_path: Path) -> None:
    cur = _write_commitments(tmp_path / "cur.csv")
    cur.write_text(cur.read_text().replace("bill/PayerAccountId", "bill/Payer"))
    with pytest.raises(
        RoiError, match=r"missing Cost and Usage Report column\(s\) bill/PayerAccountId"
    ):
        pipeline.ingest(_ctx(tmp_path), "aws_cur", str(cur))


def test_cur_is_told_from_focus_by_its_columns(tmp_path: Path) -> None:
    legacy = SourceSample(tmp_path, frozenset({"lineitem/unblendedcost", "lineitem/lineitemtype"}))
    assert AwsCurConnector.recognises(legacy) == "AWS Cost and Usage Report (legacy CUR) columns"
    assert AwsCurConnector.recognises(SourceSample(tmp_path, frozenset({"billedcost"}))) is None
