"""AWS split cost allocation data (EKS pods, ECS tasks on EC2) as FOCUS 1.3 split charges.

What AWS writes (Data Exports user guide, "Understanding split cost allocation data" and the
split line item columns; the CUDOS/CID SCAD dashboard's views read it the same way): with split
cost allocation data on, every pod (or task) adds, per hour, one usage row for its vCPU and one
for its memory (a third for its GPUs), `line_item_operation` `EKSPod-EC2` (`ECSTask-EC2`),
`line_item_usage_type` `…EKS-EC2-vCPU-Hours` / `…EKS-EC2-GB-Hours`, the pod's ARN
(`arn:aws:eks:<region>:<account>:pod/<cluster>/<namespace>/<pod>/<uid>`) as
`line_item_resource_id` and its labels (`aws:eks:namespace`, `aws:eks:workload-name`, …) as
resource tags. They carry no cost of their own (the cost is the EC2 instance's lines,
`RunInstances`, which the bill counts); `split_line_item_split_cost` is the pod's share of the
instance's amortised cost and `split_line_item_unused_cost` its share of the instance's unused
capacity, and over the pods of one instance-hour the two add up to the instance's cost
(`split_line_item_parent_resource_id` names the instance). Pods on Fargate have no parent: their
rows are the billed ones and are read as any other line.

Here each instance line of an hour with pods becomes one row per pod: the line's dimensions
(service, SKU, pricing, commitment, instance type and GPUs), the pod's ARN as its resource and
the instance's tags with the pod's over them (FOCUS's AllocatedResourceId and AllocatedTags,
as roi reads FOCUS 1.3 split charges), and the line's billed, effective and list cost and
quantities divided by the pod's share (`split_cost + unused_cost` over the hour's total) so
that the rows of each line add up to it exactly, and each pod's rows of an hour to its share
(`_exact_per_pod`). The pod rows themselves leave (their own cost columns are not counted, as
the CID views leave `EKSPod-EC2` / `ECSTask-EC2` rows out of an account's totals); nothing else
moves, so the month's totals are the CUR's own. A pod whose instance the delivery does not hold
keeps its own row; one whose instance line was rejected (`on_reject = "skip"`) leaves with it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import polars as pl

from roi.loading.parsing import map_distinct
from roi.loading.shares import money_units, split_lines, units_money
from roi.loading.tags import CLASHING_TAGS, INVALID_TAGS, flat_map, flat_pairs, normalise_tags
from roi.vocabulary import SPLIT_TAG_KEYS

# The instance lines a pod's cost comes from (the SCAD dashboard's own filter): running usage
# of a compute instance, not its data transfer (also `RunInstances`, another product family).
INSTANCE_USAGE = ("Usage", "DiscountedUsage", "SavingsPlanCoveredUsage")
INSTANCE_OPERATION = "RunInstances"
INSTANCE_FAMILY = "Compute Instance"
# One instance-hour of one bill: what pods and the instance's lines are matched by.
KEY = ("billing_account_id", "billing_period_start", "charge_period_start", "_instance")
# The helper columns the CUR reader adds when the report has split cost allocation data.
HELPERS = ("_parent_id", "_split_weight", "_kind", "_operation", "_family")
AMOUNTS = ("billed_cost", "effective_cost", "list_cost", "contracted_cost")
QUANTITIES = ("consumed_quantity", "pricing_quantity")


def tag_key(key: str) -> str:
    """A CUR 2.0 (or legacy Parquet) tag key as roi stores it: a user tag without its `user_`
    prefix, a split cost allocation label as AWS names it (`aws_eks_namespace` →
    `aws:eks:namespace`: `SPLIT_TAG_KEYS`), any other key as written."""
    if key.startswith("user_"):
        return key.removeprefix("user_")
    return SPLIT_TAG_KEYS.get(key, key)


def tag_key_expr(key: pl.Expr) -> pl.Expr:
    """`tag_key` on a column of keys."""
    return (
        pl.when(key.str.starts_with("user_"))
        .then(key.str.strip_prefix("user_"))
        .otherwise(key.replace(SPLIT_TAG_KEYS))
    )


def instance_line(kind: pl.Expr, operation: pl.Expr, family: pl.Expr) -> pl.Expr:
    """Whether a line is an EC2 instance's running usage (what pods' cost is split from); a
    report without the operation or product family column is not asked for it."""
    launched = operation.is_null() | operation.str.starts_with(INSTANCE_OPERATION)
    compute = family.is_null() | (family == INSTANCE_FAMILY)
    return (kind.is_in(INSTANCE_USAGE) & launched & compute).fill_null(False)


def _tags_text(frame: pl.DataFrame, column: str) -> pl.DataFrame:
    """A tag column as JSON text as written (a Parquet map's entries, duplicates kept, so a
    key written twice is still rejected when the tags are read)."""
    if frame.schema[column] in (pl.String, pl.Null):
        return frame.with_columns(pl.col(column).cast(pl.String))
    flat = flat_map(column)

    def as_json(text: str | None) -> str | None:
        if text is None:
            return None
        return "{" + ",".join(f"{json.dumps(k)}:{json.dumps(v)}" for k, v in flat_pairs(text)) + "}"

    framed = map_distinct(frame.with_columns(flat.alias("_flat")), "_flat", "_json", as_json)
    return framed.with_columns(pl.col("_json").alias(column)).drop("_flat", "_json")


def hold(
    frame: pl.DataFrame, matched: pl.DataFrame, rejected: pl.DataFrame
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Split one file's lines into (the rest, the pods' rows and the instance lines to split).

    Pods and instance lines of a matched instance-hour wait for the whole delivery; a row with
    a reject stays with the rest (the loader drops or refuses it).
    """
    key = list(KEY)
    parent = pl.col("_parent_id")
    frame = frame.with_columns(
        _instance=pl.coalesce(parent, pl.col("resource_id")),
        _is_pod=parent.is_not_null(),
        _is_line=parent.is_null()
        & pl.col("resource_id").is_not_null()
        & instance_line(pl.col("_kind"), pl.col("_operation"), pl.col("_family")),
    )
    bad = rejected.select("source_row").unique().with_columns(_bad=pl.lit(True))
    frame = frame.join(
        matched.with_columns(_matched=pl.lit(True)), on=key, how="left", maintain_order="left"
    ).join(bad, on="source_row", how="left", maintain_order="left")
    held = (
        (pl.col("_is_pod") | pl.col("_is_line"))
        & pl.col("_matched").fill_null(False)
        & ~pl.col("_bad").fill_null(False)
    )
    frame = frame.with_columns(_held=held)
    extra = ["_is_pod", "_is_line", "_matched", "_bad", "_held"]
    rest = frame.filter(~pl.col("_held")).drop([*extra, "_instance"])
    # Held rows' tags as text: the rows of every part are put together, and merged.
    frame = _tags_text(frame.filter(pl.col("_held")), "tags_raw")
    pods = frame.filter(pl.col("_is_pod")).select(
        *key, "resource_id", "tags_raw", "_split_weight", "source_file", "source_row"
    )
    lines = frame.filter(pl.col("_is_line")).drop(extra)
    return rest, pods, lines


