"""The file-based usage connectors: usage events (JSON lines) and Langfuse's export; priced at
load, listed when unpriced, re-priced only by `roi reprice`."""

from __future__ import annotations

import gzip
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from click.testing import CliRunner

from roi import pipeline
from roi.cli import cli
from roi.context import Context
from roi.errors import SourceError
from roi.loading.jsonl import read_json_lines
from roi.loading.loader import LoadResult
from roi.start.detect import detect
from tests.conftest import copy_project


def _ingest(tmp_path: Path, kind: str, path: Path, **options: object) -> LoadResult:
    return pipeline.ingest(
        Context.for_warehouse(tmp_path / "w.duckdb", tmp_path),
        kind,
        str(path),
        options=dict(options),
    )


def _rows(tmp_path: Path, sql: str) -> list[tuple[Any, ...]]:
    return pipeline.query(Context.for_warehouse(tmp_path / "w.duckdb"), sql).rows()


def _write_jsonl(path: Path, *objects: dict[str, Any], blank_after: int | None = None) -> Path:
    lines = [json.dumps(o) for o in objects]
    if blank_after is not None:
        lines.insert(blank_after, "")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


CLOUD_EVENT: dict[str, Any] = {
    "specversion": "1.0",
    "type": "llm.request",
    "source": "gateway",
    "id": "evt-1",
    "time": "2026-10-05T10:00:00Z",
    "subject": "support-assistant",
    "data": {
        "model": "claude-sonnet-4-5-20250929",
        "usage": {
            "input_tokens": 2_000,
            "cache_read_input_tokens": 10_000,
            "cache_creation_input_tokens": 3_000,
            "output_tokens": 400,
        },
        "team": "customer-service",
    },
}
MAPPING: dict[str, Any] = {
    "provider": "anthropic",
    "cached_tokens": "outside",
    "columns": {
        "model_id": "subject",
        "model": "data.model",
        "input_tokens": "data.usage.input_tokens",
        "cached_input_tokens": "data.usage.cache_read_input_tokens",
        "cache_write_tokens": "data.usage.cache_creation_input_tokens",
        "output_tokens": "data.usage.output_tokens",
        "team": "data.team",
    },
    "tags": {"source": "source"},
}


def test_cloudevents_by_a_mapping_with_cached_tokens_outside_input(tmp_path: Path) -> None:
    second = {**CLOUD_EVENT, "id": "evt-2", "data": {**CLOUD_EVENT["data"], "cost": "0.0125"}}
    path = _write_jsonl(tmp_path / "events.jsonl", CLOUD_EVENT, second, blank_after=1)
    result = _ingest(tmp_path, "usage_events", path, **MAPPING)
    assert result.rows_loaded == 2
    rows = _rows(
        tmp_path,
        """SELECT request_id, provider, model_id, team, input_tokens, cached_input_tokens,
                  cache_write_tokens, output_tokens, cost, cost_source, source_row,
                  tags['source'] FROM inference_usage ORDER BY request_id""",
    )
    # Anthropic counts cache reads and writes outside input: roi adds them in.
    assert rows[0][:8] == (
        "evt-1",
        "anthropic",
        "support-assistant",
        "customer-service",
        15_000,
        10_000,
        3_000,
        400,
    )
    assert rows[0][9] == "priced" and rows[0][8] > 0
    assert rows[1][8:10] == (Decimal("0.0125000000"), "reported")
    assert rows[1][10] == 3  # the line in the file (a blank line counts)
    assert rows[0][11] == "gateway"


def test_flat_objects_with_their_own_names(tmp_path: Path) -> None:
    event = {
        "request_id": "r-1",
        "ts": "2026-10-05T10:00:00+02:00",
        "provider": "openai",
        "model": "gpt-4o-mini",
        "input_tokens": 1_000,
        "cached_input_tokens": 400,
        "output_tokens": 10,
        "service_tier": "default",
    }
    path = _write_jsonl(tmp_path / "flat.ndjson", event)
    _ingest(tmp_path, "usage_events", path)
    [row] = _rows(tmp_path, "SELECT ts, service_tier, cost_source FROM inference_usage")
    assert row[0].isoformat().startswith("2026-10-05T08:00:00")  # UTC
    assert row[1] is None and row[2] == "priced"  # "default" is the standard tier


