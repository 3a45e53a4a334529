"""LiteLLM's own PostgreSQL database on this machine: `LiteLLM_SpendLogs` (and a daily spend
table) created with LiteLLM's column names and types, loaded twice incrementally."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from roi import pipeline
from roi.config import load_project
from roi.context import Context
from tests.conftest import missing

pytestmark = pytest.mark.service

SERVER = "postgresql://postgres@127.0.0.1:5432"
OVERLAP = timedelta(seconds=600)  # the connector's default overlap_seconds
# LiteLLM's table as its Prisma migrations create it (timestamp(3) without time zone, jsonb).
SPEND_LOGS = """
CREATE TABLE "LiteLLM_SpendLogs" (
    "request_id" TEXT NOT NULL, "call_type" TEXT NOT NULL, "api_key" TEXT NOT NULL DEFAULT '',
    "spend" DOUBLE PRECISION NOT NULL DEFAULT 0.0, "total_tokens" INTEGER NOT NULL DEFAULT 0,
    "prompt_tokens" INTEGER NOT NULL DEFAULT 0, "completion_tokens" INTEGER NOT NULL DEFAULT 0,
    "startTime" TIMESTAMP(3) NOT NULL, "endTime" TIMESTAMP(3) NOT NULL,
    "completionStartTime" TIMESTAMP(3), "model" TEXT NOT NULL DEFAULT '',
    "model_id" TEXT DEFAULT '', "model_group" TEXT DEFAULT '', "custom_llm_provider" TEXT DEFAULT '',
    "api_base" TEXT DEFAULT '', "user" TEXT DEFAULT '', "metadata" JSONB DEFAULT '{}',
    "cache_hit" TEXT DEFAULT '', "cache_key" TEXT DEFAULT '', "request_tags" JSONB DEFAULT '[]',
    "team_id" TEXT, "end_user" TEXT, "requester_ip_address" TEXT, "messages" JSONB DEFAULT '{}',
    "response" JSONB DEFAULT '{}', "session_id" TEXT, "status" TEXT,
    "proxy_server_request" JSONB DEFAULT '{}',
    CONSTRAINT "LiteLLM_SpendLogs_pkey" PRIMARY KEY ("request_id"));
CREATE INDEX "LiteLLM_SpendLogs_startTime_idx" ON "LiteLLM_SpendLogs"("startTime");
CREATE TABLE "LiteLLM_DailyTeamSpend" (
    "id" TEXT NOT NULL, "team_id" TEXT NOT NULL, "date" TEXT NOT NULL, "api_key" TEXT NOT NULL,
    "model" TEXT NOT NULL, "model_group" TEXT, "custom_llm_provider" TEXT,
    "prompt_tokens" INTEGER NOT NULL DEFAULT 0, "completion_tokens" INTEGER NOT NULL DEFAULT 0,
    "cache_read_input_tokens" INTEGER NOT NULL DEFAULT 0,
    "cache_creation_input_tokens" INTEGER NOT NULL DEFAULT 0,
    "spend" DOUBLE PRECISION NOT NULL DEFAULT 0.0, "api_requests" INTEGER NOT NULL DEFAULT 0,
    "successful_requests" INTEGER NOT NULL DEFAULT 0, "failed_requests" INTEGER NOT NULL DEFAULT 0,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL,
    CONSTRAINT "LiteLLM_DailyTeamSpend_pkey" PRIMARY KEY ("id"));
