"""Compiled fold SQL kept on disk: a fold run in a new process does not import Ibis, the SQL is
the one compiling gives, and a key changes with what the query was compiled from."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from roi.fold import kept
from roi.fold.engines import fold_sql, pool_usage_sql
from roi.fold.requests import Requests
from tests.conftest import REPO

FOLD = """
import json, sys
from datetime import date
from roi.fold.engines import fold_sql, pool_usage_sql
from roi.fold.requests import Requests
queries = [
    fold_sql("duckdb", "billing_period", (date(2026, 9, 1), date(2026, 10, 1)), tags_map=False),
    pool_usage_sql("duckdb", Requests(("openai",), None), date(2026, 10, 1)),
]
print(json.dumps({"ibis": "ibis" in sys.modules, "queries": queries}))
"""


def _fold_in_new_process(folder: Path) -> dict[str, object]:
    environment = {**os.environ, "ROI_SQL_CACHE": str(folder), "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        [sys.executable, "-c", FOLD], env=environment, capture_output=True, text=True, check=True
    )
    found: dict[str, object] = json.loads(done.stdout)
    return found


def test_a_second_process_runs_the_kept_sql_without_importing_ibis(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = _fold_in_new_process(tmp_path)
    assert first["ibis"] is True  # compiled: Ibis was needed
    assert len(list(tmp_path.glob("*.json"))) == 2
    second = _fold_in_new_process(tmp_path)
    assert second["ibis"] is False
    assert second["queries"] == first["queries"]
    # What compiling gives here (no cache) is the same text.
    monkeypatch.setenv("ROI_SQL_CACHE", "off")
    fresh = [
        fold_sql.__wrapped__(
            "duckdb", "billing_period", (date(2026, 9, 1), date(2026, 10, 1)), tags_map=False
        ),
        pool_usage_sql.__wrapped__("duckdb", Requests(("openai",), None), date(2026, 10, 1)),
    ]
    assert fresh == second["queries"]


def test_the_key_follows_the_function_its_arguments_and_the_code(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    one = kept._key("fold_sql", (("engine", "duckdb"), ("months", date(2026, 10, 1))))
    assert one == kept._key("fold_sql", (("engine", "duckdb"), ("months", date(2026, 10, 1))))
    assert one != kept._key("fold_sql", (("engine", "spark"), ("months", date(2026, 10, 1))))
    assert one != kept._key("fold_sql", (("engine", "duckdb"), ("months", date(2026, 9, 1))))
    assert one != kept._key("totals_sql", (("engine", "duckdb"), ("months", date(2026, 10, 1))))
    monkeypatch.setattr(kept, "code_fingerprint", lambda: "an edited roi")
    assert one != kept._key("fold_sql", (("engine", "duckdb"), ("months", date(2026, 10, 1))))


def test_defaults_and_keywords_name_the_same_query(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ROI_SQL_CACHE", str(tmp_path))
    calls: list[tuple[str, int]] = []

    @kept.kept
    def compile_sql(engine: str, size: int = 1) -> str:
        calls.append((engine, size))
        return f"SELECT {size} -- {engine}"

    assert compile_sql("duckdb") == compile_sql("duckdb", 1) == compile_sql("duckdb", size=1)
    assert compile_sql("duckdb", 2) == "SELECT 2 -- duckdb"
    assert calls == [("duckdb", 1), ("duckdb", 2)]


def test_a_damaged_or_unwritable_cache_only_means_compiling_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ROI_SQL_CACHE", str(tmp_path))
    calls: list[str] = []

    @kept.kept
    def compile_sql(engine: str) -> tuple[str, ...]:
        calls.append(engine)
        return ("SELECT 1", "SELECT 2")

    assert compile_sql("duckdb") == ("SELECT 1", "SELECT 2")
    [written] = tmp_path.glob("*.json")
    written.write_text('{"not": "sql"}', encoding="utf-8")
    assert compile_sql("duckdb") == ("SELECT 1", "SELECT 2")
    assert calls == ["duckdb", "duckdb"]
    assert json.loads(written.read_text(encoding="utf-8")) == ["SELECT 1", "SELECT 2"]

    blocked = tmp_path / "a-file"
    blocked.write_text("", encoding="utf-8")
    monkeypatch.setenv("ROI_SQL_CACHE", str(blocked / "sql"))  # a folder under a file
    assert compile_sql("duckdb") == ("SELECT 1", "SELECT 2")
    monkeypatch.setenv("ROI_SQL_CACHE", "off")
    assert compile_sql("duckdb") == ("SELECT 1", "SELECT 2")
    assert calls == ["duckdb"] * 4
