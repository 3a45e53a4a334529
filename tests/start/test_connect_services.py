"""`roi connect` for a URL or a DSN: LiteLLM's PostgreSQL database on this machine, and the
OpenAI, Anthropic and OpenCost APIs replayed by a local server. The definition names the type
chosen, holds the service's base URL and only the names of environment variables, and loads
again with `roi load` (and `roi ingest` reads the same database by URL)."""

from __future__ import annotations

import json
import tomllib
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from roi import pipeline
from roi.cli import cli
from roi.config import load_project
from roi.context import Context
from tests.connectors.test_litellm_postgres import OVERLAP, insert, litellm_db, spend_row
from tests.connectors.test_openai_usage import COMPLETIONS, PAGE_1, PAGE_2
from tests.connectors.test_opencost import BODY as OPENCOST_BODY
from tests.replay import Replay, Reply, free_port, serving

__all__ = ["litellm_db"]  # the fixture, shared with the connector's own tests
KEY = "sk-admin-connect-0123456789abcdef"
DAY = 86_400
START = 1_790_812_800  # 2026-10-01T00:00:00Z


def _project(tmp_path: Path) -> Path:
    root = tmp_path / "p"
    (root / "connectors").mkdir(parents=True)
    (root / "roi.toml").write_text('[project]\nname = "services"\ncurrency = "USD"\n')
    return root


def _roi(root: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, [*args, "--project", str(root)])


def _connect(root: Path, *args: str) -> dict[str, Any]:
    result = _roi(root, "connect", *args, "--format", "json")
    assert result.exit_code == 0, result.output
    document: dict[str, Any] = json.loads(result.stdout)
    return document


def _definition(root: Path, name: str) -> tuple[str, dict[str, Any]]:
    text = (root / "connectors" / f"{name}.toml").read_text()
    return text, tomllib.loads(text)


# ---- LiteLLM's PostgreSQL database ---------------------------------------------------------------


