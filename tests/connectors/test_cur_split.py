"""EKS and ECS split cost allocation data in the CUR: each pod's (task's) cost is visible under
its own ARN and labels, split from its EC2 instance's lines, and nothing counts twice: the
month's billed and effective totals are the CUR's own, recomputed here from the file with
DuckDB, and each pod's effective cost is its `split_cost + unused_cost`.

The fixture is a CUR 2.0 export in the shape AWS documents (Data Exports, "Understanding split
cost allocation data", the split line item columns; the rows as the CUDOS SCAD dashboard reads
them): per pod and hour a vCPU and a memory row (`EKSPod-EC2`, `…EKS-EC2-vCPU-Hours`,
`…EKS-EC2-GB-Hours`) with no unblended cost, the pod's ARN as resource, its labels as
`aws_eks_*` resource tags, and the instance in `split_line_item_parent_resource_id`; over one
instance-hour the pods' split and unused costs add up to the instance's amortised cost.
"""

from __future__ import annotations

import csv
import json
from decimal import Decimal
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from roi import pipeline
from roi.context import Context
from roi.errors import RoiError

CENT = Decimal("0.01")
SP = "arn:aws:savingsplans::111122223333:savingsplan/sp-1"
H1, H2 = "2026-10-03T00:00:00Z", "2026-10-03T01:00:00Z"
END = {H1: "2026-10-03T01:00:00Z", H2: "2026-10-03T02:00:00Z"}
POD = "arn:aws:eks:us-east-1:444455556666:pod/prod/ml/{}/uid-{}"
FRAUD, RANKER = POD.format("fraud-model-7d9f", "a"), POD.format("ranker-5c2b", "b")
FARGATE, ORPHAN = POD.format("notebook-0", "f"), POD.format("cron-1", "o")
TASK = "arn:aws:ecs:us-east-1:444455556666:task/batch/0f1e2d3c"


def _pod_tags(workload: str, model: str) -> dict[str, str]:
    return {
        "aws_eks_cluster_name": "prod",
        "aws_eks_namespace": "ml",
        "aws_eks_workload_type": "ReplicaSet",
        "aws_eks_workload_name": workload,
        "aws_eks_deployment": workload,
        "aws_eks_node": "ip-10-0-1-10.ec2.internal",
        "user_ml-model": model,
    }


def _line(hour: str, kind: str, resource: str, cost: str, **more: object) -> dict[str, object]:
    row: dict[str, object] = {
        "line_item_line_item_type": kind,
        "line_item_usage_start_date": hour,
        "line_item_usage_end_date": END[hour],
        "line_item_resource_id": resource,
        "line_item_unblended_cost": cost,
    }
    return row | more


def _instance(
    hour: str, kind: str, instance: str, itype: str, usage: str, cost: str, **more: object
) -> dict[str, object]:
    return _line(
        hour,
        kind,
        instance,
        cost,
        line_item_product_code="AmazonEC2",
        line_item_usage_type=f"USE1-BoxUsage:{itype}",
        line_item_operation="RunInstances",
        line_item_usage_amount=usage,
        pricing_public_on_demand_cost=more.pop("public", cost),
        pricing_unit="Hrs",
        pricing_term="OnDemand",
        product_instance_type=itype,
        product_product_family="Compute Instance",
        resource_tags=more.pop("tags", {"user_team": "platform"}),
        **more,
    )


def _pod(
    hour: str,
    pod: str,
    parent: str,
    memory: bool,
    split: str,
    unused: str,
    tags: dict[str, str],
    product: str = "AmazonEKS",
    operation: str = "EKSPod-EC2",
) -> dict[str, object]:
    usage = "GB-Hours" if memory else "vCPU-Hours"
    service = "EKS" if product == "AmazonEKS" else "ECS"
    return _line(
        hour,
        "Usage",
        pod,
        "0",
        line_item_product_code=product,
        line_item_usage_type=f"USE1-{service}-EC2-{usage}",
        line_item_operation=operation,
        line_item_usage_amount="2" if not memory else "8",
        pricing_unit=usage,
        resource_tags=tags,
        split_line_item_parent_resource_id=parent,
        split_line_item_split_usage="2" if not memory else "8",
        split_line_item_reserved_usage="2" if not memory else "8",
        split_line_item_actual_usage="1.5" if not memory else "6",
        split_line_item_split_usage_ratio="0.25",
        split_line_item_split_cost=split,
        split_line_item_unused_cost=unused,
        split_line_item_public_on_demand_split_cost=split,
    )


