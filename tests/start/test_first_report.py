"""From an empty folder to a first report with the public FOCUS sample, in the four commands the
README's "Bring your own data" section shows, with the money reconciled to the cent."""

from __future__ import annotations

import csv
import re
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from tests.conftest import REPO, shared_file
from tests.helpers import roi_cli

CENT = Decimal("0.01")


def _readme_commands() -> list[list[str]]:
    """The fenced commands after <!-- byod --> in the README, comments dropped, `&&` split."""
    text = (REPO / "README.md").read_text()
    block = text.split("<!-- byod -->", 1)[1].split("```", 2)[1]
    lines = [line.split("#", 1)[0] for line in block.splitlines()[1:]]
    return [part.split() for line in lines for part in line.split("&&") if part.strip()]


def _source_totals(path: Path) -> dict[str, Decimal]:
    """Effective cost per billing month, summed from the CSV itself, not through roi."""
    totals: dict[str, Decimal] = defaultdict(Decimal)
    with path.open(newline="") as handle:
        for row in csv.DictReader(handle):
            totals[row["BillingPeriodStart"][:7]] += Decimal(row["EffectiveCost"] or "0")
    return dict(totals)


@pytest.mark.slow
def test_an_empty_folder_reaches_a_reconciled_report_in_four_commands(tmp_path: Path) -> None:
    focus = shared_file("focus/focus-1.0-sample/focus_sample.csv")
    commands = _readme_commands()
    assert [c[1] for c in commands if c[0] == "roi"] == ["init", "connect", "models", "run"]
    here = tmp_path
    for command in commands:
        if command[0] == "cd":
            here = here / command[1]
            continue
        args = command[1:]
        if args[0] == "connect":  # the README names the file as seen from a clone's folder
            args[1] = str(focus)
        done = roi_cli(*args, cwd=here)
        assert done.returncode == 0, f"roi {' '.join(args)}: {done.stderr}"
    project = here

    months = sorted(_source_totals(focus))
    latest = months[-1]
    out = project / "reports/out"
    for name in (
        f"monthly_finance_{latest}.html",
        f"monthly_finance_{latest}.pdf",
        f"executive_pack_{latest}.xlsx",
    ):
        assert (out / name).stat().st_size > 0, name

    con = duckdb.connect(str(project / "roi.duckdb"), read_only=True)
    placed = dict(
        con.execute(
            "SELECT strftime(month, '%Y-%m'), sum(amount) FROM allocated_costs GROUP BY 1"
        ).fetchall()
    )
    models = [p.stem for p in (project / "models").glob("*.toml")]
    direct = con.execute(
        "SELECT count(DISTINCT model_id) FROM allocated_costs WHERE basis = 'direct'"
    ).fetchone()
    con.close()
    for month, total in _source_totals(focus).items():
        assert Decimal(placed.get(month, 0)).quantize(CENT) == total.quantize(CENT), month
    assert models and direct == (len(models),)  # the suggested models hold cost

    reconciled = roi_cli("reconcile", "--format", "csv", cwd=project)
    assert reconciled.returncode == 0
    rows = list(csv.DictReader(reconciled.stdout.splitlines()))
    assert [r["month"][:7] for r in rows] == months
    assert all(Decimal(r["difference"]) == 0 for r in rows)


def test_the_readme_shows_the_first_report_commands() -> None:
    section = (REPO / "README.md").read_text().split("<!-- byod -->", 1)[1]
    assert re.search(
        r"roi connect \.\./shared/data/focus/focus-1\.0-sample/focus_sample\.csv", section
    )
