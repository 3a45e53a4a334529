"""`--format json` fits finance: every money field is a decimal string equal to the warehouse's
figure (read here independently, with duckdb on the file), ROI a decimal string, counts are
integers, and no binary float noise anywhere."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest

from roi.config import ProjectConfig
from roi.documents import measure, plain
from tests.cli.conftest import FOCUS_SAMPLE, invoke
from tests.conftest import shared_file

CENT = Decimal("0.01")


def _json(root: Path, *command: str) -> Any:
    code, out, err = invoke(*command, "--project", str(root), "--format", "json", "-q")
    assert code == 0, (command, err)
    return json.loads(out)


def _sql(root: Path, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    con = duckdb.connect(str(root / "roi.duckdb"), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def _fields(document: Any, key: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(document, dict):
        for k, v in document.items():
            yield from _fields(v, str(k))
    elif isinstance(document, list):
        for v in document:
            yield from _fields(v, key)
    else:
        yield key, document


def _check_contract(document: Any) -> None:
    """Money and ROI are decimal strings; counts integers; no float with binary noise."""
    for key, value in _fields(document):
        if value is None or isinstance(value, bool):
            continue
        if measure(key) in ("money", "roi") and not isinstance(value, int):
            assert isinstance(value, str), (key, value)
            Decimal(value)  # parses
            assert "e" not in value.lower(), (key, value)
        elif isinstance(value, float):
            assert len(Decimal(repr(value)).as_tuple().digits) <= 12, (key, value)
        if key.startswith(("rows_", "files", "loads", "months", "conflicts")) or key.endswith(
            ("_rows", "_lines", "_files", "_months")
        ):
            assert isinstance(value, int), (key, value)


def _cent(value: float) -> Decimal:
    return Decimal(repr(value)).quantize(CENT)


def test_portfolio_money_is_the_warehouse_pnl_to_the_cent(loaded_project: ProjectConfig) -> None:
    root = loaded_project.root
    rows = _json(root, "portfolio", "--month", "2026-10")
    _check_contract(rows)
    stored = {
        r[0]: r[1:]
        for r in _sql(
            root,
            "SELECT model_id, cost, value, value_low, value_high, net, roi FROM model_roi "
            "WHERE month = DATE '2026-10-01'",
        )
    }
    assert stored
    for row in rows[:-1]:
        cost, value, low, high, net, roi = stored[row["model_id"]]
        assert Decimal(row["cost"]) == _cent(cost)
        for name, figure in (("value", value), ("value_low", low), ("value_high", high)):
            assert row[name] == (None if figure is None else row[name])
            if figure is not None:
                assert Decimal(row[name]) == _cent(figure)
        if net is not None:
            assert Decimal(row["net"]) == _cent(net)
            assert Decimal(row["roi"]) == Decimal(repr(roi)).quantize(Decimal("0.0001"))
    total = rows[-1]
    assert total["model_id"] == "TOTAL"
    [(cost,)] = _sql(root, "SELECT sum(cost) FROM model_roi WHERE month = DATE '2026-10-01'")
    assert Decimal(total["cost"]) == _cent(cost)


def test_reconcile_money_is_the_exact_decimal_of_the_bills(loaded_project: ProjectConfig) -> None:
    root = loaded_project.root
    document = _json(root, "reconcile")
    _check_contract(document)
    bills = {
        r[0]: r[1:]
        for r in _sql(
            root,
            "SELECT date_trunc('month', billing_period_start)::DATE, sum(billed_cost), "
            "sum(effective_cost) FROM cost_lines GROUP BY 1",
        )
    }
    assert len(document["months"]) == len(bills) == 24
    for row in document["months"]:
        billed, effective = bills[date.fromisoformat(row["month"])]
        assert Decimal(row["billed"]) == billed and Decimal(row["effective"]) == effective
        parts = ("direct", "shared", "amortized", "idle", "unallocated")
        assert sum(Decimal(row[p]) for p in parts) == effective  # to the last decimal
        assert Decimal(row["difference"]) == 0


def test_explain_and_query_money_is_the_exact_decimal(loaded_project: ProjectConfig) -> None:
    root = loaded_project.root
    document = _json(root, "explain", "fraud-detection", "--month", "2026-10")
    _check_contract(document)
    for key, month in (("before", "2026-09-01"), ("after", "2026-10-01")):
        [(amount,)] = _sql(
            root,
            "SELECT sum(amount) FROM model_costs WHERE model_id = 'fraud-detection' AND month = ?",
            [month],
        )
        assert Decimal(document[key]) == amount
    assert Decimal(document["change"]) == Decimal(document["after"]) - Decimal(document["before"])
    sql = (
        "SELECT model_id, sum(amount) AS amount, count(*) AS lines FROM allocated_costs GROUP BY 1"
    )
    rows = _json(root, "query", sql)
    _check_contract(rows)
    stored = {r[0]: r[1:] for r in _sql(root, sql)}
    for row in rows:
        amount, lines = stored[row["model_id"]]
        assert Decimal(row["amount"]) == amount and row["lines"] == lines
        assert isinstance(row["lines"], int)


def test_status_counts_are_integers(loaded_project: ProjectConfig) -> None:
    root = loaded_project.root
    document = _json(root, "status")
    _check_contract(document)
    loaded = dict(_sql(root, "SELECT connector, sum(rows_loaded) FROM _loads GROUP BY 1"))
    for source in document["sources"]:
        assert isinstance(source["rows_loaded"], int)
        assert source["rows_loaded"] == loaded[source["connector"]]
        assert isinstance(source["rows_rejected"], int) and isinstance(source["loads"], int)
    assert all(isinstance(n, int) for n in document["tables"].values())


def test_suggest_connect_and_scenario_documents(focus_project: Path) -> None:
    suggested = _json(focus_project, "models", "suggest")
    _check_contract(suggested)
    top = suggested[0]
    [(total,)] = _sql(
        focus_project,
        "SELECT sum(effective_cost) FROM cost_lines WHERE lower(tags['application']) = ?",
        [top["tag_value"].lower()],
    )
    assert Decimal(top["total_cost"]) == total
    assert isinstance(top["months"], int)
    attributed = _json(focus_project, "attribute")
    _check_contract(attributed)
    run = _json(focus_project, "scenario", "whatif", "--set", "traffic=2")
    # The run's inputs, as scenario_runs stores them, are part of its JSON.
    [(inputs,)] = _sql(
        focus_project, "SELECT inputs FROM scenario_runs WHERE run_id = ?", [run["run_id"]]
    )
    assert run["inputs"] == plain({"inputs": json.loads(inputs)})["inputs"]
    assert run["inputs"]["set"] == ["traffic=2"]
    _check_contract(run)
    [(outputs,)] = _sql(
        focus_project, "SELECT outputs FROM scenario_runs WHERE run_id = ?", [run["run_id"]]
    )
    stored = json.loads(outputs)
    for row, kept in zip(run["outputs"]["rows"], stored["rows"], strict=True):
        for name in ("cost", "scenario_cost", "cost_change"):
            assert Decimal(row[name]) == _cent(kept[name])  # the stored figure, to the cent


def test_connect_document(tmp_path: Path) -> None:
    data = shared_file(FOCUS_SAMPLE)
    root = tmp_path / "fresh"
    assert invoke("init", str(root), "-q")[0] == 0
    document = _json(root, "connect", str(data))
    _check_contract(document)
    [(lines, effective)] = _sql(root, "SELECT count(*), sum(effective_cost) FROM cost_lines")
    assert document["load"]["rows_loaded"] == document["summary"]["rows"] == lines
    assert isinstance(document["load"]["rows_loaded"], int)
    assert Decimal(document["summary"]["effective_cost"]["USD"]) == effective


@pytest.mark.parametrize(
    ("value", "key", "expected"),
    [
        (Decimal("5792.2500000000"), "cost", "5792.25"),
        (Decimal("16.0000000000"), "amount", "16.00"),
        (Decimal("0.0000001234"), "amount", "0.0000001234"),
        (5792.253233288118, "net", "5792.25"),
        (42.854400000000055, "cost_change", "42.85"),
        (15.903123, "roi", "15.9031"),
        (Decimal("192"), "rows_loaded", 192),
        (192.0, "rows_loaded", 192),
        (0.7511576000809619, "share", 0.751157600081),
        (7, "model_value", 7),  # an integer is a count, whatever its name
        ("3.702E-7", "cost", "0.0000003702"),  # money already as text: no exponent
        ("16.0000000000", "total_cost", "16.00"),
        ("BrightPathMatrix", "tag_value", "BrightPathMatrix"),
    ],
)
def test_the_json_contract(value: Any, key: str, expected: Any) -> None:
    assert plain({key: value}) == {key: expected}
