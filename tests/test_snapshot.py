"""The sample project's figures, as a stored snapshot: a refactoring changes none of them.

Every contract table (loaded, attribution, value, scenario runs), the report's HTML and the
Excel pack's cell values are reduced to a digest, leaving out only what differs between two
runs of the same inputs (load and attribution ids, times). A change of behaviour updates the
snapshot on purpose: `ROI_UPDATE_SNAPSHOT=1 pytest tests/test_snapshot.py`, and the commit says
which figures moved and why.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest

from roi import warehouse
from roi.config import ProjectConfig
from roi.tables import ATTRIBUTION_TABLES, LOADED_TABLES, SCENARIO_TABLES, VALUE_TABLES
from tests.conftest import REPO

SNAPSHOT = REPO / "tests/snapshots/sample.json"
VOLATILE_COLUMNS = {"_load_id", "load_id", "load_ids", "attribution_id", "created_at"}
# `_attributed_months.inputs` digests the load ids a month came from: new ids on every build.
VOLATILE_BY_TABLE = {"_attributed_months": {"inputs"}, "scenario_runs": {"inputs", "outputs"}}
# JSON columns whose numbers are figures: compared to 9 significant digits, like floats.
JSON_FIGURES = {"scenario_runs": ("inputs", "outputs")}
# A load or attribution id (20261205T040048649243Z-a488b2da) and a generation time.
VOLATILE_TEXT = re.compile(
    r"\d{8}T\d{6}\d*Z-[0-9a-f]{8}|generated \d{4}-\d{2}-\d{2} \d{2}:\d{2}(:\d{2})? UTC"
    r"|\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(\+00:00|Z)?"
)


def _table_digest(con: warehouse.Connection, table: str) -> dict[str, Any]:
    columns = [
        (name, kind)
        for name, kind in warehouse.table_columns(con, table).items()
        if name not in VOLATILE_COLUMNS | VOLATILE_BY_TABLE.get(table, set())
    ]
    cells = [
        f"coalesce(printf('%.9g', \"{name}\"), '∅')"
        if kind in ("DOUBLE", "FLOAT")
        else f"coalesce(CAST(\"{name}\" AS VARCHAR), '∅')"
        for name, kind in columns
    ]
    rows, digest = warehouse.fetch_one(
        con,
        f"""SELECT count(*), coalesce(sha256(string_agg(r, chr(10) ORDER BY r)), '')
            FROM (SELECT concat_ws('|', {", ".join(cells)}) AS r FROM {table})""",
    )
    return {"rows": int(rows), "sha256": str(digest)}


def _rounded(value: Any) -> Any:
    if isinstance(value, float):
        return f"{value:.9g}"
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_rounded(v) for v in value]
    return value


def _json_digest(con: warehouse.Connection, table: str, column: str) -> str:
    texts = sorted(
        json.dumps(_rounded(json.loads(str(row[0]))), sort_keys=True)
        for row in warehouse.fetch_all(con, f'SELECT "{column}" FROM {table}')
    )
    return hashlib.sha256("\n".join(texts).encode()).hexdigest()


def _text_digest(text: str) -> str:
    return hashlib.sha256(VOLATILE_TEXT.sub("<volatile>", text).encode()).hexdigest()


def _cell(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.9g}"
    if isinstance(value, datetime | date):
        timed = isinstance(value, datetime) and value.time() != datetime.min.time()
        return "<volatile>" if timed else str(value)  # a load time, not a figure
    return VOLATILE_TEXT.sub("<volatile>", str(value))


def _workbook_digest(path: Path) -> dict[str, str]:
    import openpyxl

    book = openpyxl.load_workbook(path, data_only=True)
    return {
        sheet.title: hashlib.sha256(
            "\n".join(
                "|".join(_cell(c) for c in row) for row in sheet.iter_rows(values_only=True)
            ).encode()
        ).hexdigest()
        for sheet in book.worksheets
    }


def sample_snapshot(project: ProjectConfig) -> dict[str, Any]:
    """Digests of the sample project's tables, report and pack after `roi run`."""
    tables = [t.name for t in (*LOADED_TABLES, *ATTRIBUTION_TABLES, *VALUE_TABLES)]
    tables += [t.name for t in SCENARIO_TABLES]
    with warehouse.open_warehouse(project.warehouse_path, read_only=True) as con:
        digests: dict[str, Any] = {t: _table_digest(con, t) for t in sorted(tables)}
        for table, columns in JSON_FIGURES.items():
            for column in columns:
                digests[f"{table}.{column}"] = _json_digest(con, table, column)
    out = project.reports_out
    [html] = sorted(out.glob("monthly_finance_*.html"))
    [pack] = sorted(out.glob("executive_pack_*.xlsx"))
    digests["report_html"] = _text_digest(html.read_text(encoding="utf-8"))
    digests["pack"] = _workbook_digest(pack)
    return digests


@pytest.mark.slow
def test_the_sample_figures_equal_the_stored_snapshot(loaded_project: ProjectConfig) -> None:
    found = sample_snapshot(loaded_project)
    if os.environ.get("ROI_SNAPSHOT_DUMP"):  # to see what moved: two dumps, then diff them
        dump = Path(os.environ["ROI_SNAPSHOT_DUMP"])
        dump.mkdir(parents=True, exist_ok=True)
        for path in loaded_project.reports_out.glob("*_2*.*"):
            if path.suffix in (".html", ".xlsx"):
                (dump / path.name).write_bytes(path.read_bytes())
    if os.environ.get("ROI_UPDATE_SNAPSHOT") == "1":
        SNAPSHOT.write_text(json.dumps(found, indent=1, sort_keys=True) + "\n")
    stored = json.loads(SNAPSHOT.read_text())
    changed = sorted(k for k in stored.keys() | found.keys() if stored.get(k) != found.get(k))
    assert not changed, f"the sample's figures changed in: {changed}"