FRAUD_TAGS, RANKER_TAGS = _pod_tags("fraud-model", "fraud"), _pod_tags("ranker", "ranker")
TASK_TAGS = {
    "aws_ecs_cluster_name": "batch",
    "aws_ecs_service_name": "etl",
    "aws_batch_job_definition": "etl-job:3",
    "user_app": "etl",
}
ROWS = [
    # 00:00, a g5.12xlarge on demand ($5.672) and its data transfer (not the pods' cost).
    _instance(H1, "Usage", "i-0gpu", "g5.12xlarge", "1", "5.672"),
    _line(
        H1,
        "Usage",
        "i-0gpu",
        "0.01",
        line_item_product_code="AmazonEC2",
        line_item_usage_type="USE1-DataTransfer-Regional-Bytes",
        line_item_operation="RunInstances",
        line_item_usage_amount="1",
        product_product_family="Data Transfer",
    ),
    _pod(H1, FRAUD, "i-0gpu", False, "2.10", "0.20", FRAUD_TAGS),
    _pod(H1, FRAUD, "i-0gpu", True, "0.50", "0.10", FRAUD_TAGS),
    _pod(H1, RANKER, "i-0gpu", False, "1.80", "0.17", RANKER_TAGS),
    _pod(H1, RANKER, "i-0gpu", True, "0.70", "0.102", RANKER_TAGS),
    # 01:00, 60% of the hour under a Savings Plan (amortised 2.00), 40% on demand: 4.2688.
    _instance(
        H2,
        "SavingsPlanCoveredUsage",
        "i-0gpu",
        "g5.12xlarge",
        "0.6",
        "3.4032",
        savings_plan_savings_plan_a_r_n=SP,
        savings_plan_savings_plan_effective_cost="2.00",
    ),
    _instance(H2, "Usage", "i-0gpu", "g5.12xlarge", "0.4", "2.2688"),
    _line(
        H2,
        "SavingsPlanNegation",
        "",
        "-3.4032",
        line_item_product_code="AmazonEC2",
        savings_plan_savings_plan_a_r_n=SP,
    ),
    _pod(H2, FRAUD, "i-0gpu", False, "1.80", "0.20", FRAUD_TAGS),
    _pod(H2, FRAUD, "i-0gpu", True, "0.40", "0.10", FRAUD_TAGS),
    _pod(H2, RANKER, "i-0gpu", False, "1.20", "0.10", RANKER_TAGS),
    _pod(H2, RANKER, "i-0gpu", True, "0.40", "0.0688", RANKER_TAGS),
    # An ECS task on an m5.xlarge ($0.192), an instance without pods, a pod on Fargate (billed
    # itself, no parent), a pod whose instance this report does not hold.
    _instance(H1, "Usage", "i-0ecs", "m5.xlarge", "1", "0.192"),
    _pod(H1, TASK, "i-0ecs", False, "0.120", "0.030", TASK_TAGS, "AmazonECS", "ECSTask-EC2"),
    _pod(H1, TASK, "i-0ecs", True, "0.030", "0.012", TASK_TAGS, "AmazonECS", "ECSTask-EC2"),
    _instance(H1, "Usage", "i-0idle", "m5.large", "1", "0.096"),
    _line(
        H1,
        "Usage",
        FARGATE,
        "0.04048",
        line_item_product_code="AmazonEKS",
        line_item_usage_type="USE1-Fargate-vCPU-Hours:perCPU",
        line_item_operation="FargatePod",
        line_item_usage_amount="1",
        resource_tags=_pod_tags("notebook", "chat"),
    ),
    _pod(H1, ORPHAN, "i-0gone", False, "0.30", "0", _pod_tags("cron", "batch")),
]
COLUMNS = [
    "bill_payer_account_id", "bill_billing_period_start_date", "bill_billing_period_end_date",
    "line_item_usage_account_id", "line_item_line_item_type", "line_item_usage_start_date",
    "line_item_usage_end_date", "line_item_product_code", "line_item_usage_type",
    "line_item_operation", "line_item_resource_id", "line_item_usage_amount",
    "line_item_unblended_cost", "line_item_currency_code", "pricing_public_on_demand_cost",
    "pricing_unit", "pricing_term", "product_instance_type", "product_product_family", "product_region_code",
    "savings_plan_savings_plan_a_r_n", "savings_plan_savings_plan_effective_cost",
    "split_line_item_parent_resource_id", "split_line_item_split_usage",
    "split_line_item_reserved_usage", "split_line_item_actual_usage",
    "split_line_item_split_usage_ratio", "split_line_item_split_cost",
    "split_line_item_unused_cost", "split_line_item_public_on_demand_split_cost",
]  # fmt: skip
COMMON = {
    "bill_payer_account_id": "111122223333",
    "bill_billing_period_start_date": "2026-10-01T00:00:00Z",
    "bill_billing_period_end_date": "2026-11-01T00:00:00Z",
    "line_item_usage_account_id": "444455556666",
    "line_item_currency_code": "USD",
    "product_region_code": "us-east-1",
}
DOUBLES = {
    "line_item_usage_amount", "line_item_unblended_cost", "pricing_public_on_demand_cost",
    "savings_plan_savings_plan_effective_cost", "split_line_item_split_usage",
    "split_line_item_reserved_usage", "split_line_item_actual_usage",
    "split_line_item_split_usage_ratio", "split_line_item_split_cost",
    "split_line_item_unused_cost", "split_line_item_public_on_demand_split_cost",
}  # fmt: skip


