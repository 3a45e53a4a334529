"""OpenCost's inference-cost API (`/inferenceCost/timeseries`, `/total`) in the shape its
`pkg/inferencecost/apitypes.go` writes (inside OpenCost's `{"code", "data"}` envelope): fetched
from a local server replaying it and read saved, into `inference_costs`; OpenCost's worked example
reproduced from the loaded rows; and on the sample, OpenCost's rates beside the self-hosted
model's unit cost, never added to its cost."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from roi import pipeline, warehouse
from roi.config import ProjectConfig, load_project
from roi.context import Context
from roi.errors import SourceError
from roi.value.opencost_rates import opencost_rates
from tests.replay import Replay, Reply, serving

LLAMA = "meta-llama/Llama-3.1-8B-Instruct"
MISTRAL = "mistralai/Mistral-7B-Instruct-v0.2"


def entry(
    model: str,
    day: int,
    cost: float,
    prompt: float,
    cached: float,
    generated: float,
    input_cost: float,
    basis: str = "allocation",
) -> dict[str, Any]:
    """One model's inference cost for a day, as OpenCost's InferenceCostResponse."""
    window = {"start": f"2026-10-{day:02d}T00:00:00Z", "end": f"2026-10-{day + 1:02d}T00:00:00Z"}
    return {
        "properties": {"modelName": model, "namespace": "llm-serving", "cluster": "ml-shared-gpu"},
        "window": window,
        "costBasis": basis,
        "totalCost": cost,
        "promptTokens": prompt,
        "generationTokens": generated,
        "totalTokens": prompt + generated,
        "costPerMillionTokens": cost / (prompt + generated) * 1e6,
        "inputCost": input_cost,
        "outputCost": cost - input_cost,
        "inputCostPerMillionTokens": input_cost / prompt * 1e6,
        "outputCostPerMillionTokens": (cost - input_cost) / generated * 1e6,
        "cacheSavingsFraction": cached / prompt,
        "allocationMethod": "compute_time",
    }


# OpenCost's worked example (docs/inference-cost-tracking.md): 3.20 USD, 12M prompt tokens of
# which 800k cached, 3M generated, equal prefill and decode time.
EXAMPLE = entry(LLAMA, 1, 3.20, 12_000_000, 800_000, 3_000_000, 1.60)
DAY_2 = entry(LLAMA, 2, 4.80, 15_000_000, 1_500_000, 5_000_000, 1.80)
USAGE_BASIS = entry(LLAMA, 1, 2.10, 12_000_000, 800_000, 3_000_000, 1.05, basis="usage")
OTHER = entry(MISTRAL, 1, 9.99, 1_000_000, 0, 1_000_000, 4.00)


def timeseries(*sets: list[dict[str, Any]]) -> dict[str, Any]:
    """A /inferenceCost/timeseries body: one set per day."""
    return {
        "code": 200,
        "data": {
            "inferenceCostSets": [
                {
                    "inferenceCosts": {
                        f"{e['properties']['modelName']}:llm-serving": e for e in entries
                    },
                    "window": entries[0]["window"],
                }
                for entries in sets
            ],
            "window": {"start": "2026-10-01T00:00:00Z", "end": "2026-10-03T00:00:00Z"},
        },
    }


def total(*entries: dict[str, Any]) -> dict[str, Any]:
    """A /inferenceCost/total body."""
    return {
        "code": 200,
        "data": {
            "inferenceCosts": {
                f"{e['properties']['modelName']}:{i}": e for i, e in enumerate(entries)
            },
            "window": {"start": "2026-10-01T00:00:00Z", "end": "2026-10-03T00:00:00Z"},
        },
    }


BODY = timeseries([EXAMPLE, OTHER], [DAY_2])


def _project(root: Path, location: str) -> Path:
    (root / "connectors").mkdir(parents=True)
    (root / "roi.toml").write_text('[project]\nname = "k8s"\n')
    (root / "connectors/inference.toml").write_text(
        f'type = "opencost_inference"\n{location}\n\n[options]\nstart = "2026-10-01"\n'
        'until = "2026-10-03"\n'
    )
    return root


def _rows(root: Path) -> list[tuple[Any, ...]]:
    return pipeline.query(
        Context(load_project(root)),
        "SELECT * EXCLUDE (source_file, source_row, _load_id) FROM inference_costs ORDER BY ALL",
    ).rows()


def test_fetched_and_saved_responses_load_the_same_rows(tmp_path: Path) -> None:
    with serving(Replay({"/inferenceCost/timeseries": [Reply(BODY)]})) as server:
        live = _project(tmp_path / "live", f'url = "{server.url}"')
        [first] = pipeline.load(Context(load_project(live)))
        [again] = pipeline.load(Context(load_project(live)))  # the window's end was reached
    query = server.seen[0].query
    assert query["window"] == ["2026-10-01T00:00:00Z,2026-10-03T00:00:00Z"]
    assert (query["accumulate"], query["costBasis"]) == (["day"], ["allocation"])
    assert query["aggregate"] == ["model_name,namespace"]
    assert (first.rows_loaded, again.rows_loaded, len(server.seen)) == (3, 0, 1)
    rows = _rows(live)
    assert [(r[4], r[0].day, r[7]) for r in rows] == [
        (LLAMA, 1, 3.2),
        (MISTRAL, 1, 9.99),
        (LLAMA, 2, 4.8),
    ]
    # Cached tokens: the prompt tokens times cacheSavingsFraction.
    assert rows[0][11] == pytest.approx(800_000)
    assert {r[-1] for r in rows} == {"USD"}

    saved = tmp_path / "inference.json"
    saved.write_text(json.dumps(BODY))
    files = _project(tmp_path / "files", f'path = "{saved}"')
    pipeline.load(Context(load_project(files)))
    assert _rows(files) == rows


def test_opencost_worked_example_from_the_loaded_rows(tmp_path: Path) -> None:
    saved = tmp_path / "total.json"
    saved.write_text(json.dumps(total(EXAMPLE, OTHER)))
    ctx = Context.for_warehouse(tmp_path / "w.duckdb", tmp_path)
    pipeline.ingest(ctx, "opencost_inference", str(saved))
    names = pl.DataFrame(
        {"month": [date(2026, 10, 1)], "model_id": ["support-assistant"], "name": [LLAMA.lower()]}
    )
    with warehouse.open_warehouse(tmp_path / "w.duckdb", read_only=True) as con:
        [row] = opencost_rates(con, names, "USD").to_dicts()
    assert round(row["opencost_per_1m_tokens"], 3) == 0.213
    assert round(row["opencost_input_per_1m_tokens"], 3) == 0.143
    assert round(row["opencost_output_per_1m_tokens"], 3) == 0.533
    assert row["opencost_basis"] == "allocation"


def test_a_body_that_is_no_inference_cost_response_is_an_error(tmp_path: Path) -> None:
    saved = tmp_path / "allocation.json"
    saved.write_text(json.dumps({"code": 200, "data": {"sets": []}}))
    with pytest.raises(SourceError, match="neither inferenceCosts nor inferenceCostSets"):
        pipeline.ingest(
            Context.for_warehouse(tmp_path / "w.duckdb", tmp_path), "opencost_inference", str(saved)
        )


@pytest.mark.slow
def test_the_sample_self_hosted_model_gets_opencost_rates_beside_its_own(
    project_dir: Path, loaded_project: ProjectConfig
) -> None:
    # Two responses, one per cost basis, as OpenCost answers one basis a query.
    folder = project_dir / "sample_data/opencost"
    folder.mkdir()
    (folder / "allocation.json").write_text(json.dumps(BODY))
    (folder / "usage.json").write_text(json.dumps(timeseries([USAGE_BASIS])))
    (project_dir / "connectors/opencost_inference.toml").write_text(
        'type = "opencost_inference"\npath = "sample_data/opencost"\n'
    )
    ctx = Context(load_project(project_dir))
    pipeline.load(ctx)
    pipeline.attribute(ctx)
    sql = (
        "SELECT cost, cost_per_1m_tokens, opencost_per_1m_tokens, opencost_input_per_1m_tokens, "
        "opencost_output_per_1m_tokens, note FROM llm_unit_costs WHERE month = '2026-10-01' "
        "AND model_id = 'support-assistant' AND serving = 'self_hosted'"
    )
    [row] = pipeline.query(ctx, sql).rows()
    # OpenCost's sums over October on the allocation basis (its usage-basis row set aside).
    days = (EXAMPLE, DAY_2)
    cost = sum(Decimal(str(e["totalCost"])) for e in days)
    tokens = sum(Decimal(str(e["totalTokens"])) for e in days)
    effective = sum(
        Decimal(str(e["promptTokens"])) * (1 - Decimal(str(e["cacheSavingsFraction"])))
        for e in days
    )
    inputs = sum(Decimal(str(e["inputCost"])) for e in days)
    outputs = sum(Decimal(str(e["outputCost"])) for e in days)
    generated = sum(Decimal(str(e["generationTokens"])) for e in days)
    assert row[2] == pytest.approx(float(cost / tokens * 1_000_000))
    assert row[3] == pytest.approx(float(inputs / effective * 1_000_000))
    assert row[4] == pytest.approx(float(outputs / generated * 1_000_000))
    assert row[5].endswith("OpenCost's own rates beside it (allocation basis)")
    # A reference, never cost: the model's own GPU cost and rate are those without OpenCost.
    [before] = pipeline.query(Context.for_warehouse(loaded_project.warehouse_path), sql).rows()
    assert row[:2] == before[:2] and before[2] is None
    [(models,)] = pipeline.query(
        ctx, "SELECT count(*) FROM llm_unit_costs WHERE opencost_per_1m_tokens IS NOT NULL"
    ).rows()
    assert models == 1  # Mistral is served by no model of the portfolio
