"""Sparse data never breaks a command: hypothesis draws subsets of the sample's input kinds, its
months and its models, and every CLI command and every report section must work on them.

Billing is always there (without it there is nothing to report); every other kind of input
(KPIs, A/B results, model metrics, GPU telemetry, LLM usage) may be missing, the history may be
one month long, and the project may define one model or none.
"""

from __future__ import annotations

import csv
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from roi.cli import cli
from roi.reporting.sections import every_section
from tests.conftest import REPO, copy_project

# The sample's connectors by the kind of input they bring (billing stays in every draw).
KINDS: dict[str, tuple[str, ...]] = {
    "kpis": ("business_kpis", "finance_unit_values"),
    "experiments": ("ab_tests",),
    "metrics": ("model_metrics",),
    "gpu": ("dcgm", "nvidia_smi"),
    "llm": ("litellm",),
}
MODELS = sorted(p.stem for p in (REPO / "models").glob("*.toml"))


@dataclass(frozen=True)
class Draw:
    """What one example keeps of the sample project."""

    kinds: frozenset[str]
    one_month: bool
    models: tuple[str, ...]


def draws(one_month: bool) -> st.SearchStrategy[Draw]:
    """Subsets of the sample's input kinds and models, with a history of one month or all."""
    return st.builds(
        Draw,
        kinds=st.frozensets(st.sampled_from(sorted(KINDS))),
        one_month=st.just(one_month),
        models=st.one_of(
            st.just(tuple(MODELS)),
            st.sampled_from(MODELS).map(lambda m: (m,)),
            st.just(()),
        ),
    )


def _make(root: Path, draw: Draw) -> None:
    """A copy of the sample project holding only what `draw` keeps."""
    copy_project(root)
    for kind, connectors in KINDS.items():
        if kind not in draw.kinds:
            for name in connectors:
                (root / "connectors" / f"{name}.toml").unlink()
    for model in MODELS:
        if model not in draw.models:
            (root / "models" / f"{model}.toml").unlink()
    if draw.one_month:  # keep each billing export's last month only
        aws = sorted((root / "sample_data/billing/aws/focus-export/data").iterdir())
        azure = sorted((root / "sample_data/billing/azure/focus-cost").iterdir())
        for folder in aws[:-1] + azure[:-1]:
            shutil.rmtree(folder)


def _commands(root: Path, month: str) -> list[list[str]]:
    """Every reading command of the CLI, with parameters that are valid on any project.

    Not `roi report`: `roi run` has just written the same reports (HTML, PDF, pack) through
    the same `pipeline.report`; rendering them again cost three seconds a project
    (tests/cli/test_reports.py runs the command itself)."""
    commands = [
        ["status"],
        ["portfolio"],
        ["reconcile"],
        ["export", "excel"],
        ["query", "SELECT count(*) FROM allocated_costs"],
    ]
    models = sorted(p.stem for p in (root / "models").glob("*.toml"))
    if not models:  # a scenario of no models is an error that says to define one
        return commands
    commands += [
        ["scenario", "failure", "--all", "--draws", "2000"],
        ["scenario", "forecast", "--months", "3"],
        ["scenario", "decay", "--all"],
        ["scenario", "whatif", "--set", "traffic=1.1"],
        ["explain", models[0], "--month", month],
    ]
    # The tornado varies a ROI: it needs a model with a value (without one it is an error).
    with duckdb.connect(str(root / "roi.duckdb"), read_only=True) as con:
        valued = con.execute(
            "SELECT min(model_id) FROM model_roi WHERE value IS NOT NULL AND strftime(month, '%Y-%m') = ?",
            [month],
        ).fetchone()
    if valued and valued[0]:
        commands.append(["scenario", "sensitivity", str(valued[0])])
    retrained = [m for m in models if "retraining_cost" in (root / f"models/{m}.toml").read_text()]
    commands += [["scenario", "retrain", m, "--draws", "500"] for m in retrained[:1]]
    return commands


def _invoke(root: Path, args: list[str]) -> str:
    result = CliRunner().invoke(cli, [*args, "--project", str(root), "--quiet"])
    assert result.exit_code == 0, f"roi {' '.join(args)}: {result.stderr}{result.exception!r}"
    return result.stdout


@pytest.mark.slow
@pytest.mark.parametrize("one_month", [False, True], ids=["all-months", "one-month"])
@settings(
    max_examples=3,
    deadline=None,
    derandomize=True,
    phases=[Phase.explicit, Phase.generate],  # each example runs a whole project: no shrinking
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_every_command_and_section_works_on_sparse_data(
    one_month: bool, data: st.DataObject
) -> None:
    # Two tests of three projects each, not one of six, so that two workers share them: the
    # same three draws of kinds and models (one seed), with one month and with every month.
    draw = data.draw(draws(one_month), label="draw")
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch) / "project"
        _make(root, draw)
        _invoke(root, ["run"])
        reconciled = list(
            csv.DictReader(_invoke(root, ["reconcile", "--format", "csv"]).splitlines())
        )
        assert reconciled and all(float(r["difference"]) == 0 for r in reconciled)
        months = sorted(r["month"][:7] for r in reconciled)
        assert len(months) == 1 or not draw.one_month
        for args in _commands(root, months[-1]):
            _invoke(root, args)
        [page] = (root / "reports/out").glob("monthly_finance_*.html")
        assert page.with_suffix(".pdf").read_bytes().startswith(b"%PDF")
        [pack] = (root / "reports/out").glob("executive_pack_*.xlsx")
        assert pack.stat().st_size > 0
        html = page.read_text()
        for section in every_section():
            assert section.title in html, section.name
