"""Your own data: a blank project, `roi connect` recognising files by their columns, and models
proposed from the billing data's tags."""

from __future__ import annotations

import shutil
from decimal import Decimal
from pathlib import Path

import pytest

from roi import pipeline
from roi.config import load_project
from roi.context import Context
from roi.errors import SourceError
from roi.start.blank import write_blank
from roi.start.connect import connect
from roi.start.detect import detect
from roi.start.suggest import model_id_of, suggest, write_models
from tests.conftest import REPO, shared_file

SAMPLE = REPO / "sample_data"


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("billing/aws", "focus"),
        ("billing/azure", "focus"),
        ("llm", "litellm_spend_logs"),
        ("gpu/dcgm", "dcgm_prometheus"),
        ("gpu/nvidia-smi", "nvidia_smi"),
        ("kpis/business_kpis.csv", "kpi_csv"),
        ("kpis/finance_unit_values.xlsx", "kpi_excel"),
        ("experiments/ab_tests.csv", "ab_test_csv"),
        ("metrics/model_metrics.csv", "model_metrics_csv"),
    ],
)
def test_every_sample_source_is_recognised_by_its_columns(path: str, kind: str) -> None:
    assert detect(SAMPLE / path).type == kind


def test_the_public_focus_sample_is_focus_1_0() -> None:
    found = detect(shared_file("focus/focus-1.0-sample/focus_sample.csv"))
    assert (found.type, found.reason) == ("focus", "FOCUS 1.0 billing columns")


def test_a_file_no_type_reads_is_named_with_its_columns(tmp_path: Path) -> None:
    odd = tmp_path / "odd.csv"
    odd.write_text("when,what,how_much\n2026-10-01,coffee,3\n")
    with pytest.raises(
        SourceError,
        match=r"odd\.csv: roi does not recognise this file \(columns: how_much, what, when\); name its type with --type",
    ):
        detect(odd)


def _blank(tmp_path: Path) -> Context:
    root = tmp_path / "mine"
    write_blank(root)
    return Context(load_project(root))


def test_connect_writes_the_definition_loads_it_and_summarises(tmp_path: Path) -> None:
    ctx = _blank(tmp_path)
    done = connect(ctx, SAMPLE / "billing/azure")
    assert done.connector == "azure" and done.detected.type == "focus"
    assert (ctx.project.root / "connectors/azure.toml").read_text().count('type = "focus"') == 1
    assert done.load.rows_loaded > 0 and done.summary.table == "cost_lines"
    total = pipeline.query(
        Context.for_warehouse(ctx.warehouse), "SELECT sum(effective_cost) FROM cost_lines"
    ).item()
    assert done.summary.totals == {"USD": Decimal(total)}
    assert done.summary.providers == ["Microsoft"]
    keys = {t.key: t for t in done.summary.tag_keys}
    assert "ml-model" in keys and 0 < keys["ml-model"].share <= 1
    # The definition is a project connector now: loading again finds nothing new.
    [again] = pipeline.load(Context(load_project(ctx.project.root)))
    assert not again.changed


def test_a_source_that_fails_to_load_leaves_no_definition(tmp_path: Path) -> None:
    ctx = _blank(tmp_path)
    bad = tmp_path / "bad.csv"
    bad.write_text("kpi,period_start,period_end,value\nk,2026-10-01,2026-11-01,twelve\n")
    with pytest.raises(Exception, match=r"bad\.csv row 2 field value"):
        connect(ctx, bad)
    assert not list((ctx.project.root / "connectors").glob("*.toml"))
    assert not ctx.warehouse.exists()


@pytest.mark.slow
def test_models_are_suggested_from_the_tag_that_names_them(tmp_path: Path) -> None:
    ctx = _blank(tmp_path)
    connect(ctx, SAMPLE / "billing/aws")
    connect(Context(load_project(ctx.project.root)), SAMPLE / "billing/azure")
    ctx = Context(load_project(ctx.project.root))
    found = suggest(ctx)
    assert found.key == "ml-model"  # its name says it names models
    costs = dict(
        pipeline.query(
            Context.for_warehouse(ctx.warehouse),
            "SELECT tags['ml-model'], sum(effective_cost) FROM cost_lines "
            "WHERE tags['ml-model'] IS NOT NULL GROUP BY 1",
        ).rows()
    )
    by_model: dict[str, Decimal] = {}
    for value, cost in costs.items():  # tag values are matched without regard to case
        by_model[model_id_of(value)] = by_model.get(model_id_of(value), Decimal(0)) + Decimal(cost)
    assert {m.model_id: m.total for m in found.models} == {
        k: v for k, v in sorted(by_model.items(), key=lambda kv: -kv[1])[:20] if v > 0
    }
    written = write_models(ctx, found, [found.models[0].value])
    assert [p.name for p in written] == [f"{model_id_of(found.models[0].value)}.toml"]
    project = load_project(ctx.project.root)
    [model] = project.models
    assert model.selectors.tags == {"ml-model": (found.models[0].value,)}
    result = pipeline.attribute(Context(project))
    assert not [w for w in result.warnings if "no cost" in w]  # its selector matches its lines


def test_a_copy_of_the_sample_suggests_what_it_defines(tmp_path: Path) -> None:
    """Values that already have a model file are marked, and --write leaves them alone."""
    ctx = _blank(tmp_path)
    connect(ctx, SAMPLE / "billing/azure")
    shutil.copy(REPO / "models/clinical-triage.toml", ctx.project.root / "models")
    ctx = Context(load_project(ctx.project.root))
    found = suggest(ctx, "ml-model", top=50)
    assert [m.model_id for m in found.models if m.exists] == ["clinical-triage"]
    # "Support-Assistant" and "support-assistant" are one model (tags match without case).
    assert [m.model_id for m in found.models].count("support-assistant") == 1
    written = {p.stem for p in write_models(ctx, found)}
    assert "clinical-triage" not in written and "support-assistant" in written