def merge_tags(line: str | None, pod: str | None) -> str | None:
    """The instance line's tags with the pod's over them (keys as roi normalises them). Tags
    that cannot be read come back as written, so the loader rejects them naming the row."""
    found = []
    for raw in (line, pod):
        text = normalise_tags(raw)
        if text in (INVALID_TAGS, CLASHING_TAGS):
            return raw
        found.append(json.loads(text) if text else {})
    merged = {**found[0], **found[1]}
    if not merged:
        return None
    return json.dumps(dict(sorted(merged.items())), ensure_ascii=False, separators=(",", ":"))


def _pods(pods: pl.DataFrame) -> pl.DataFrame:
    """One row per pod and instance-hour: its share of the hour, its rows and its tags."""
    key = list(KEY)
    per_pod = (
        pods.sort([*key, "resource_id", "source_file", "source_row"])
        .group_by([*key, "resource_id"], maintain_order=True)
        .agg(
            money_units(pl.col("_split_weight").sum()).alias("_weight"),
            pl.struct("source_file", "source_row").alias("_rows"),
            pl.col("tags_raw").drop_nulls().first().alias("_pod_tags"),
        )
        .rename({"resource_id": "_pod"})
    )
    # Pods of an hour whose split costs are all 0 share it equally.
    total = pl.col("_weight").sum().over(key)
    return per_pod.with_columns(
        _share=pl.when(total != 0).then(pl.col("_weight")).otherwise(pl.lit(1, pl.Int128))
    )


