"""Billing data read twice, by any route, never counts twice; part files of a delivery add up.

Each scenario here gave exit 0 and wrong money before deliveries were identified by the data
and the export's name instead of the path: a part replaced its sibling, a copy doubled a month.
"""

from __future__ import annotations

import gzip
import shutil
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

from roi import pipeline
from roi.config import ProjectConfig
from roi.context import Context
from roi.errors import ValidationFailed
from roi.loading.loader import LoadResult
from tests.conftest import REPO
from tests.helpers import of_type

AWS = REPO / "sample_data/billing/aws/focus-export"
SEPTEMBER = AWS / "data/BILLING_PERIOD=2026-09/20261002T041209Z"


def _file_total(*files: Path) -> tuple[int, Decimal]:
    """Lines and Σ EffectiveCost of FOCUS CSV files, read independently of roi."""
    frames = [pl.read_csv(f, infer_schema=False) for f in files]
    total = sum(
        (of_type(f["EffectiveCost"].cast(pl.Decimal(38, 10)).sum(), Decimal) for f in frames),
        Decimal(0),
    )
    return sum(f.height for f in frames), total


def _totals(warehouse_file: Path) -> list[tuple[str, int, Decimal]]:
    """(month, lines, Σ effective cost) of the warehouse's cost lines."""
    frame = pipeline.query(
        Context.for_warehouse(warehouse_file),
        "SELECT billing_period_start::DATE::VARCHAR, count(*), sum(effective_cost) "
        "FROM cost_lines GROUP BY 1 ORDER BY 1",
    )
    return [
        (of_type(month, str), of_type(lines, int), of_type(total, Decimal))
        for month, lines, total in frame.rows()
    ]


def _ingest(tmp_path: Path, path: Path, **options: str) -> LoadResult:
    return pipeline.ingest(
        Context.for_warehouse(tmp_path / "w.duckdb", tmp_path), "focus", str(path), options=options
    )


def test_part_files_loaded_one_at_a_time_add_up(tmp_path: Path) -> None:
    parts = sorted(SEPTEMBER.iterdir())
    assert len(parts) == 2
    _ingest(tmp_path, parts[0])
    second = _ingest(tmp_path, parts[1])
    assert second.rows_replaced == 0
    lines, total = _file_total(*parts)
    assert _totals(tmp_path / "w.duckdb") == [("2026-09-01", lines, total)]
    # Loading the whole delivery afterwards replaces both parts with themselves.
    _ingest(tmp_path, SEPTEMBER)
    assert _totals(tmp_path / "w.duckdb") == [("2026-09-01", lines, total)]
    # And a part loaded again replaces only itself.
    _ingest(tmp_path, parts[0], export="focus-export")
    assert _totals(tmp_path / "w.duckdb") == [("2026-09-01", lines, total)]


def test_a_delivery_read_whole_drops_parts_the_provider_removed(tmp_path: Path) -> None:
    # AWS "overwrite" exports rewrite the files of a period in place: a refresh with fewer
    # parts must not leave the old third part behind.
    folder = tmp_path / "exports/focus-export/data/BILLING_PERIOD=2026-09"
    folder.mkdir(parents=True)
    for part in sorted(SEPTEMBER.iterdir()):
        shutil.copy2(part, folder / part.name)
    shutil.copy2(sorted(SEPTEMBER.iterdir())[0], folder / "focus-export-00003.csv.gz")
    _ingest(tmp_path, folder)
    (folder / "focus-export-00003.csv.gz").unlink()
    _ingest(tmp_path, folder)
    lines, total = _file_total(*SEPTEMBER.iterdir())
    assert _totals(tmp_path / "w.duckdb") == [("2026-09-01", lines, total)]