def test_a_malformed_line_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    path.write_text(json.dumps(CLOUD_EVENT) + "\n\n" + '{"id": "evt-2",\n', encoding="utf-8")
    with pytest.raises(SourceError, match=r"events\.jsonl:3: not valid JSON"):
        _ingest(tmp_path, "usage_events", path, **MAPPING)
    assert not (tmp_path / "w.duckdb").exists()


def test_a_file_read_ahead_in_chunks_loads_every_line_or_nothing(tmp_path: Path) -> None:
    events = [{**CLOUD_EVENT, "id": f"evt-{i}"} for i in range(6_000)]  # about 2.5 MB
    (tmp_path / "good").mkdir()
    good = _write_jsonl(tmp_path / "good" / "events.jsonl", *events)
    result = _ingest(tmp_path / "good", "usage_events", good, chunk_mb=1, **MAPPING)
    assert result.rows_loaded == 6_000
    rows = _rows(tmp_path / "good", "SELECT request_id, source_row FROM inference_usage")
    assert sorted(rows, key=lambda r: r[1]) == [(f"evt-{i}", i + 1) for i in range(6_000)]
    (tmp_path / "bad").mkdir()
    bad = tmp_path / "bad" / "events.jsonl"
    bad.write_text(good.read_text(encoding="utf-8") + "{not json\n", encoding="utf-8")
    with pytest.raises(SourceError, match=r"events\.jsonl:6001: not valid JSON"):
        _ingest(tmp_path / "bad", "usage_events", bad, chunk_mb=1, **MAPPING)
    assert not (tmp_path / "bad" / "w.duckdb").exists()