def _value(row: dict[str, object], column: str) -> str | None:
    value = (COMMON | row).get(column)
    return None if value in (None, "") else str(value)


def write_cur2(path: Path, rows: list[dict[str, object]]) -> Path:
    """`rows` as a CUR 2.0 Parquet file: costs as doubles, times as timestamps, tags a map."""
    columns: dict[str, pa.Array] = {}
    for column in COLUMNS:
        values = [_value(r, column) for r in rows]
        if column in DOUBLES:
            columns[column] = pa.array(
                [None if v is None else float(v) for v in values], pa.float64()
            )
        elif column.endswith("_date"):
            columns[column] = pa.array(values, pa.string()).cast(pa.timestamp("ms", tz="UTC"))
        else:
            columns[column] = pa.array(values, pa.string())
    tags = [list(dict(r.get("resource_tags") or {}).items()) for r in rows]  # type: ignore[call-overload]
    columns["resource_tags"] = pa.array(tags, pa.map_(pa.string(), pa.string()))
    pq.write_table(pa.table(columns), path)
    return path


# CUR 2.0 → legacy CUR names (the legacy report has one column per tag).
LEGACY_NAMES = {
    "bill_payer_account_id": "bill/PayerAccountId",
    "bill_billing_period_start_date": "bill/BillingPeriodStartDate",
    "bill_billing_period_end_date": "bill/BillingPeriodEndDate",
    "line_item_usage_account_id": "lineItem/UsageAccountId",
    "line_item_line_item_type": "lineItem/LineItemType",
    "line_item_usage_start_date": "lineItem/UsageStartDate",
    "line_item_usage_end_date": "lineItem/UsageEndDate",
    "line_item_product_code": "lineItem/ProductCode",
    "line_item_usage_type": "lineItem/UsageType",
    "line_item_operation": "lineItem/Operation",
    "line_item_resource_id": "lineItem/ResourceId",
    "line_item_usage_amount": "lineItem/UsageAmount",
    "line_item_unblended_cost": "lineItem/UnblendedCost",
    "line_item_currency_code": "lineItem/CurrencyCode",
    "pricing_public_on_demand_cost": "pricing/publicOnDemandCost",
    "pricing_unit": "pricing/unit",
    "pricing_term": "pricing/term",
    "product_instance_type": "product/instanceType",
    "product_product_family": "product/productFamily",
    "product_region_code": "product/regionCode",
    "savings_plan_savings_plan_a_r_n": "savingsPlan/SavingsPlanARN",
    "savings_plan_savings_plan_effective_cost": "savingsPlan/SavingsPlanEffectiveCost",
    "split_line_item_parent_resource_id": "splitLineItem/ParentResourceId",
    "split_line_item_split_usage": "splitLineItem/SplitUsage",
    "split_line_item_reserved_usage": "splitLineItem/ReservedUsage",
    "split_line_item_actual_usage": "splitLineItem/ActualUsage",
    "split_line_item_split_usage_ratio": "splitLineItem/SplitUsageRatio",
    "split_line_item_split_cost": "splitLineItem/SplitCost",
    "split_line_item_unused_cost": "splitLineItem/UnusedCost",
    "split_line_item_public_on_demand_split_cost": "splitLineItem/PublicOnDemandSplitCost",
}