@pytest.mark.slow
def test_copies_of_the_aws_export_in_two_folders_give_the_totals_of_one(
    project: ProjectConfig, tmp_path: Path
) -> None:
    pipeline.load(Context(project), names=["aws_focus"])
    once = _totals(project.warehouse_path)
    # The same bucket synced to two other places, loaded with `roi ingest`.
    for mount in ("mnt/a", "mnt/b"):
        copy = tmp_path / mount / "focus-export"
        shutil.copytree(AWS, copy)
        pipeline.ingest(
            Context.for_warehouse(project.warehouse_path, project.root), "focus", str(copy / "data")
        )
    assert _totals(project.warehouse_path) == once
    # Independent check: the newest delivery of each month, summed from the files.
    expected = []
    for month in sorted((AWS / "data").iterdir()):
        newest = sorted(month.iterdir())[-1]
        lines, total = _file_total(*newest.iterdir())
        expected.append((month.name.split("=")[1] + "-01", lines, total))
    assert once == expected


@pytest.mark.slow
def test_a_renamed_copy_is_recognised_by_its_lines(project: ProjectConfig, tmp_path: Path) -> None:
    pipeline.load(Context(project), names=["aws_focus"])
    once = _totals(project.warehouse_path)
    renamed = tmp_path / "old-bucket" / "billing-backup"  # not the export's name any more
    shutil.copytree(AWS / "data", renamed)
    result = pipeline.ingest(
        Context.for_warehouse(project.warehouse_path, project.root), "focus", str(renamed)
    )
    assert result.rows_loaded == 0
    assert any("already loaded from export 'focus-export'" in k for k in result.stale_partitions)
    assert _totals(project.warehouse_path) == once


def _reissue(delivery: Path, target: Path) -> None:
    """A re-issued delivery: the same lines, one of them corrected."""
    target.mkdir(parents=True)
    for part in sorted(delivery.iterdir()):
        text = gzip.decompress(part.read_bytes()).decode()
        if part.name.endswith("00001.csv.gz"):
            header, first, *rest = text.split("\n")
            columns = header.split(",")
            cells = first.split(",")
            index = columns.index("EffectiveCost")
            cells[index] = str(Decimal(cells[index]) + Decimal("100"))
            text = "\n".join([header, ",".join(cells), *rest])
        (target / part.name).write_bytes(gzip.compress(text.encode()))


@pytest.mark.slow
def test_a_different_copy_of_the_same_charges_is_refused(
    project: ProjectConfig, tmp_path: Path
) -> None:
    pipeline.load(Context(project), names=["aws_focus"])
    before = _totals(project.warehouse_path)
    # Another route to the same account's September, with one line corrected: neither holds all
    # of the other's lines, so it is not the same data, yet it bills the same resources.
    other = tmp_path / "finance-share/BILLING_PERIOD=2026-09/20261015T000000Z"
    _reissue(SEPTEMBER, other)
    with pytest.raises(ValidationFailed) as err:
        pipeline.ingest(
            Context.for_warehouse(project.warehouse_path, project.root), "focus", str(other)
        )
    message = str(err.value)
    assert "finance-share/BILLING_PERIOD=2026-09/20261015T000000Z/focus-export-0000" in message
    assert "sample_data/billing/aws/focus-export/data/BILLING_PERIOD=2026-09" in message
    assert "--option export=<name>" in message
    assert _totals(project.warehouse_path) == before
    # Declared as the same export, the later delivery replaces the month.
    pipeline.ingest(
        Context.for_warehouse(project.warehouse_path, project.root),
        "focus",
        str(other),
        options={"export": "focus-export"},
    )
    after = dict((m, (n, t)) for m, n, t in _totals(project.warehouse_path))
    lines, total = _file_total(*other.iterdir())
    assert after["2026-09-01"] == (lines, total)
    assert total == dict((m, t) for m, _, t in before)["2026-09-01"] + 100


