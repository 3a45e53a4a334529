"""One spelling of the split cost allocation labels, whichever CUR wrote them: CUR 2.0's
`resource_tags` map (`aws_eks_namespace`, `aws_ecs_cluster_name`, in Parquet or as JSON text in
a CSV), a legacy CUR's `resourceTags/aws:eks:namespace` columns and a legacy CUR in Parquet's
`resource_tags_aws_eks_namespace` columns all load as AWS's own names (`aws:eks:namespace`,
`aws:ecs:clusterName`, lower-cased as roi keeps tag keys), so one selector matches them all.
The fixture is `test_cur_split`'s: the same pods, tasks and instances in every spelling."""

from __future__ import annotations

import csv
import json
from decimal import Decimal
from pathlib import Path

import pytest

from roi import pipeline
from roi.config import load_project
from roi.context import Context
from tests.connectors.test_cur_split import (
    AWS_TAG_NAMES,
    COLUMNS,
    FRAUD,
    FRAUD_TAGS,
    POD_COSTS,
    ROWS,
    TASK,
    _by_resource,
    _cur,
    _value,
    write_cur2,
    write_legacy,
)


def _write_csv(path: Path, tag_header: list[str], tags: list[list[str]]) -> Path:
    with path.open("w", newline="") as handle:
        out = csv.writer(handle)
        out.writerow([*COLUMNS, *tag_header])
        for row, row_tags in zip(ROWS, tags, strict=True):
            out.writerow([_value(row, c) or "" for c in COLUMNS] + row_tags)
    return path


def _row_tags(row: dict[str, object]) -> dict[str, str]:
    tags = row.get("resource_tags") or {}
    assert isinstance(tags, dict)
    return {str(k): str(v) for k, v in tags.items()}


def write_cur2_csv(path: Path) -> Path:
    """`ROWS` as a CUR 2.0 CSV: the tag map as JSON text."""
    return _write_csv(path, ["resource_tags"], [[json.dumps(_row_tags(r))] for r in ROWS])


def write_flat_parquet_names(path: Path) -> Path:
    """`ROWS` with a legacy CUR in Parquet's names for tags (one `resource_tags_<key>` column
    per key, the key as CUR 2.0 spells it), as a CSV."""
    keys = sorted({k for r in ROWS for k in _row_tags(r)})
    values = [[_row_tags(r).get(k, "") for k in keys] for r in ROWS]
    return _write_csv(path, [f"resource_tags_{k}" for k in keys], values)


SPELLINGS = {
    "cur2.parquet": lambda p: write_cur2(p, ROWS),
    "cur2.csv": write_cur2_csv,
    "legacy.csv": lambda p: write_legacy(p, ROWS),
    "legacy_parquet_names.csv": write_flat_parquet_names,
}


def _tags(root: Path) -> list[tuple[str, str]]:
    """Every line's resource and tags (as sorted JSON) in the warehouse, in order (Parquet
    numbers its rows from 1, a CSV from its header's 1, so rows are not compared by number)."""
    rows = pipeline.query(
        Context.for_warehouse(root / "w.duckdb"),
        "SELECT coalesce(resource_id, ''), to_json(tags)::VARCHAR FROM cost_lines",
    ).rows()
    return sorted((str(r[0]), json.dumps(json.loads(str(r[1])), sort_keys=True)) for r in rows)


def test_every_cur_spelling_stores_awss_names_for_the_split_labels(tmp_path: Path) -> None:
    found = {}
    for name, write in SPELLINGS.items():
        root = tmp_path / name
        root.mkdir()
        result = pipeline.ingest(
            Context.for_warehouse(root / "w.duckdb", root), "aws_cur", str(write(root / name))
        )
        assert result.rows_rejected == 0, name
        found[name] = _tags(root)
    assert all(tags == found["legacy.csv"] for tags in found.values())
    by_resource = dict(found["cur2.parquet"])
    # The pod's labels over its instance's tags; AWS's names, lower-cased as roi keeps keys.
    labels = {AWS_TAG_NAMES[k].lower(): v for k, v in FRAUD_TAGS.items() if k.startswith("aws_")}
    assert json.loads(by_resource[FRAUD]) == labels | {"ml-model": "fraud", "team": "platform"}
    assert labels["aws:eks:workload-name"] == "fraud-model"
    assert json.loads(by_resource[TASK]) == {
        "aws:ecs:clustername": "batch",
        "aws:ecs:servicename": "etl",
        "aws:batch:job-definition": "etl-job:3",
        "app": "etl",
        "team": "platform",
    }


MODELS = {
    # A pod's workload, by the label's name as AWS documents it.
    "fraud": '{ "aws:eks:workload-name" = ["fraud-model"] }',
    # An ECS cluster, written as Cost Explorer shows the tag (roi matches keys in any case).
    "etl": '{ "aws:ecs:clusterName" = ["batch"] }',
}


def _project(root: Path, cur: Path) -> Context:
    (root / "models").mkdir(parents=True)
    (root / "connectors").mkdir()
    (root / "roi.toml").write_text('[project]\nname = "scad"\ncurrency = "USD"\n')
    for model, tags in MODELS.items():
        (root / "models" / f"{model}.toml").write_text(
            f'model_id = "{model}"\nname = "{model}"\nowner = "o"\nbusiness_unit = "u"\n'
            f'stage = "production"\n\n[selectors]\ntags = {tags}\n'
        )
    (root / "connectors/cur.toml").write_text(f'type = "aws_cur"\npath = "{cur.name}"\n')
    return Context(load_project(root))


@pytest.mark.parametrize("spelling", ["cur2.parquet", "legacy.csv"])
def test_one_selector_matches_the_pods_of_either_report(tmp_path: Path, spelling: str) -> None:
    root = tmp_path / "project"
    root.mkdir()
    cur = SPELLINGS[spelling](root / spelling)
    ctx = _project(root, cur)
    pipeline.load(ctx)
    pipeline.attribute(ctx)
    attributed = dict(
        pipeline.query(ctx, "SELECT model_id, sum(amount) FROM allocated_costs GROUP BY 1").rows()
    )
    pods = _by_resource(_cur(POD_COSTS, write_cur2(tmp_path / "same.parquet", ROWS)))
    assert attributed["fraud"] == pods[FRAUD] == Decimal("5.40")
    assert attributed["etl"] == pods[TASK] == Decimal("0.192")