def test_bad_lines_skipped_when_asked(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl.gz"
    with gzip.open(path, "wt", encoding="utf-8") as fh:
        fh.write(
            json.dumps(CLOUD_EVENT)
            + "\nnot json\n"
            + json.dumps({**CLOUD_EVENT, "id": "e3"})
            + "\n"
        )
    result = pipeline.ingest(
        Context.for_warehouse(tmp_path / "w.duckdb", tmp_path),
        "usage_events",
        str(path),
        options=dict(MAPPING),
        on_reject="skip",
    )
    assert (result.rows_loaded, result.rows_rejected) == (2, 1)
    [reject] = _rows(tmp_path, "SELECT source_row, reason FROM _rejects")
    assert reject[0] == 2 and reject[1].startswith("not valid JSON")


def test_chunks_keep_line_numbers(tmp_path: Path) -> None:
    objects = [{"request_id": f"r{i}", "n": i} for i in range(1, 501)]
    path = _write_jsonl(tmp_path / "many.jsonl", *objects, blank_after=250)
    frames = [
        c.frame
        for c in read_json_lines(
            path, "many.jsonl", {"request_id": pl.String(), "n": pl.String()}, chunk_bytes=1024
        )
    ]
    assert len(frames) > 5
    frame = pl.concat(frames)
    assert frame.height == 500
    lines = dict(zip(frame["request_id"], frame["source_row"], strict=True))
    assert lines["r1"] == 1 and lines["r250"] == 250 and lines["r251"] == 252
    assert lines["r500"] == 501


def test_counts_read_as_numbers_and_a_chunk_with_another_type_read_as_text(tmp_path: Path) -> None:
    objects: list[dict[str, Any]] = [{"request_id": f"r{i}", "n": i} for i in range(1, 501)]
    objects[399]["n"] = "400"  # a count written as a string: its chunk is read as text
    path = _write_jsonl(tmp_path / "many.jsonl", *objects, blank_after=250)
    text: dict[str, pl.DataType] = {"request_id": pl.String(), "n": pl.String()}
    typed: dict[str, pl.DataType] = {"request_id": pl.String(), "n": pl.Int64()}
    frames = [
        c.frame for c in read_json_lines(path, "many.jsonl", text, chunk_bytes=1024, typed=typed)
    ]
    assert {f.schema["n"] for f in frames} == {pl.Int64(), pl.String()}
    frame = pl.concat([f.with_columns(pl.col("n").cast(pl.Int64)) for f in frames])
    assert frame["n"].to_list() == list(range(1, 501))
    lines = dict(zip(frame["request_id"], frame["source_row"], strict=True))
    assert lines["r1"] == 1 and lines["r250"] == 250 and lines["r251"] == 252
    assert lines["r400"] == 401 and lines["r500"] == 501


@pytest.mark.parametrize("spelling", [str, float])
def test_counts_as_numbers_load_as_counts_written_otherwise(tmp_path: Path, spelling: type) -> None:
    events = [
        {**CLOUD_EVENT, "id": f"evt-{i}", "data": {**CLOUD_EVENT["data"], "usage": usage}}
        for i, usage in enumerate(
            [CLOUD_EVENT["data"]["usage"], {"input_tokens": 7, "output_tokens": 0}]
        )
    ]
    other = [
        {
            **e,
            "data": {**e["data"], "usage": {k: spelling(v) for k, v in e["data"]["usage"].items()}},
        }
        for e in events
    ]
    loaded = []
    for name, written in (("numbers", events), ("other", other)):
        folder = tmp_path / name
        folder.mkdir()
        _ingest(folder, "usage_events", _write_jsonl(folder / "events.jsonl", *written), **MAPPING)
        loaded.append(
            _rows(
                folder, "SELECT * EXCLUDE (_load_id, source_file) FROM inference_usage ORDER BY 1"
            )
        )
    assert loaded[0] == loaded[1]
    tokens = _rows(tmp_path / "other", "SELECT input_tokens FROM inference_usage ORDER BY 1")
    assert tokens == [(7,), (15_000,)]  # the cache added to input (counted outside it)


OBSERVATIONS: list[dict[str, Any]] = [
    {
        "id": "obs-1",
        "trace_id": "trace-1",
        "type": "GENERATION",
        "start_time": "2026-10-03 23:59:59.500",
        "provided_model_name": "gpt-4o",
        "metadata": {"model_portfolio_id": "support-assistant", "feature": "support-assistant"},
        "environment": "production",
        "usage_details": {"input": 800, "input_cached_tokens": 200, "output": 100, "total": 1100},
        "cost_details": {
            "input": 0.002,
            "input_cached_tokens": 0.00025,
            "output": 0.001,
            "total": 0.00325,
        },
        "total_cost": 0.00325,
    },
    {
        "id": "obs-2",
        "trace_id": "trace-1",
        "type": "SPAN",
        "start_time": "2026-10-03 23:59:59.000",
        "usage_details": {},
        "cost_details": {},
    },
    {
        "id": "obs-3",
        "trace_id": "trace-2",
        "type": "GENERATION",
        "start_time": "2026-10-04 08:00:00.000",
        "provided_model_name": "claude-sonnet-4-5-20250929",
        "model_parameters": {"temperature": "0"},
        "usage_details": {
            "input": 1_000,
            "cache_read_input_tokens": 5_000,
            "input_cache_creation_5m": 2_000,
            "input_cache_creation_1h": 1_000,
            "output": 300,
            "output_reasoning_tokens": 200,
        },
        "cost_details": {},
        "total_cost": 0,
    },
]


@pytest.mark.parametrize("form", ["jsonl", "csv", "json"])
def test_langfuse_export(tmp_path: Path, form: str) -> None:
    if form == "jsonl":
        path = _write_jsonl(tmp_path / "observations.jsonl", *OBSERVATIONS)
    elif form == "json":
        path = tmp_path / "observations.json"
        path.write_text(json.dumps(OBSERVATIONS), encoding="utf-8")
    else:
        path = tmp_path / "observations.csv"
        frame = pl.DataFrame(
            [
                {k: (json.dumps(v) if isinstance(v, dict) else v) for k, v in o.items()}
                for o in OBSERVATIONS
            ]
        )
        frame.cast(pl.String).write_csv(path)
    assert detect(path).type == "langfuse"
    result = _ingest(tmp_path, "langfuse", path)
    assert result.rows_loaded == 2  # the span is no request
    rows = _rows(
        tmp_path,
        """SELECT request_id, ts, model_id, feature, input_tokens, cached_input_tokens,
                  cache_write_tokens, cache_write_1h_tokens, output_tokens, reasoning_tokens,
                  cost, cost_source, tags['environment'] FROM inference_usage ORDER BY request_id""",
    )
    first, third = rows
    # No zone marker: Langfuse's UTC, kept in October (a local reading could move it).
    assert first[1].isoformat() == "2026-10-03T23:59:59.500000+00:00"
    assert first[2:4] == ("support-assistant", "support-assistant")
    assert first[4:6] == (1_000, 200)  # input includes the cache reads
    assert first[10:12] == (Decimal("0.0032500000"), "reported")
    assert first[12] == "production"
    # Additive usage types: input = 1,000 + 5,000 + 2,000 + 1,000; output = 300 + 200.
    assert third[4:10] == (9_000, 5_000, 3_000, 1_000, 500, 200)
    assert third[11] == "priced" and third[10] > 0  # Langfuse had no price: roi's book


def test_roi_connect_recognises_usage_events(tmp_path: Path) -> None:
    path = _write_jsonl(tmp_path / "events.jsonl", CLOUD_EVENT)
    assert detect(path).type == "usage_events"
    flat = _write_jsonl(tmp_path / "flat.jsonl", {"model": "gpt-4o", "input_tokens": 1})
    assert detect(flat).type == "usage_events"


def _project_with_usage(tmp_path: Path) -> Path:
    project = copy_project(tmp_path / "project")
    (project / "usage").mkdir()
    events = [
        {
            "request_id": f"u{i}",
            "ts": f"2026-10-{10 + i:02d}T12:00:00Z",
            "provider": "acme",
            "model": "acme-llm-7",
            "input_tokens": 1_000_000,
            "output_tokens": 100_000,
        }
        for i in range(3)
    ]
    _write_jsonl(project / "usage" / "events.jsonl", *events)
    (project / "connectors" / "gateway.toml").write_text(
        'type = "usage_events"\npath = "usage/events.jsonl"\n', encoding="utf-8"
    )
    return project


@pytest.mark.slow
def test_unpriced_listed_then_contracted_and_repriced(tmp_path: Path) -> None:
    project = _project_with_usage(tmp_path)
    runner = CliRunner()
    for command in (["load"], ["attribute"]):
        run = runner.invoke(cli, [*command, "--project", str(project), "--quiet"])
        assert run.exit_code == 0, run.output
    listed = runner.invoke(
        cli, ["reconcile", "--month", "2026-10", "--project", str(project), "--format", "json"]
    )
    document = json.loads(listed.stdout)
    [unpriced] = [r for r in document["unpriced_usage"] if r["model"] == "acme-llm-7"]
    assert (unpriced["provider"], unpriced["month"], unpriced["requests"]) == (
        "acme",
        "2026-10-01",
        3,
    )
    assert unpriced["input_tokens"] == 3_000_000 and unpriced["output_tokens"] == 300_000
    assert "no price for the model" in unpriced["reason"]
    assert 'add a contracted price for model "acme-llm-7"' in unpriced["fix"]
    assert "roi reprice --month 2026-10" in unpriced["fix"]

    # A contracted price: loads do not re-price history; `roi reprice` does, when asked.
    (project / "prices.toml").write_text(
        '[[price]]\nmodel = "acme-llm-7"\ninput = 0.50\noutput = 1.50\n', encoding="utf-8"
    )
    settings = (project / "roi.toml").read_text(encoding="utf-8")
    (project / "roi.toml").write_text(settings + '\n[pricing]\ncontracted = "prices.toml"\n')
    again = runner.invoke(cli, ["load", "--project", str(project), "--quiet"])
    assert again.exit_code == 0, again.output
    ctx = Context.load(project)
    assert pipeline.query(
        ctx, "SELECT count(*) FROM inference_usage WHERE cost_source = 'unpriced'"
    ).rows() == [(3,)]
    dry = runner.invoke(
        cli, ["reprice", "--project", str(project), "--dry-run", "--format", "json"]
    )
    planned = json.loads(dry.stdout)
    assert planned["changed"] == 3 and not planned["written"]
    [month] = planned["months"]
    assert month["unpriced_before"] == 3 and month["unpriced_after"] == 0
    assert Decimal(str(month["cost_after"])) == Decimal("1.95")  # 3 x (0.50 + 0.15)
    done = runner.invoke(cli, ["reprice", "--project", str(project), "--format", "json"])
    assert json.loads(done.stdout)["written"]
    rows = pipeline.query(
        ctx,
        "SELECT DISTINCT cost, cost_source, price_version FROM inference_usage "
        "WHERE request_id LIKE 'u%'",
    ).rows()
    assert len(rows) == 1
    assert rows[0][:2] == (Decimal("0.6500000000"), "priced")
    assert "+contracted@sha256:" in rows[0][2]
    # Idempotent: nothing changes the second time.
    assert (
        json.loads(
            runner.invoke(cli, ["reprice", "--project", str(project), "--format", "json"]).stdout
        )["changed"]
        == 0
    )
    runner.invoke(cli, ["attribute", "--project", str(project), "--quiet"])
    listed = runner.invoke(
        cli, ["reconcile", "--month", "2026-10", "--project", str(project), "--format", "json"]
    )
    assert listed.exit_code == 0, listed.output
    assert not [
        r for r in json.loads(listed.stdout)["unpriced_usage"] if r["model"] == "acme-llm-7"
    ]


def test_litellm_zero_spend_with_tokens_is_priced(tmp_path: Path) -> None:
    header = "request_id,startTime,model,spend,prompt_tokens,completion_tokens,custom_llm_provider"
    lines = [
        "r1,2026-10-01 08:00:00,gpt-4o,0,1000000,0,openai",  # a price-map miss
        "r2,2026-10-01 08:00:00,gpt-4o,0,0,0,openai",  # a failed request: 0 is right
        "r3,2026-10-01 08:00:00,llama-3.1-8b,0,1000,10,hosted_vllm",  # self-hosted: GPU time
        "r4,2026-10-01 08:00:00,gpt-4o,0.5,1000,10,openai",
    ]
    path = tmp_path / "spend.csv"
    path.write_text("\n".join([header, *lines]) + "\n", encoding="utf-8")
    _ingest(tmp_path, "litellm_spend_logs", path)
    rows = _rows(tmp_path, "SELECT request_id, cost, cost_source FROM inference_usage ORDER BY 1")
    assert rows[0][2] == "priced" and rows[0][1] > 0
    assert rows[1][1:] == (Decimal(0), "reported")
    assert rows[2][1:] == (Decimal(0), "reported")
    assert rows[3][1:] == (Decimal("0.5"), "reported")
    keep = tmp_path / "keep"
    keep.mkdir()
    _ingest(keep, "litellm_spend_logs", path, zero_spend="keep")
    assert _rows(keep, "SELECT cost_source FROM inference_usage WHERE request_id = 'r1'") == [
        ("reported",)
    ]


def test_reported_costs_in_another_currency_are_converted_with_a_rate(tmp_path: Path) -> None:
    (tmp_path / "roi.toml").write_text(
        '[project]\ncurrency = "EUR"\n\n[pricing]\nfx = { USD = 0.9 }\n', encoding="utf-8"
    )
    event = {
        "request_id": "r1",
        "ts": "2026-10-01T08:00:00Z",
        "provider": "openai",
        "model": "gpt-4o",
        "input_tokens": 1_000_000,
        "output_tokens": 0,
        "cost": "2.00",
        "currency": "USD",
    }
    unpriced = {**event, "request_id": "r2", "cost": None}
    path = _write_jsonl(tmp_path / "events.jsonl", event, unpriced)
    ctx = Context.load(tmp_path)
    pipeline.ingest(ctx, "usage_events", str(path))
    rows = pipeline.query(
        ctx, "SELECT request_id, cost, currency, cost_source FROM inference_usage ORDER BY 1"
    ).rows()
    assert rows[0] == ("r1", Decimal("1.8000000000"), "EUR", "reported")
    # Priced from the library's USD list price (2.50 per 1M input tokens) at the same rate.
    assert rows[1][1:] == (Decimal("2.2500000000"), "EUR", "priced")