def _exact_per_pod(split: pl.DataFrame) -> pl.DataFrame:
    """Each pod's parts of an hour's instance lines adding up to its exact share of the hour.

    The parts of each line add up to it already (the last pod takes each line's remainder); an
    hour billed on several lines (part Savings Plan, part on demand) would leave each other pod
    a unit short per line. The difference goes onto the hour's last line, whose last pod gives
    it back, so both the lines' and the pods' sums are exact: a pod whose split and unused cost
    are AWS's share of the instance's effective cost gets exactly that.
    """
    key, pod = list(KEY), [*KEY, "_pod"]
    weights = (
        split.select(*pod, "_share")
        .unique(pod)
        .sort(pod)
        .with_columns(
            _cumw=pl.col("_share").cast(pl.Int128).cum_sum().over(key),
            _totw=pl.col("_share").cast(pl.Int128).sum().over(key),
        )
        .drop("_share")
    )
    split = split.join(weights, on=pod, how="left")
    last_line = pl.col("_j") == pl.col("_j").max().over(key)
    last_pod = pl.col("_pod") == pl.col("_pod").max().over(key)
    before = pl.col("_cumw") - pl.col("_share").cast(pl.Int128)
    for column in AMOUNTS:
        if column not in split.columns or split[column].null_count() == split.height:
            continue
        units = money_units(pl.col(column))
        total = units.sum().over(key)
        target = total * pl.col("_cumw") // pl.col("_totw") - total * before // pl.col("_totw")
        whole = ~pl.col(column).is_null().any().over(key)  # an hour with a line without it
        split = split.with_columns(
            _delta=pl.when(whole & ~last_pod & last_line)
            .then(target - units.sum().over(pod))
            .otherwise(pl.lit(0, pl.Int128))
        ).with_columns(
            pl.when(pl.col(column).is_null())
            .then(None)
            .otherwise(
                units_money(
                    units
                    + pl.col("_delta")
                    - pl.when(last_pod & last_line)
                    .then(pl.col("_delta").sum().over(key))
                    .otherwise(pl.lit(0, pl.Int128))
                )
            )
            .alias(column)
        )
    return split.drop([c for c in ("_cumw", "_totw", "_delta") if c in split.columns])


def allocate(lines: pl.DataFrame, pods: pl.DataFrame) -> Iterator[pl.DataFrame]:
    """The instance lines split to their pods (one frame per source file), and the lines no
    held pod matched, as they were."""
    key = list(KEY)
    columns = [c for c in lines.columns if c != "_instance"]
    if not lines.height:
        return
    per_pod = _pods(pods)
    lines = lines.sort([*key, "source_file", "source_row"]).with_columns(
        _j=pl.int_range(pl.len()).over(key),
        _line_file=pl.col("source_file"),
        _line_row=pl.col("source_row"),
    )
    alone = lines.join(per_pod.select(key).unique(), on=key, how="anti")
    if alone.height:
        yield from alone.select(columns).partition_by("source_file", maintain_order=True)
    split = lines.drop("source_file", "source_row").join(per_pod, on=key, how="inner")
    if not split.height:
        return
    split = split_lines(
        split, ["_line_file", "_line_row"], ["_pod"], "_share", AMOUNTS, QUANTITIES, exact=True
    )
    split = _exact_per_pod(split)
    # A pod's part of the hour's j-th instance line goes on the pod's j-th row (its last row
    # when the instance is billed on more lines than the pod has rows).
    slot = pl.min_horizontal(pl.col("_j"), pl.col("_rows").list.len() - 1)
    split = split.with_columns(_slot=slot).with_columns(
        _lineage=pl.col("_rows").list.get(pl.col("_slot"))
    )
    if split.select(pl.struct("_lineage").is_duplicated().any()).item():
        sums = [*AMOUNTS, *QUANTITIES]
        split = (
            split.sort("_j")
            .group_by("_lineage", maintain_order=True)
            .agg(
                *[pl.col(c).sum() for c in sums if c in split.columns],
                *[pl.col(c).first() for c in split.columns if c not in (*sums, "_lineage")],
            )
        )
    merged = split.select("tags_raw", "_pod_tags").unique()
    merged = merged.with_columns(
        pl.Series(
            "_tags",
            [merge_tags(a, b) for a, b in merged.iter_rows()],
            dtype=pl.String,
        )
    )
    split = split.join(merged, on=["tags_raw", "_pod_tags"], how="left", nulls_equal=True)
    out = split.with_columns(
        resource_id=pl.col("_pod"),
        tags_raw=pl.col("_tags"),
        source_file=pl.col("_lineage").struct.field("source_file"),
        source_row=pl.col("_lineage").struct.field("source_row"),
    ).select(columns)
    yield from out.sort("source_file", "source_row").partition_by(
        "source_file", maintain_order=True
    )