# The split cost allocation labels as AWS names the cost allocation tags (Billing's cost
# allocation tags page, Cost Explorer) and the legacy CUR writes them (`resourceTags/<name>`),
# by the key CUR 2.0 writes in its `resource_tags` map (Data Exports; the CID SCAD dashboard's
# prerequisites list both).
AWS_TAG_NAMES = {
    "aws_eks_cluster_name": "aws:eks:cluster-name",
    "aws_eks_namespace": "aws:eks:namespace",
    "aws_eks_node": "aws:eks:node",
    "aws_eks_workload_name": "aws:eks:workload-name",
    "aws_eks_workload_type": "aws:eks:workload-type",
    "aws_eks_deployment": "aws:eks:deployment",
    "aws_ecs_cluster_name": "aws:ecs:clusterName",
    "aws_ecs_service_name": "aws:ecs:serviceName",
    "aws_batch_job_definition": "aws:batch:job-definition",
}


def write_legacy(path: Path, rows: list[dict[str, object]]) -> Path:
    """`rows` as a legacy CUR CSV: slash names, one `resourceTags/…` column per tag key
    (`aws_eks_namespace` is `aws:eks:namespace`, `user_team` is `user:team`)."""
    keys = sorted({k for r in rows for k in dict(r.get("resource_tags") or {})})  # type: ignore[call-overload]

    def tag_column(key: str) -> str:
        if key.startswith("user_"):
            return "resourceTags/user:" + key.removeprefix("user_")
        return "resourceTags/" + AWS_TAG_NAMES[key]

    with path.open("w", newline="") as handle:
        out = csv.writer(handle)
        out.writerow([LEGACY_NAMES[c] for c in COLUMNS] + [tag_column(k) for k in keys])
        for row in rows:
            tags = dict(row.get("resource_tags") or {})  # type: ignore[call-overload]
            out.writerow([_value(row, c) or "" for c in COLUMNS] + [tags.get(k, "") for k in keys])
    return path


def _ctx(tmp_path: Path) -> Context:
    return Context.for_warehouse(tmp_path / "w.duckdb", tmp_path)


def _warehouse(tmp_path: Path, sql: str) -> list[tuple[object, ...]]:
    return pipeline.query(Context.for_warehouse(tmp_path / "w.duckdb"), sql).rows()


def _by_resource(rows: list[tuple[object, ...]]) -> dict[str, object]:
    return {str(r[0]): r[1] for r in rows}


def _cur(sql: str, *files: Path) -> list[tuple[object, ...]]:
    """`sql` over the CUR 2.0 files themselves (`cur`), read by DuckDB."""
    with duckdb.connect() as con:
        paths = ", ".join(f"'{p}'" for p in files)
        con.execute(f"CREATE VIEW cur AS SELECT * FROM read_parquet([{paths}])")
        return con.execute(sql).fetchall()


# The CUR's own totals by AWS's rules (CUDOS amortisation, the split rows left out as the CID
# views leave them: they carry no cost of their own), from the file.
CUR_TOTALS = """
    SELECT strftime(bill_billing_period_start_date, '%Y-%m'), line_item_currency_code,
           sum(line_item_unblended_cost::DECIMAL(38,10)),
           sum(CASE line_item_line_item_type
                 WHEN 'SavingsPlanCoveredUsage'
                   THEN savings_plan_savings_plan_effective_cost::DECIMAL(38,10)
                 WHEN 'SavingsPlanNegation' THEN 0
                 ELSE line_item_unblended_cost::DECIMAL(38,10) END)
    FROM cur
    WHERE coalesce(line_item_operation, '') NOT IN ('EKSPod-EC2', 'ECSTask-EC2')
       OR split_line_item_parent_resource_id NOT IN (SELECT line_item_resource_id FROM cur)
    GROUP BY ALL ORDER BY ALL"""
WAREHOUSE_TOTALS = """
    SELECT strftime(billing_period_start, '%Y-%m'), billing_currency, sum(billed_cost),
           sum(effective_cost)
    FROM cost_lines GROUP BY ALL ORDER BY ALL"""
