"""The sample project's figures, as a stored snapshot: a refactoring changes none of them.

Every contract table (loaded, attribution, value, scenario runs), the report's HTML and the
Excel pack's cell values are reduced to digests, leaving out only what differs between two
runs of the same inputs (load and attribution ids, times). A change of behaviour updates the
snapshot on purpose: `ROI_UPDATE_SNAPSHOT=1 pytest tests/test_snapshot.py`, and the commit says
which figures moved and why.

Floating-point figures (regressions, simulations, forecasts) differ in their last digits from
one CPU or numerical library to another (OpenBLAS picks its kernels by CPU; SciPy's t quantiles
moved by 1e-11 between 1.16 and 1.17), so they are not hashed: each float column (a sheet's or
a JSON column's floats) is summarised by its count, sum, sum of magnitudes and a sum weighted
by row position, compared to a relative 1e-6. Everything else (text, dates, decimals, whole
numbers) is hashed exactly. Scenario run ids digest the figures a run read, floats included,
so they are volatile too, as is the warehouse content digest in a run's inputs
(`tests/test_reuse.py` checks that ids repeat on one machine).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
from collections.abc import Iterable
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
VOLATILE_BY_TABLE = {"_attributed_months": {"inputs"}, "scenario_runs": {"run_id"}}
# JSON columns whose numbers are figures, compared apart from the table.
JSON_FIGURES = {"scenario_runs": ("inputs", "outputs")}
# A load or attribution id (20261205T040048649243Z-a488b2da), a scenario run id (it digests
# float figures: scn-2a382229fc96c725) and a generation time.
VOLATILE_TEXT = re.compile(
    r"\d{8}T\d{6}\d*Z-[0-9a-f]{8}|scn-[0-9a-f]{16}"
    r"|generated \d{4}-\d{2}-\d{2} \d{2}:\d{2}(:\d{2})? UTC"
    r"|\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(\+00:00|Z)?"
)
# A run's inputs digest the warehouse's content, floats included (`roi.scenarios.runs`).
VOLATILE_KEYS = frozenset({"warehouse_content"})
FLOAT = "<float>"  # where a float stood in the hashed text
RELATIVE = 1e-6
# Figures an optimiser fits (the forecast's damped-trend ETS: L-BFGS-B on a flat likelihood)
# stop at slightly different parameters from one CPU to another: with the same libraries, the
# sample's forecast sheet moved by 0.2% between an AMD EPYC and an Intel Xeon. Those figures
# (the forecast runs, the pack's Forecast sheet, the report's forecast section) are compared to
# 1%; tests/scenarios checks the method itself (band coverage, statsmodels' own figures).
FITTED = 1e-2
FITTED_PATHS = (
    ("scenario_runs.outputs", "floats", "forecast"),
    ("pack", "Forecast"),
    ("report_html", "forecast"),
)
# A number as the report writes it: 1,234.56, −8.1 (a real minus sign), 12.
NUMBER = re.compile(r"[−-]?\d[\d,]*(?:\.\d+)?")


def float_summary(values: list[float]) -> list[float]:
    """[count, NaN count, sum, sum of magnitudes, sum weighted by position] of floats in a
    stable order: what a column of floats is compared by."""
    finite = [v for v in values if not math.isnan(v)]
    return [
        float(len(values)),
        float(len(values) - len(finite)),
        math.fsum(finite),
        math.fsum(abs(v) for v in finite),
        math.fsum(v * (i + 1) for i, v in enumerate(finite)),
    ]


def _sha(lines: Iterable[str]) -> str:
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


def _table_digest(con: warehouse.Connection, table: str) -> dict[str, Any]:
    columns = [
        (name, kind)
        for name, kind in warehouse.table_columns(con, table).items()
        if name not in VOLATILE_COLUMNS | VOLATILE_BY_TABLE.get(table, set())
        and name not in JSON_FIGURES.get(table, ())
    ]
    exact = [n for n, k in columns if k not in ("DOUBLE", "FLOAT")]
    floats = [n for n, k in columns if k in ("DOUBLE", "FLOAT")]
    cells = ", ".join(f"coalesce(CAST(\"{n}\" AS VARCHAR), '∅')" for n in exact) or "''"
    picked = "".join(f', "{n}"' for n in floats)
    rows = warehouse.fetch_all(con, f"SELECT concat_ws('|', {cells}) AS r{picked} FROM {table}")
    # Rows in the order of their exact text, then their floats: noise never reorders rows that
    # differ in anything but a float.
    rows.sort(key=lambda r: (str(r[0]), [(v is None, v or 0.0) for v in r[1:]]))
    digest: dict[str, Any] = {
        "rows": len(rows),
        "sha256": _sha(
            str(r[0]) + "|" + "|".join("∅" if v is None else FLOAT for v in r[1:]) for r in rows
        ),
    }
    if floats:
        digest["floats"] = {
            name: float_summary([float(r[i + 1]) for r in rows if r[i + 1] is not None])
            for i, name in enumerate(floats)
        }
    return digest


def _without_floats(value: Any, found: list[float]) -> Any:
    """`value` (parsed JSON) with each float replaced by FLOAT and appended to `found`."""
    if isinstance(value, float):
        found.append(value)
        return FLOAT
    if isinstance(value, dict):
        return {
            k: "<volatile>" if k in VOLATILE_KEYS else _without_floats(value[k], found)
            for k in sorted(value)
        }
    if isinstance(value, list):
        return [_without_floats(v, found) for v in value]
    return VOLATILE_TEXT.sub("<volatile>", value) if isinstance(value, str) else value


def _json_digest(con: warehouse.Connection, table: str, column: str) -> dict[str, Any]:
    """The JSON documents' shape hashed; their floats summarised per command (`forecast`...)."""
    documents = []
    sql = f"SELECT split_part(command, ' ', 1), \"{column}\" FROM {table}"
    for command, text in warehouse.fetch_all(con, sql):
        floats: list[float] = []
        shape = json.dumps(_without_floats(json.loads(str(text)), floats), sort_keys=True)
        documents.append((shape, str(command), floats))
    documents.sort()
    commands = sorted({command for _, command, _ in documents})
    return {
        "sha256": _sha(shape for shape, _, _ in documents),
        "floats": {
            c: float_summary([v for _, command, fs in documents if command == c for v in fs])
            for c in commands
        },
    }