def test_exports_with_different_resources_of_one_account_both_count(tmp_path: Path) -> None:
    header = (
        "BillingAccountId,SubAccountId,ResourceId,ProviderName,BillingPeriodStart,"
        "BillingPeriodEnd,ChargePeriodStart,ChargePeriodEnd,ChargeCategory,BilledCost,"
        "EffectiveCost,BillingCurrency\n"
    )

    def line(resource: str, amount: str) -> str:
        return (
            f"EA1,sub-1,{resource},Microsoft,2025-06-01T00:00:00Z,2025-07-01T00:00:00Z,"
            f"2025-06-03T00:00:00Z,2025-06-04T00:00:00Z,Usage,{amount},{amount},USD\n"
        )

    # Two resource-group exports of one subscription: the same sub-account, other resources.
    for group, resource in (("rg-a", "/rg-a/vm1"), ("rg-b", "/rg-b/vm2")):
        path = tmp_path / group / "20250601-20250630/run-1/part.csv"
        path.parent.mkdir(parents=True)
        path.write_text(header + line(resource, "10.00"))
    _ingest(tmp_path, tmp_path / "rg-a")
    _ingest(tmp_path, tmp_path / "rg-b")
    assert _totals(tmp_path / "w.duckdb") == [("2025-06-01", 2, Decimal("20.0000000000"))]
    status = pipeline.status(Context.for_warehouse(tmp_path / "w.duckdb"))
    assert [w for w in status.warnings if "2 exports" in w] == [
        "Microsoft account EA1 billing period 2025-06 has 2 exports (rg-a: 1 line(s), "
        "rg-b: 1 line(s)); both count: check that they bill different charges"
    ]


FOCUS_HEADER = (
    "BillingAccountId,SubAccountId,ResourceId,ProviderName,BillingPeriodStart,"
    "BillingPeriodEnd,ChargePeriodStart,ChargePeriodEnd,ChargeCategory,BilledCost,"
    "EffectiveCost,BillingCurrency\n"
)


def _lines(sub: str, amount: str, period_start: str = "2026-10-01T00:00:00Z", n: int = 10) -> str:
    return "".join(
        f"EA1,{sub},/{sub}/vm{i},Microsoft,{period_start},2026-11-01T00:00:00Z,"
        f"2026-10-{1 + i:02}T00:00:00Z,2026-10-{2 + i:02}T00:00:00Z,Usage,{amount},{amount},USD\n"
        for i in range(n)
    )


def test_a_declared_export_over_two_subscription_exports_loses_nothing(tmp_path: Path) -> None:
    """Audit: `export = "azure-cost"` over two subscriptions' exports kept 100.00 of 1,100.00."""
    root = tmp_path / "azure"
    for sub, run, amount in (("sub-a", "run-1", "100.00"), ("sub-b", "run-2", "10.00")):
        path = root / f"{sub}-export/20261001-20261031/{run}/part0.csv"
        path.parent.mkdir(parents=True)
        path.write_text(FOCUS_HEADER + _lines(sub, amount))
    with pytest.raises(ValidationFailed) as err:
        _ingest(tmp_path, root, export="azure-cost")
    message = str(err.value)
    assert (
        "sub-b-export/20261001-20261031/run-2/part0.csv (delivery 'run-2') would replace" in message
    )
    assert "sub-a-export/20261001-20261031/run-1/part0.csv (delivery 'run-1')" in message
    assert "share no charge" in message and "\n" not in message
    assert not (tmp_path / "w.duckdb").exists()  # nothing half-loaded
    # Named by their folders (no option), both count: 10 × 100.00 + 10 × 10.00.
    _ingest(tmp_path, root)
    assert _totals(tmp_path / "w.duckdb") == [("2026-10-01", 20, Decimal("1100.0000000000"))]


def test_a_reissue_that_writes_the_period_in_another_utc_notation_replaces_it(
    tmp_path: Path,
) -> None:
    """Audit: the same instant written `+02:00` and `Z` filed the re-issue as September."""
    export = tmp_path / "exports/azure-cost"
    first = export / "20261001-20261031/20261102T000000Z/part0.csv"
    reissue = export / "20261001-20261031/20261115T000000Z/part0.csv"
    for path, start, amount in (
        (first, "2026-10-01T00:00:00+02:00", "10.00"),
        (reissue, "2026-09-30T22:00:00Z", "11.00"),
    ):
        path.parent.mkdir(parents=True)
        path.write_text(FOCUS_HEADER + _lines("sub-a", amount, start))
    _ingest(tmp_path, first.parent)
    _ingest(tmp_path, reissue.parent)
    assert _totals(tmp_path / "w.duckdb") == [("2026-10-01", 10, Decimal("110.0000000000"))]
