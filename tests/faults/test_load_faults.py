"""Crashes and concurrent access during a load leave the warehouse exactly as it was."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from roi import pipeline
from roi.config import load_project
from roi.context import Context
from roi.loading import loader
from tests.helpers import ATTRIBUTION_TABLES, roi_cli, snapshot

pytestmark = pytest.mark.faults

CHANGED_MONTH = "BILLING_PERIOD=2026-10"


def _redeliver_last_month(project_dir: Path) -> Path:
    """Simulate AWS re-issuing 2026-10: a newer delivery folder with the same files."""
    month = project_dir / "sample_data/billing/aws/focus-export/data" / CHANGED_MONTH
    old = next(p for p in month.iterdir() if p.is_dir())
    new = month / "20261120T101010Z"
    shutil.copytree(old, new)
    return new


def _load_script(project_dir: Path, hook: str, names: list[str] | None = None) -> str:
    return textwrap.dedent(
        f"""
        import os, signal, sys, time
        from pathlib import Path
        from roi import pipeline
        from roi.config import load_project
        from roi.loading import loader
        from roi.context import Context

        def hook():
            {hook}

        loader.before_commit_hooks.append(hook)
        config = load_project(Path({str(project_dir)!r}))
        pipeline.load(Context(config), names={names!r})
        """
    )


@pytest.mark.slow
def test_exception_between_merge_and_commit_changes_nothing(project_dir: Path) -> None:
    config = load_project(project_dir)
    pipeline.load(Context(config))
    before = snapshot(config.warehouse_path)
    _redeliver_last_month(project_dir)
    (project_dir / "sample_data/kpis/business_kpis.csv").open("a").write(
        "card_transactions,2026-11-01,2026-12-01,,all,1,count\n"
    )

    def fail() -> None:
        raise RuntimeError("injected fault before COMMIT")

    loader.before_commit_hooks.append(fail)
    try:
        with pytest.raises(RuntimeError, match="injected fault"):
            pipeline.load(Context(config))
    finally:
        loader.before_commit_hooks.remove(fail)
    assert snapshot(config.warehouse_path) == before

    results = pipeline.load(Context(config))
    changed = {r.connector for r in results if r.changed}
    assert changed == {"aws_focus", "business_kpis"}
    after = snapshot(config.warehouse_path)
    assert after["cost_lines"][0] == before["cost_lines"][0]  # the month was replaced, not added
    assert after["kpi_values"][0] == before["kpi_values"][0] + 1


@pytest.mark.slow
def test_kill_9_between_merge_and_commit_changes_nothing(project_dir: Path) -> None:
    config = load_project(project_dir)
    pipeline.load(Context(config), names=["business_kpis", "aws_focus"])
    before = snapshot(config.warehouse_path)
    new = _redeliver_last_month(project_dir)
    script = _load_script(project_dir, "os.kill(os.getpid(), signal.SIGKILL)", ["aws_focus"])
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr

    assert snapshot(config.warehouse_path) == before
    billing = project_dir / "roi.duckdb.data/cost_lines"
    listed = {
        Path(f).parent.name
        for f in pipeline.query(
            Context.for_warehouse(config.warehouse_path), "SELECT file FROM _cost_files"
        )["file"]
    }
    orphans = [p for p in billing.iterdir() if p.name not in listed]
    assert orphans and list(orphans[0].glob("*.parquet")), "the killed load had written files"
    results = pipeline.load(Context(config), names=["aws_focus"])
    assert not any(p.exists() for p in orphans)  # the next load cleared the leftovers
    assert [r.rows_replaced > 0 for r in results] == [True]
    deliveries = pipeline.query(
        Context.for_warehouse(config.warehouse_path),
        "SELECT DISTINCT delivery FROM cost_lines "
        "WHERE provider = 'AWS' AND billing_period_start = '2026-10-01'",
    )["delivery"].to_list()
    assert deliveries == [new.name]


@pytest.mark.slow
def test_readers_wait_and_a_second_writer_is_busy_during_the_final_transaction(
    project_dir: Path,
) -> None:
    ready = project_dir / "ready"
    release = project_dir / "release"
    hook = (
        f"Path({str(ready)!r}).write_text(str(os.getpid()))\n"
        f"            deadline = time.time() + 60\n"
        f"            while not Path({str(release)!r}).exists() and time.time() < deadline:\n"
        f"                time.sleep(0.05)"
    )
    script = _load_script(project_dir, hook, ["ab_tests"])
    holder = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    waiting: list[subprocess.Popen[str]] = []
    try:
        deadline = time.time() + 120
        while not ready.exists() and time.time() < deadline and holder.poll() is None:
            time.sleep(0.05)
        assert ready.exists(), holder.communicate()[1]
        pid = ready.read_text()
        warehouse_file = project_dir / "roi.duckdb"
        # A reader that will not wait is told who holds the file.
        result = roi_cli("status", "--wait", "0", "--project", str(project_dir))
        assert result.returncode == 1
        assert result.stderr == (
            f"Error: warehouse {warehouse_file} is busy (held by PID {pid}); retry when the "
            "running roi command ends, or pass --wait SECONDS to wait for it\n"
        )
        # A second writer is refused at once, before it reads anything.
        result = roi_cli("load", "ab_tests", "--project", str(project_dir))
        assert result.returncode == 1
        assert result.stderr == (
            f"Error: warehouse {warehouse_file} is busy: another roi command (PID {pid}) is "
            "writing to it; retry when it ends, or pass --wait SECONDS to wait for it\n"
        )
        # A reader (default wait) and a writer asked to wait both finish after the commit.
        for args in (
            ["query", "SELECT count(*) AS n FROM kpi_values", "--format", "json"],
            ["load", "ab_tests", "--wait", "120", "--format", "json"],
        ):
            waiting.append(
                subprocess.Popen(
                    [sys.executable, "-m", "roi", *args, "--project", str(project_dir)],
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                )
            )
        time.sleep(2)
        assert all(p.poll() is None for p in waiting)  # still waiting, not failed
    finally:
        release.write_text("go")
        _, err = holder.communicate(timeout=300)
    assert holder.returncode == 0, err
    (query_out, query_err), (load_out, load_err) = (p.communicate(timeout=120) for p in waiting)
    assert waiting[0].returncode == 0, query_err
    assert json.loads(query_out)[0]["n"] > 0  # it saw the committed rows
    assert waiting[1].returncode == 0, load_err
    assert json.loads(load_out)[0]["rows_loaded"] == 0  # nothing is loaded twice
    assert roi_cli("status", "--project", str(project_dir)).returncode == 0


@pytest.mark.slow
def test_interrupted_first_load_leaves_an_empty_warehouse(project_dir: Path) -> None:
    script = _load_script(project_dir, "os.kill(os.getpid(), signal.SIGKILL)")
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == -signal.SIGKILL
    counts = snapshot(project_dir / "roi.duckdb")
    assert all(count == 0 for count, _ in counts.values()), counts
    config = load_project(project_dir)
    assert all(r.changed for r in pipeline.load(Context(config)))


@pytest.mark.slow
def test_kill_9_between_attribution_and_value_leaves_both_as_they_were(
    project_dir: Path,
) -> None:
    """Audit: a kill after allocated_costs was written left model_roi from the old attribution."""
    config = load_project(project_dir)
    pipeline.load(Context(config))
    pipeline.attribute(Context(config))
    before = snapshot(config.warehouse_path, ATTRIBUTION_TABLES)
    # A model's definition is deleted: its cost moves to unallocated and it leaves the P&L.
    (project_dir / "models/claims-summarizer.toml").unlink()
    script = textwrap.dedent(
        f"""
        import os, signal
        from pathlib import Path
        from roi import pipeline
        from roi.config import load_project
        from roi.context import Context

        pipeline.between_tables_hooks.append(lambda: os.kill(os.getpid(), signal.SIGKILL))
        pipeline.attribute(Context(load_project(Path({str(project_dir)!r}))))
        """
    )
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    assert snapshot(config.warehouse_path, ATTRIBUTION_TABLES) == before
    # Run to the end, both change together: the P&L is computed from the new attribution.
    pipeline.attribute(Context(load_project(project_dir)))
    priced = pipeline.query(
        Context.for_warehouse(config.warehouse_path),
        "SELECT count(*) FROM model_roi WHERE model_id = 'claims-summarizer'",
    ).item()
    allocated = pipeline.query(
        Context.for_warehouse(config.warehouse_path),
        "SELECT count(*) FROM allocated_costs WHERE model_id = 'claims-summarizer'",
    ).item()
    assert (priced, allocated) == (0, 0)


def test_a_billing_file_write_that_fails_in_its_writer_thread_fails_the_load(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Billing files are written in threads while the next batch is read: a writer's error (a
    full disk, injected on the third of six files) still fails the load, before its
    transaction, and no file or row is left behind."""
    import pyarrow.parquet as pq

    from roi import warehouse
    from roi.warehouse.cost_store import data_dir

    rows = [
        f"9,AWS,2026-{m:02d}-01T00:00:00Z,2026-{m + 1:02d}-01T00:00:00Z,2026-{m:02d}-02T00:00:00Z,"
        f"2026-{m:02d}-03T00:00:00Z,Usage,1.5,1.5,USD,"
        for m in range(1, 7)
    ]
    header = (
        "BillingAccountId,ProviderName,BillingPeriodStart,BillingPeriodEnd,ChargePeriodStart,"
        "ChargePeriodEnd,ChargeCategory,BilledCost,EffectiveCost,BillingCurrency,Tags\n"
    )
    folder = tmp_path / "export"
    folder.mkdir()
    for n in range(2):
        (folder / f"part-{n}.csv").write_text(header + "\n".join(rows[n * 3 : n * 3 + 3]) + "\n")
    written: list[str] = []
    real_write = pq.write_table

    def write_table(table: object, where: object, **options: object) -> None:
        written.append(str(where))
        if len(written) == 3:
            raise OSError(28, "No space left on device", str(where))
        real_write(table, where, **options)

    monkeypatch.setattr(pq, "write_table", write_table)  # what billing_files writes with
    path = tmp_path / "w.duckdb"
    with pytest.raises(OSError, match="No space left"):
        pipeline.ingest(Context.for_warehouse(path, tmp_path), "focus", str(folder))
    assert len(written) >= 3
    assert not path.exists() or not list(data_dir(path).rglob("*.parquet"))
    monkeypatch.setattr(pq, "write_table", real_write)
    pipeline.ingest(Context.for_warehouse(path, tmp_path), "focus", str(folder))
    with warehouse.open_warehouse(path, read_only=True) as con:
        assert warehouse.fetch_one(con, "SELECT count(*), sum(billed_cost) FROM cost_lines") == (
            6,
            pytest.approx(9.0),
        )