@pytest.mark.service
def test_a_postgresql_url_connects_litellm_then_loads_only_new_rows(
    litellm_db: str, tmp_path: Path
) -> None:
    root = _project(tmp_path)
    first = [spend_row(n, 1 + n // 4, 0.0021 * n + 0.00037, 64 * n) for n in range(1, 9)]
    insert(litellm_db, first)
    done = _connect(root, litellm_db)
    assert (done["type"], done["connector"]) == ("litellm_postgres", "litellm_postgres")
    assert done["why"] == "a PostgreSQL URL (LiteLLM's database)"
    assert done["load"]["rows_loaded"] == len(first)
    text, definition = _definition(root, "litellm_postgres")
    assert definition == {"type": "litellm_postgres", "url": litellm_db}
    assert text.startswith("# Written by `roi connect`")

    later = [spend_row(n, 10 + n // 4, 0.0017 * n, 32 * n) for n in range(9, 14)]
    insert(litellm_db, later)
    [two] = pipeline.load(Context(load_project(root)))
    latest = max(datetime.fromisoformat(r["startTime"]) for r in first)
    overlap = [r for r in first if datetime.fromisoformat(r["startTime"]) > latest - OVERLAP]
    assert two.rows_extracted == len(later) + len(overlap)  # the new rows, and the overlap
    assert two.rows_loaded - two.rows_replaced == len(later)
    rows = first + later
    [(count, cost)] = pipeline.query(
        Context(load_project(root)), "SELECT count(*), sum(cost) FROM inference_usage"
    ).rows()
    assert (count, cost) == (len(rows), sum(Decimal(repr(r["spend"])) for r in rows))


@pytest.mark.service
def test_a_dsn_in_the_environment_connects_and_ingest_reads_the_url(
    litellm_db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = [spend_row(n, 2, 0.001 * n, 16 * n) for n in range(1, 6)]
    insert(litellm_db, rows)
    monkeypatch.setenv("ROI_TEST_LITELLM_DATABASE_URL", litellm_db)
    root = _project(tmp_path)
    done = _connect(
        root, "--type", "litellm_postgres", "--dsn-env", "ROI_TEST_LITELLM_DATABASE_URL"
    )
    assert done["type"] == "litellm_postgres" and done["load"]["rows_loaded"] == len(rows)
    assert done["looked_at"] == "$ROI_TEST_LITELLM_DATABASE_URL"
    text, definition = _definition(root, "litellm_postgres")
    assert definition == {
        "type": "litellm_postgres",
        "dsn_env": "ROI_TEST_LITELLM_DATABASE_URL",
    }
    assert "127.0.0.1" not in text  # the DSN stays in the environment
    # Without --type, --dsn-env alone means LiteLLM's database too.
    again = _connect(
        _project(tmp_path / "b"), "--dsn-env", "ROI_TEST_LITELLM_DATABASE_URL", "--name", "llm"
    )
    assert (again["type"], again["connector"]) == ("litellm_postgres", "llm")

    warehouse = tmp_path / "ingest.duckdb"
    result = CliRunner().invoke(
        cli, ["ingest", "litellm_postgres", litellm_db, "--warehouse", str(warehouse)]
    )
    assert result.exit_code == 0, result.output
    [(count,)] = pipeline.query(
        Context.for_warehouse(warehouse), "SELECT count(*) FROM inference_usage"
    ).rows()
    assert count == len(rows)


def test_a_url_with_a_password_is_refused_and_nothing_is_written(tmp_path: Path) -> None:
    root = _project(tmp_path)
    result = _roi(root, "connect", "postgresql://litellm:s3cr3t-pw@127.0.0.1:5432/litellm")
    assert result.exit_code == 1
    assert "--password-env" in result.output and "s3cr3t-pw" not in result.output
    assert list((root / "connectors").iterdir()) == []
    keyed = _roi(root, "connect", "https://api.openai.com/v1/organization/costs?api_key=sk-x")
    assert keyed.exit_code == 1 and "--key-env" in keyed.output and "sk-x" not in keyed.output
    # On the command line (never in a file) `roi ingest` may take one; no message shows it.
    ingest = CliRunner().invoke(
        cli,
        [
            "ingest",
            "litellm_postgres",
            f"postgresql://u:s3cr3t-pw@127.0.0.1:{free_port()}/db",
            "--warehouse",
            str(tmp_path / "x.duckdb"),
        ],
    )
    assert ingest.exit_code == 1 and "cannot connect to postgresql://127.0.0.1" in ingest.output
    assert "s3cr3t-pw" not in ingest.output


@pytest.mark.service
def test_a_url_with_its_password_in_the_environment(
    litellm_db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`--password-env` names the variable; the server (trust auth here) takes any password."""
    insert(litellm_db, [spend_row(1, 3, 0.5, 0)])
    monkeypatch.setenv("ROI_TEST_PG_PASSWORD", "not-in-the-file")
    root = _project(tmp_path)
    done = _connect(root, litellm_db, "--password-env", "ROI_TEST_PG_PASSWORD")
    text, definition = _definition(root, "litellm_postgres")
    assert definition["password_env"] == "ROI_TEST_PG_PASSWORD"
    assert "not-in-the-file" not in text and done["load"]["rows_loaded"] == 1


# ---- APIs, against the replaying server --------------------------------------------------------


def _costs_page() -> dict[str, Any]:
    result = {
        "object": "organization.costs.result",
        "amount": {"value": 0.0612345, "currency": "usd"},
        "line_item": "gpt-4o-2024-08-06, input",
        "project_id": "proj_support",
    }
    bucket = {"object": "bucket", "start_time": START, "end_time": START + DAY}
    return {
        "object": "page",
        "data": [{**bucket, "results": [result]}],
        "has_more": False,
        "next_page": None,
    }


ANTHROPIC_COST = {
    "data": [
        {
            "starting_at": "2026-10-01T00:00:00Z",
            "ending_at": "2026-10-02T00:00:00Z",
            "results": [
                {
                    "currency": "USD",
                    "amount": "123.45",
                    "workspace_id": None,
                    "description": "Claude Sonnet 4 Usage - output_tokens",
                    "cost_type": "tokens",
                    "context_window": "0-200k",
                    "model": "claude-sonnet-4-20250514",
                    "service_tier": "standard",
                    "token_type": "output_tokens",
                }
            ],
        }
    ],
    "has_more": False,
    "next_page": None,
}
WINDOW = ("--option", "start=2026-10-01", "--option", "until=2026-10-03")


@pytest.fixture(autouse=True)
def _key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROI_TEST_ADMIN_KEY", KEY)


def test_an_openai_usage_url_writes_its_base_endpoint_and_key_variable(tmp_path: Path) -> None:
    replay = Replay({COMPLETIONS: {None: Reply(PAGE_1), "page_AAAAAGdGxdEC": Reply(PAGE_2)}})
    root = _project(tmp_path)
    with serving(replay) as server:
        done = _connect(
            root,
            f"{server.url}{COMPLETIONS}",
            "--key-env",
            "ROI_TEST_ADMIN_KEY",
            *WINDOW,
            "--option",
            "backoff=0.01",
        )
    assert done["type"] == "openai_usage"
    assert done["why"] == "the OpenAI Usage API (/v1/organization/usage/completions)"
    results = [r for p in (PAGE_1, PAGE_2) for b in p["data"] for r in b["results"]]
    assert done["load"]["rows_loaded"] == len(results)
    assert {s.headers["authorization"] for s in server.seen} == {f"Bearer {KEY}"}
    text, definition = _definition(root, "openai_usage")
    assert definition == {
        "type": "openai_usage",
        "url": server.url,
        "admin_key_env": "ROI_TEST_ADMIN_KEY",
        "options": {
            "endpoints": ["completions"],
            "start": "2026-10-01",
            "until": "2026-10-03",
            "backoff": 0.01,
        },
    }
    assert KEY not in text
    [(tokens,)] = pipeline.query(
        Context(load_project(root)), "SELECT sum(input_tokens) FROM inference_usage"
    ).rows()
    assert tokens == sum(r["input_tokens"] for r in results)


def test_a_base_url_with_its_type_and_the_two_cost_reports(tmp_path: Path) -> None:
    replay = Replay(
        {
            "/v1/organization/costs": [Reply(_costs_page())],
            "/v1/organizations/cost_report": [Reply(ANTHROPIC_COST)],
        }
    )
    root = _project(tmp_path)
    with serving(replay) as server:
        openai = _connect(
            root, server.url, "--type", "openai_costs", "--key-env", "ROI_TEST_ADMIN_KEY", *WINDOW
        )
        anthropic = _connect(
            root,
            f"{server.url}/v1/organizations/cost_report",
            "--key-env",
            "ROI_TEST_ADMIN_KEY",
            *WINDOW,
        )
    assert (openai["type"], openai["why"]) == ("openai_costs", "--type openai_costs")
    assert anthropic["type"] == "anthropic_cost"
    assert {d["summary"]["table"] for d in (openai, anthropic)} == {"provider_invoices"}
    assert anthropic["summary"]["first"] == "2026-10-01"
    assert _definition(root, "anthropic_cost")[1]["url"] == server.url
    got = pipeline.query(
        Context(load_project(root)),
        "SELECT provider, amount FROM provider_invoices ORDER BY provider",
    ).rows()
    assert got == [("anthropic", Decimal("1.2345")), ("openai", Decimal("0.0612345"))]


def test_an_opencost_url_and_the_errors_that_name_the_fix(tmp_path: Path) -> None:
    root = _project(tmp_path)
    with serving(Replay({"/allocation/compute": [Reply(OPENCOST_BODY)]})) as server:
        done = _connect(
            root, f"{server.url}/allocation/compute", *WINDOW[:2], "--option", "until=2026-10-02"
        )
        no_key = _roi(root, "connect", f"{server.url}/v1/organization/costs")
        unset = _roi(
            root, "connect", f"{server.url}/v1/organization/costs", "--key-env", "ROI_TEST_UNSET"
        )
        unknown = _roi(root, "connect", f"{server.url}/something/else")
    assert done["type"] == "opencost" and done["summary"]["table"] == "gpu_usage"
    assert done["load"]["rows_loaded"] > 0
    assert _definition(root, "opencost")[1]["url"] == server.url
    assert no_key.exit_code == 1 and "--key-env VAR" in no_key.output
    assert unset.exit_code == 1 and "ROI_TEST_UNSET" in unset.output
    assert unknown.exit_code == 1 and "--type" in unknown.output
    assert [p.name for p in (root / "connectors").iterdir()] == ["opencost.toml"]


def test_opencost_inference_cost_url_and_saved_response(tmp_path: Path) -> None:
    from tests.connectors.test_opencost_inference import BODY as INFERENCE_BODY

    root = _project(tmp_path)
    with serving(Replay({"/inferenceCost/timeseries": [Reply(INFERENCE_BODY)]})) as server:
        done = _connect(root, f"{server.url}/inferenceCost/timeseries", *WINDOW)
    assert (done["type"], done["summary"]["table"]) == ("opencost_inference", "inference_costs")
    assert done["why"] == "the OpenCost inference-cost API (/inferenceCost/timeseries)"
    saved = tmp_path / "inference.json"
    saved.write_text(json.dumps(INFERENCE_BODY))
    again = _connect(root, str(saved))
    assert again["type"] == "opencost_inference" and again["load"]["rows_loaded"] == 3