"""


def spend_row(n: int, day: int, spend: float, cached: int) -> dict[str, Any]:
    """One request as LiteLLM logs it."""
    return {
        "request_id": f"chatcmpl-{n:04d}",
        "call_type": "acompletion",
        "api_key": "88dc28d0f030c55ed4ab77ed8faf098196cb1c05df778539800c9f1243fe6b4b",
        "spend": round(spend, 6),
        "prompt_tokens": 1_000 + n,
        "completion_tokens": 200 + n,
        "startTime": f"2026-10-{day:02d} 08:{n % 60:02d}:00.250",
        "endTime": f"2026-10-{day:02d} 08:{n % 60:02d}:02.000",
        "model": "gpt-4o-2024-08-06",
        "model_group": "gpt-4o",
        "custom_llm_provider": "openai",
        "metadata": json.dumps(
            {
                "user_api_key_team_alias": "support",
                "spend_logs_metadata": {"model_portfolio_id": "support-assistant"},
                "additional_usage_values": {"prompt_tokens_details": {"cached_tokens": cached}},
            }
        ),
        "request_tags": json.dumps(["feature:triage"]),
        "status": "success",
    }


@pytest.fixture
def litellm_db() -> Iterator[str]:
    """A fresh database with LiteLLM's tables: its DSN."""
    import psycopg

    name = f"roi_litellm_{uuid.uuid4().hex[:10]}"
    try:
        admin = psycopg.connect(f"{SERVER}/postgres", autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        missing(f"PostgreSQL is not reachable at 127.0.0.1:5432 ({exc})")
        raise
    admin.execute(f'CREATE DATABASE "{name}"')
    try:
        with psycopg.connect(f"{SERVER}/{name}", autocommit=True) as conn:
            conn.execute(SPEND_LOGS)
        yield f"{SERVER}/{name}"
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def insert(dsn: str, rows: list[dict[str, Any]]) -> None:
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as conn:
        for row in rows:
            columns = ", ".join(f'"{c}"' for c in row)
            marks = ", ".join("%s" for _ in row)
            conn.execute(
                f'INSERT INTO "LiteLLM_SpendLogs" ({columns}) VALUES ({marks})', list(row.values())
            )


def _project(tmp_path: Path, table: str = "spend_logs") -> Path:
    root = tmp_path / "p"
    (root / "connectors").mkdir(parents=True)
    (root / "roi.toml").write_text('[project]\nname = "litellm"\n')
    (root / "connectors/litellm_db.toml").write_text(
        f'type = "litellm_postgres"\ndsn_env = "ROI_TEST_LITELLM_DSN"\n\n[options]\n'
        f'table = "{table}"\n'
    )
    return root


def test_spend_logs_load_incrementally_by_start_time(
    litellm_db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ROI_TEST_LITELLM_DSN", litellm_db)
    first = [spend_row(n, 1 + n // 4, 0.0021 * n + 0.00037, 64 * n) for n in range(1, 9)]
    insert(litellm_db, first)
    ctx = Context(load_project(_project(tmp_path)))
    [one] = pipeline.load(ctx)
    assert (one.rows_extracted, one.rows_loaded) == (len(first), len(first))

    later = [spend_row(n, 10 + n // 4, 0.0017 * n, 32 * n) for n in range(9, 14)]
    insert(litellm_db, later)
    [two] = pipeline.load(ctx)
    # Only the new rows, and those of the first load within the overlap (600 s) before its
    # latest request: LiteLLM writes a request when it ends, so an earlier start can come late.
    latest = max(datetime.fromisoformat(r["startTime"]) for r in first)
    overlap = [r for r in first if datetime.fromisoformat(r["startTime"]) > latest - OVERLAP]
    assert len(overlap) < len(first)
    assert two.rows_extracted == len(later) + len(overlap)
    assert two.rows_loaded - two.rows_replaced == len(later)

    rows = first + later
    got = pipeline.query(
        ctx,
        "SELECT count(*), sum(cost), sum(input_tokens), sum(cached_input_tokens), "
        "sum(output_tokens), min(model_id), min(feature), min(team) FROM inference_usage",
    ).rows()[0]
    assert got[0] == len(rows)
    assert got[1] == sum(Decimal(repr(r["spend"])) for r in rows)
    assert got[2:5] == (
        sum(r["prompt_tokens"] for r in rows),
        sum(64 * n for n in range(1, 9)) + sum(32 * n for n in range(9, 14)),
        sum(r["completion_tokens"] for r in rows),
    )
    assert got[5:] == ("support-assistant", "triage", "support")
    before = pipeline.query(
        ctx, "SELECT * EXCLUDE (_load_id, source_row) FROM inference_usage ORDER BY 1"
    )
    pipeline.load(ctx)  # nothing new: the rows re-read merge onto themselves
    after = pipeline.query(
        ctx, "SELECT * EXCLUDE (_load_id, source_row) FROM inference_usage ORDER BY 1"
    )
    assert after.rows() == before.rows()


def test_a_daily_spend_table_loads_its_aggregates(
    litellm_db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import psycopg

    days = [("2026-10-01", 410, 0.7315), ("2026-10-02", 388, 0.69)]
    with psycopg.connect(litellm_db, autocommit=True) as conn:
        for n, (day, requests, spend) in enumerate(days):
            conn.execute(
                'INSERT INTO "LiteLLM_DailyTeamSpend" (id, team_id, date, api_key, model, '
                "model_group, custom_llm_provider, prompt_tokens, completion_tokens, "
                "cache_read_input_tokens, spend, api_requests, updated_at) VALUES "
                "(%s, 'team-support', %s, 'hashed', 'gpt-4o', 'gpt-4o', 'openai', %s, %s, %s, "
                "%s, %s, %s)",
                [
                    str(uuid.uuid4()),
                    day,
                    90_000 + n,
                    12_000,
                    30_000,
                    spend,
                    requests,
                    f"{day} 23:59:00",
                ],
            )
    monkeypatch.setenv("ROI_TEST_LITELLM_DSN", litellm_db)
    ctx = Context(load_project(_project(tmp_path, "daily_team")))
    pipeline.load(ctx)
    got = pipeline.query(
        ctx,
        "SELECT sum(requests), sum(cost), min(team), min(ts)::DATE::VARCHAR FROM inference_usage",
    ).rows()[0]
    assert got == (
        sum(d[1] for d in days),
        sum(Decimal(repr(d[2])) for d in days),
        "team-support",
        "2026-10-01",
    )


def test_a_refused_connection_names_the_server_not_the_password(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from roi.errors import SourceError
    from tests.replay import free_port

    monkeypatch.setenv(
        "ROI_TEST_LITELLM_DSN", f"postgresql://litellm:hunter2@127.0.0.1:{free_port()}/litellm"
    )
    with pytest.raises(SourceError) as caught:
        pipeline.load(Context(load_project(_project(tmp_path))))
    message = str(caught.value)
    assert message.startswith("cannot connect to postgresql://127.0.0.1:")
    assert "hunter2" not in message and "dsn_env" in message
