"""OpenAI's Usage API, fetched from a local server replaying its documented pages (cursors,
429 with Retry-After, 500s, a timeout) and read from the same pages saved as files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from roi import pipeline
from roi.cli import cli
from roi.config import load_project
from roi.context import Context
from roi.errors import SourceError, ValidationFailed
from tests.replay import Replay, Reply, free_port, serving

KEY = "sk-admin-test-0123456789abcdef"
DAY = 86_400
START = 1_790_812_800  # 2026-10-01T00:00:00Z
COMPLETIONS = "/v1/organization/usage/completions"
EMBEDDINGS = "/v1/organization/usage/embeddings"


def completion(
    project: str, model: str, tokens: int, cached: int, out: int, n: int
) -> dict[str, Any]:
    """A completions result as the API documents it (null: not grouped by)."""
    return {
        "object": "organization.usage.completions.result",
        "input_tokens": tokens,
        "input_cached_tokens": cached,
        "output_tokens": out,
        "input_audio_tokens": 0,
        "output_audio_tokens": 0,
        "num_model_requests": n,
        "project_id": project,
        "user_id": None,
        "api_key_id": None,
        "model": model,
        "batch": False,
    }


def page(day: int, results: list[dict[str, Any]], next_page: str | None) -> dict[str, Any]:
    start = START + day * DAY
    return {
        "object": "page",
        "data": [
            {"object": "bucket", "start_time": start, "end_time": start + DAY, "results": results}
        ],
        "has_more": next_page is not None,
        "next_page": next_page,
    }


PAGE_1 = page(
    0,
    [
        completion("proj_support", "gpt-4o-2024-08-06", 120_000, 40_000, 9_000, 310),
        completion("proj_search", "gpt-4o-mini-2024-07-18", 800_000, 0, 52_000, 2_400),
    ],
    "page_AAAAAGdGxdEC",
)
PAGE_2 = page(
    1, [completion("proj_support", "gpt-4o-2024-08-06", 99_000, 61_000, 7_500, 280)], None
)
EMBED = page(
    0,
    [
        {
            "object": "organization.usage.embeddings.result",
            "input_tokens": 2_000_000,
            "num_model_requests": 900,
            "project_id": "proj_search",
            "user_id": None,
            "api_key_id": None,
            "model": "text-embedding-3-small",
        }
    ],
    None,
)


def project(tmp_path: Path, url: str, **options: object) -> Path:
    """A project with one openai_usage connector reading `url`."""
    root = tmp_path / "p"
    (root / "connectors").mkdir(parents=True)
    (root / "roi.toml").write_text('[project]\nname = "api"\n')
    settings = {
        "start": "2026-10-01",
        "until": "2026-10-03",
        "endpoints": ["completions", "embeddings"],
        "backoff": 0.01,
        **options,
    }
    lines = [f"{k} = {json.dumps(v)}" for k, v in settings.items()]
    (root / "connectors/openai.toml").write_text(
        f'type = "openai_usage"\nurl = "{url}"\nadmin_key_env = "ROI_TEST_OPENAI_KEY"\n\n'
        "[options]\n" + "\n".join(lines) + "\n"
    )
    return root


def usage(root: Path) -> list[tuple[Any, ...]]:
    """The loaded usage, without lineage."""
    return pipeline.query(
        Context(load_project(root)),
        "SELECT request_id, ts, provider, model, call_type, tags, requests, input_tokens, "
        "cached_input_tokens, output_tokens, cost, cost_source FROM inference_usage ORDER BY 1",
    ).rows()


def replay() -> Replay:
    return Replay(
        {
            COMPLETIONS: {None: Reply(PAGE_1), "page_AAAAAGdGxdEC": Reply(PAGE_2)},
            EMBEDDINGS: {None: Reply(EMBED)},
        }
    )


@pytest.fixture(autouse=True)
def _key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROI_TEST_OPENAI_KEY", KEY)


def test_fetched_and_saved_pages_load_the_same_rows(tmp_path: Path) -> None:
    with serving(replay()) as server:
        root = project(tmp_path / "live", server.url)
        [result] = pipeline.load(Context(load_project(root)))
    results = [r for p in (PAGE_1, PAGE_2, EMBED) for b in p["data"] for r in b["results"]]
    assert result.rows_loaded == len(results)
    # The key went in a header, the cursor of page 1 fetched page 2, the query is documented.
    first = server.seen[0]
    assert first.headers["authorization"] == f"Bearer {KEY}"
    assert first.query["group_by"] == ["project_id", "model", "batch"]
    assert first.query["bucket_width"] == ["1d"]
    assert [s.query.get("page") for s in server.seen if s.path == COMPLETIONS] == [
        None,
        ["page_AAAAAGdGxdEC"],
    ]
    live = usage(root)
    assert sum(r[7] for r in live) == sum(r["input_tokens"] for r in results)
    assert sum(r[8] for r in live) == sum(r.get("input_cached_tokens", 0) for r in results)
    assert sum(r[6] for r in live) == sum(r["num_model_requests"] for r in results)
    # No cost in a usage report: the price book prices what it knows at load (a null cost,
    # `unpriced`, for what it does not), never a zero.
    assert {r[11] for r in live} <= {"priced", "unpriced"} and "priced" in {r[11] for r in live}
    assert all((r[10] is None) == (r[11] == "unpriced") for r in live)
    assert all(r[10] is None or r[10] > 0 for r in live)

    saved = tmp_path / "saved" / "pages"
    saved.mkdir(parents=True)
    for name, body in (("c1", PAGE_1), ("c2", PAGE_2), ("e1", EMBED)):
        (saved / f"{name}.json").write_text(json.dumps(body))
    files = project(tmp_path / "saved", "http://unused")
    toml = files / "connectors/openai.toml"
    toml.write_text(toml.read_text().replace('url = "http://unused"', f'path = "{saved}"'))
    pipeline.load(Context(load_project(files)))
    assert usage(files) == live


def test_a_429_is_retried_after_the_wait_it_asks_for(tmp_path: Path) -> None:
    routes = replay()
    routes.routes[EMBEDDINGS] = [
        Reply({"error": {"message": "Rate limit reached"}}, 429, (("Retry-After", "1"),)),
        Reply(EMBED),
    ]
    with serving(routes) as server:
        [result] = pipeline.load(Context(load_project(project(tmp_path, server.url))))
    tries = [s.at for s in server.seen if s.path == EMBEDDINGS]
    assert len(tries) == 2 and tries[1] - tries[0] >= 1.0
    assert result.rows_loaded == 4


def _cli_load(root: Path) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["load", "--project", str(root)])
    return result.exit_code, result.stderr


def test_a_500_until_the_retries_run_out_is_one_error_and_nothing_loaded(tmp_path: Path) -> None:
    routes = replay()
    routes.routes[EMBEDDINGS] = [Reply({"error": {"message": f"boom for {KEY}"}}, 500)]
    with serving(routes) as server:
        root = project(tmp_path, server.url, retries=3)
        code, err = _cli_load(root)
    assert code == 1
    [line] = err.strip().splitlines()
    assert line.startswith("Error: OpenAI at ") and EMBEDDINGS in line
    assert "HTTP 500" in line and "3 attempt(s)" in line and "admin_key_env" in line
    assert KEY not in err
    assert len([s for s in server.seen if s.path == EMBEDDINGS]) == 3
    assert not (root / "roi.duckdb").exists()  # nothing loaded, no warehouse left behind


def test_a_timeout_names_the_url_and_the_wait(tmp_path: Path) -> None:
    routes = replay()
    routes.routes[COMPLETIONS] = [Reply(PAGE_1, delay=1.5)]
    with serving(routes) as server:
        root = project(tmp_path, server.url, retries=1, timeout=0.3)
        code, err = _cli_load(root)
    assert code == 1
    assert err.strip() == (
        f"Error: OpenAI at {server.url}{COMPLETIONS} did not answer within 0.3 s after 1 "
        "attempt(s); check the connector's url, that the host is reachable, and the admin key "
        "(an sk-admin-... key) in the environment variable named by admin_key_env"
    )


def test_a_refused_connection_is_one_error_naming_the_url(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    code, err = _cli_load(project(tmp_path, url, retries=2))
    assert code == 1
    [line] = err.strip().splitlines()
    assert line.startswith(f"Error: OpenAI at {url}{COMPLETIONS} cannot be reached (")
    assert "check the connector's url, that the host is reachable" in line


def test_a_malformed_page_names_the_file_and_position(tmp_path: Path) -> None:
    bad = tmp_path / "usage.json"
    text = json.dumps(PAGE_1, indent=1)
    bad.write_text(text.replace('"output_tokens": 9000', '"output_tokens": 9000,,'))
    with pytest.raises(SourceError) as caught:
        pipeline.ingest(
            Context.for_warehouse(tmp_path / "w.duckdb", tmp_path), "openai_usage", str(bad)
        )
    line = next(n for n, t in enumerate(text.splitlines(), 1) if '"output_tokens": 9000' in t)
    assert str(caught.value).startswith(f"usage.json: not valid JSON at line {line} column ")
    assert not (tmp_path / "w.duckdb").exists()


def test_a_negative_token_count_is_rejected_by_file_row_and_field(tmp_path: Path) -> None:
    broken = json.loads(json.dumps(PAGE_1))
    broken["data"][0]["results"][1]["output_tokens"] = -52_000
    path = tmp_path / "usage.json"
    path.write_text(json.dumps(broken))
    with pytest.raises(ValidationFailed) as caught:
        pipeline.ingest(
            Context.for_warehouse(tmp_path / "w.duckdb", tmp_path), "openai_usage", str(path)
        )
    assert str(caught.value).startswith("usage.json row 2 field output_tokens: must be at least 0")


def test_roi_connect_recognises_a_saved_usage_page(tmp_path: Path) -> None:
    root = tmp_path / "p"
    assert CliRunner().invoke(cli, ["init", str(root)]).exit_code == 0
    path = tmp_path / "october.json"
    path.write_text(json.dumps(PAGE_1))
    result = CliRunner().invoke(cli, ["connect", str(path), "--project", str(root)])
    assert result.exit_code == 0, result.stderr
    assert 'type = "openai_usage"' in (root / "connectors/october.toml").read_text()