# Each pod's (task's) cost by AWS's split columns: split + unused cost, where the pod's
# instance is in the report.
POD_COSTS = """
    SELECT line_item_resource_id,
           sum(split_line_item_split_cost::DECIMAL(38,10)
               + split_line_item_unused_cost::DECIMAL(38,10))
    FROM cur
    WHERE split_line_item_parent_resource_id IN (
        SELECT line_item_resource_id FROM cur WHERE line_item_operation = 'RunInstances'
          AND product_product_family = 'Compute Instance')
    GROUP BY ALL ORDER BY ALL"""


def test_each_pod_carries_its_split_cost_and_the_totals_are_the_curs(tmp_path: Path) -> None:
    cur = write_cur2(tmp_path / "part-00001.snappy.parquet", ROWS)
    result = pipeline.ingest(_ctx(tmp_path), "aws_cur", str(cur))
    assert result.rows_rejected == 0
    assert _warehouse(tmp_path, WAREHOUSE_TOTALS) == _cur(CUR_TOTALS, cur)
    pods = _warehouse(
        tmp_path,
        "SELECT resource_id, sum(effective_cost) FROM cost_lines "
        f"WHERE resource_id IN ('{FRAUD}', '{RANKER}', '{TASK}') GROUP BY ALL ORDER BY ALL",
    )
    assert pods == _cur(POD_COSTS, cur)
    assert _by_resource(pods)[FRAUD] == Decimal("5.40")  # 2.90 at 00:00 + 2.50 at 01:00
    # Billed cost follows the same shares: each instance line's, divided by the pods' shares.
    billed = _by_resource(
        _warehouse(tmp_path, "SELECT resource_id, sum(billed_cost) FROM cost_lines GROUP BY 1")
    )
    fraud_billed = Decimal("5.672") * Decimal("2.90") / Decimal("5.672") + (
        Decimal("3.4032") + Decimal("2.2688")
    ) * Decimal("2.50") / Decimal("4.2688")
    assert Decimal(str(billed[FRAUD])).quantize(CENT) == fraud_billed.quantize(CENT)
    # The instance's compute went to its pods; its data transfer, the idle instance, the
    # Fargate pod (billed itself) and the pod whose instance is elsewhere stay as billed.
    assert billed["i-0gpu"] == Decimal("0.01")
    assert billed["i-0idle"] == Decimal("0.096")
    assert billed[FARGATE] == Decimal("0.04048")
    assert billed[ORPHAN] == Decimal("0")
    assert "i-0ecs" not in billed


def test_a_pod_keeps_its_instances_dimensions_and_gpus_and_its_own_labels(
    tmp_path: Path,
) -> None:
    cur = write_cur2(tmp_path / "part-00001.snappy.parquet", ROWS)
    pipeline.ingest(_ctx(tmp_path), "aws_cur", str(cur))
    rows = _warehouse(
        tmp_path,
        "SELECT strftime(charge_period_start, '%H'), pricing_category, commitment_discount_id, "
        "x_instance_type, x_gpu_count, tags['aws:eks:namespace'], "
        "tags['aws:eks:workload-name'], tags['ml-model'], tags['team'], service_name "
        f"FROM cost_lines WHERE resource_id = '{FRAUD}' ORDER BY source_row",
    )
    labels = ("ml", "fraud-model", "fraud", "platform", "AmazonEC2")
    assert rows == [
        ("00", "Standard", None, "g5.12xlarge", 4, *labels),
        ("01", "Committed", SP, "g5.12xlarge", 4, *labels),
        ("01", "Standard", None, "g5.12xlarge", 4, *labels),
    ]
    # The instance's hours are shared by its pods: 2 hours, 4 GPUs each.
    [(hours, gpu_hours)] = _warehouse(
        tmp_path,
        "SELECT sum(consumed_quantity), sum(consumed_quantity * x_gpu_count) FROM cost_lines "
        f"WHERE resource_id IN ('{FRAUD}', '{RANKER}')",
    )
    assert hours == pytest.approx(2.0) and gpu_hours == pytest.approx(8.0)


