"""Readers keep working while a long load runs: it holds the warehouse only to commit."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.helpers import roi_cli

pytestmark = [pytest.mark.faults, pytest.mark.slow]


def test_queries_answer_during_a_multi_million_line_load(tmp_path: Path) -> None:
    data = tmp_path / "focus"
    roi = [sys.executable, "-m", "roi"]
    subprocess.run(
        [*roi, "sample", "--rows", "3000000", "--out", str(data), "--quiet"],
        check=True,
        capture_output=True,
    )
    warehouse_file = tmp_path / "w.duckdb"
    common = ["--project", str(tmp_path), "--warehouse", str(warehouse_file), "--quiet"]
    first = roi_cli("ingest", "focus", str(data / "azure"), *common, "--format", "json")
    assert first.returncode == 0, first.stderr
    before = json.loads(first.stdout)[0]["rows_loaded"]

    started = time.monotonic()
    loader = subprocess.Popen(
        [*roi, "ingest", "focus", str(data / "aws"), *common, "--format", "json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    attempts: list[tuple[float, int, str]] = []
    while loader.poll() is None:
        result = roi_cli(
            "query",
            "SELECT count(*) AS n FROM cost_lines",
            *common,
            "--wait",
            "0",
            "--format",
            "json",
        )
        attempts.append((time.monotonic() - started, result.returncode, result.stdout))
    out, err = loader.communicate()
    assert loader.returncode == 0, err
    loaded = json.loads(out)[0]["rows_loaded"]
    assert loaded > 2_000_000

    answered = [a for a in attempts if a[1] == 0]
    assert len(attempts) >= 5, attempts
    # A reader that does not wait at all is answered in at least 80% of the load's time ...
    assert len(answered) / len(attempts) >= 0.8, attempts
    # ... and sees the warehouse before or after the load, never half of it.
    seen = {json.loads(a[2])[0]["n"] for a in answered}
    assert seen <= {before, before + loaded}, (seen, before, loaded)
    final = roi_cli("query", "SELECT count(*) AS n FROM cost_lines", *common, "--format", "json")
    assert json.loads(final.stdout)[0]["n"] == before + loaded