def _html_digest(text: str) -> dict[str, Any]:
    """The report's text hashed exactly, but for the numbers of its forecast section, which
    are summarised like floats (fitted figures, `FITTED`)."""
    text = VOLATILE_TEXT.sub("<volatile>", text)
    head, mark, rest = text.partition('<section id="forecast"')
    section, end, tail = rest.partition("</section>")
    numbers = [float(n.replace(",", "").replace("−", "-")) for n in NUMBER.findall(section)]
    shown = head + mark + NUMBER.sub("<n>", section) + end + tail
    return {"sha256": _sha([shown]), "forecast": float_summary(numbers)}


def _cell(value: object, floats: list[float]) -> str:
    if isinstance(value, float):
        floats.append(value)
        return FLOAT
    if isinstance(value, datetime | date):
        timed = isinstance(value, datetime) and value.time() != datetime.min.time()
        return "<volatile>" if timed else str(value)  # a load time, not a figure
    return VOLATILE_TEXT.sub("<volatile>", str(value))


def _workbook_digest(path: Path) -> dict[str, Any]:
    import openpyxl

    book = openpyxl.load_workbook(path, data_only=True)
    sheets: dict[str, Any] = {}
    for sheet in book.worksheets:
        floats: list[float] = []
        rows = [
            "|".join(_cell(c, floats) for c in row) for row in sheet.iter_rows(values_only=True)
        ]
        sheets[sheet.title] = {"sha256": _sha(rows), "floats": float_summary(floats)}
    return sheets


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
    digests["report_html"] = _html_digest(html.read_text(encoding="utf-8"))
    digests["pack"] = _workbook_digest(pack)
    return digests


def same(stored: Any, found: Any, path: tuple[str, ...] = ()) -> bool:
    """Whether two digests agree: floats within RELATIVE (FITTED under `FITTED_PATHS`; or 1e-9
    of zero), the rest exactly. `path` is the keys that lead to them."""
    if isinstance(stored, dict) and isinstance(found, dict):
        return stored.keys() == found.keys() and all(
            same(stored[k], found[k], (*path, k)) for k in stored
        )
    if isinstance(stored, list) and isinstance(found, list):
        return len(stored) == len(found) and all(
            same(a, b, path) for a, b in zip(stored, found, strict=True)
        )
    if isinstance(stored, float) and isinstance(found, float):
        fitted = any(path[: len(p)] == p for p in FITTED_PATHS)
        return math.isclose(stored, found, rel_tol=FITTED if fitted else RELATIVE, abs_tol=1e-9)
    return bool(stored == found)


def test_float_noise_is_the_same_and_a_moved_figure_is_not() -> None:
    figures = [120.5, -3.25, 0.1 + 0.2, 1e-12]
    noisy = [v * (1 + 1e-11) for v in figures]
    swapped = [figures[1], figures[0], *figures[2:]]
    assert same(float_summary(figures), float_summary(noisy))
    assert not same(float_summary(figures), float_summary(swapped))  # two values moved
    assert not same(float_summary(figures), float_summary([*figures[:3], 1.0]))
    assert not same(
        {"a": "x", "f": float_summary(figures)}, {"a": "y", "f": float_summary(figures)}
    )
    found: list[float] = []
    run = {"b": [1.5, 2], "a": "scn-2a382229fc96c725", "warehouse_content": "4306f0553da3"}
    shape = _without_floats(run, found)
    assert shape == {"a": "<volatile>", "b": [FLOAT, 2], "warehouse_content": "<volatile>"}
    assert found == [1.5]


def test_fitted_figures_may_move_by_a_fraction_of_a_percent_and_no_others() -> None:
    figures = [7_088_530.17, 1_032.15, 5.5]
    refitted = float_summary([v * 1.002 for v in figures])
    stored = {"pack": {"Forecast": {"floats": float_summary(figures)}}}
    assert same(stored, {"pack": {"Forecast": {"floats": refitted}}})
    assert not same(stored, {"pack": {"Forecast": {"floats": float_summary([0.0, 0, 0])}}})
    assert not same(
        {"pack": {"Costs": stored["pack"]["Forecast"]}}, {"pack": {"Costs": {"floats": refitted}}}
    )
    page = (
        '<section id="risk"><td>2,796,592.63</td></section>'
        '<section id="forecast"><td>7,088,530</td><td>−1,032.15</td></section>'
    )
    digest = _html_digest(page)
    assert digest["forecast"] == float_summary([7_088_530.0, -1_032.15])
    moved = _html_digest(page.replace("7,088,530", "7,076,215"))
    assert moved["sha256"] == digest["sha256"]
    assert same({"report_html": digest}, {"report_html": moved}, ())
    other = _html_digest(page.replace("2,796,592.63", "2,796,592.64"))  # not a fitted figure
    assert other["sha256"] != digest["sha256"]


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
    changed = sorted(
        k for k in stored.keys() | found.keys() if not same(stored.get(k), found.get(k), (k,))
    )
    assert not changed, f"the sample's figures changed in: {changed}"