def test_pods_and_their_instance_in_different_parts_of_one_delivery(tmp_path: Path) -> None:
    period = tmp_path / "exports/ml-cur/data/BILLING_PERIOD=2026-10"
    period.mkdir(parents=True)
    pods = [r for r in ROWS if r.get("split_line_item_parent_resource_id")]
    others = [r for r in ROWS if not r.get("split_line_item_parent_resource_id")]
    first = write_cur2(period / "ml-cur-00001.snappy.parquet", pods)
    second = write_cur2(period / "ml-cur-00002.snappy.parquet", others)
    pipeline.ingest(_ctx(tmp_path), "aws_cur", str(tmp_path / "exports"))
    assert _warehouse(tmp_path, WAREHOUSE_TOTALS) == _cur(CUR_TOTALS, first, second)
    pods_cost = _warehouse(
        tmp_path,
        "SELECT resource_id, sum(effective_cost) FROM cost_lines "
        f"WHERE resource_id IN ('{FRAUD}', '{RANKER}', '{TASK}') GROUP BY ALL ORDER BY ALL",
    )
    assert pods_cost == _cur(POD_COSTS, first, second)
    # Loading it again (a re-delivery) replaces the month, never adds to it.
    pipeline.ingest(_ctx(tmp_path), "aws_cur", str(tmp_path / "exports"))
    assert _warehouse(tmp_path, WAREHOUSE_TOTALS) == _cur(CUR_TOTALS, first, second)
    # One part alone cannot be split (its pods' instances are in the other part).
    with pytest.raises(RoiError, match=r"ml-cur-00001\.snappy\.parquet: a part of a delivery"):
        pipeline.ingest(_ctx(tmp_path / "alone"), "aws_cur", str(first))


def test_legacy_cur_split_columns_and_tag_columns(tmp_path: Path) -> None:
    cur = write_legacy(tmp_path / "cur-legacy.csv", ROWS)
    result = pipeline.ingest(_ctx(tmp_path), "aws_cur", str(cur))
    assert result.rows_rejected == 0
    parquet = write_cur2(tmp_path / "same.parquet", ROWS)
    assert _warehouse(tmp_path, WAREHOUSE_TOTALS) == _cur(CUR_TOTALS, parquet)
    rows = _warehouse(
        tmp_path,
        "SELECT resource_id, sum(effective_cost), any_value(tags['aws:eks:namespace']), "
        "any_value(tags['ml-model']) FROM cost_lines "
        f"WHERE resource_id IN ('{FRAUD}', '{RANKER}') GROUP BY 1 ORDER BY 1",
    )
    costs = _by_resource(_cur(POD_COSTS, parquet))
    assert rows == [(FRAUD, costs[FRAUD], "ml", "fraud"), (RANKER, costs[RANKER], "ml", "ranker")]


def test_a_bad_split_cost_names_the_file_row_and_column(tmp_path: Path) -> None:
    cur = write_legacy(tmp_path / "cur-legacy.csv", ROWS)
    text = cur.read_text()
    cur.write_text(text.replace(",2.10,0.20,", ",2.10,lots,", 1))
    with pytest.raises(RoiError, match=r"cur-legacy\.csv row 4 field splitLineItem/UnusedCost"):
        pipeline.ingest(_ctx(tmp_path), "aws_cur", str(cur))
    assert not (tmp_path / "w.duckdb").exists()


def test_json_tags_of_a_cur2_csv(tmp_path: Path) -> None:
    """CUR 2.0 as gzip-less CSV writes its tag map as JSON text."""
    cur = tmp_path / "part-00001.csv"
    with cur.open("w", newline="") as handle:
        out = csv.writer(handle)
        out.writerow([*COLUMNS, "resource_tags"])
        for row in ROWS:
            out.writerow(
                [_value(row, c) or "" for c in COLUMNS]
                + [json.dumps(row.get("resource_tags") or {})]
            )
    pipeline.ingest(_ctx(tmp_path), "aws_cur", str(cur))
    parquet = write_cur2(tmp_path / "same.parquet", ROWS)
    assert _warehouse(tmp_path, WAREHOUSE_TOTALS) == _cur(CUR_TOTALS, parquet)
    [(namespace, model)] = _warehouse(
        tmp_path,
        "SELECT DISTINCT tags['aws:eks:namespace'], tags['ml-model'] FROM cost_lines "
        f"WHERE resource_id = '{RANKER}'",
    )
    assert (namespace, model) == ("ml", "ranker")
