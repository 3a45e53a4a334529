"""`kpi_sql` by URL: any SQLAlchemy database (SQLite here, a file on disk), `password_env` for
the password, incremental reads by `:since`, and bad input refused with one `Error:` line."""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Sequence
from pathlib import Path

import pytest

from roi import pipeline
from roi.config import load_project
from roi.connectors.kpi_sql import since
from roi.context import Context
from tests.helpers import roi_cli, snapshot

ROWS = [
    (
        "tickets_deflected",
        "2026-05-01",
        "2026-06-01",
        "support-assistant",
        "all",
        2100.0,
        "tickets",
    ),
    (
        "tickets_deflected",
        "2026-08-01",
        "2026-09-01",
        "support-assistant",
        "all",
        2250.0,
        "tickets",
    ),
    (
        "tickets_deflected",
        "2026-09-01",
        "2026-10-01",
        "support-assistant",
        "all",
        2310.0,
        "tickets",
    ),
    (
        "claims_handled",
        "2026-09-01",
        "2026-10-01",
        "o'brien\"; DROP TABLE kpis; --",
        "all",
        7.0,
        "claims",
    ),
]
COLUMNS = "kpi, period_start, period_end, model_id, segment, value, unit"


def _database(path: Path, rows: Sequence[tuple[object, ...]] = ROWS, extra: str = "") -> Path:
    with sqlite3.connect(path) as conn:
        conn.execute("DROP TABLE IF EXISTS kpis")
        conn.execute(
            f"CREATE TABLE kpis (kpi TEXT, period_start TEXT, period_end TEXT, model_id TEXT, "
            f"segment TEXT, value REAL, unit TEXT{extra})"
        )
        marks = ", ".join("?" for _ in rows[0])
        conn.executemany(f"INSERT INTO kpis VALUES ({marks})", rows)
    return path


def _project(tmp_path: Path, url: str, query: str, top: str = "") -> Path:
    root = tmp_path / "urlkpis"
    (root / "connectors").mkdir(parents=True, exist_ok=True)
    (root / "roi.toml").write_text('[project]\nname = "url kpis"\n')
    (root / "connectors/finance.toml").write_text(
        f'type = "kpi_sql"\nurl = "{url}"\n{top}\n[options]\nquery = """{query}"""\n'
        "lookback_months = 1\n"
    )
    return root


def _kpis(root: Path) -> list[tuple[object, ...]]:
    return pipeline.query(
        Context.for_warehouse(load_project(root).warehouse_path),
        "SELECT kpi, period_start::VARCHAR, model_id, value FROM kpi_values ORDER BY ALL",
    ).rows()


def test_since_is_the_lookback_before_the_latest_period() -> None:
    assert since(None, 3) == dt.date(1900, 1, 1)
    assert since({"latest_period": "2026-09-01"}, 1) == dt.date(2026, 8, 1)
    assert since({"latest_period": "2026-02-15"}, 3) == dt.date(2025, 11, 1)
    assert since({"latest_period": "2026-09-01"}, 0) == dt.date(2026, 9, 1)


def test_kpis_from_a_sqlalchemy_url_read_incrementally(tmp_path: Path) -> None:
    db = _database(tmp_path / "finance.sqlite")
    query = f"SELECT {COLUMNS} FROM kpis WHERE period_start >= :since ORDER BY period_start"
    root = _project(tmp_path, f"sqlite:///{db}", query)
    [first] = pipeline.load(Context(load_project(root)))
    assert first.rows_loaded == len(ROWS)
    assert _kpis(root) == sorted((r[0], r[1], r[3], r[5]) for r in ROWS)

    # Finance re-closes August (inside the one-month lookback) and May (outside it), and adds
    # October: the incremental read sees August and October, never May.
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE kpis SET value = value + 10 WHERE period_start <> '2026-09-01'")
        conn.execute(
            "INSERT INTO kpis VALUES ('tickets_deflected', '2026-10-01', '2026-11-01', "
            "'support-assistant', 'all', 2402.5, 'tickets')"
        )
    [again] = pipeline.load(Context(load_project(root)))
    assert again.rows_loaded == 4  # August, both Septembers, October
    kpis = dict(((k, p), v) for k, p, _, v in _kpis(root))
    assert kpis[("tickets_deflected", "2026-05-01")] == 2100.0  # outside the window: kept
    assert kpis[("tickets_deflected", "2026-08-01")] == 2260.0  # restated
    assert kpis[("tickets_deflected", "2026-10-01")] == 2402.5  # new
    restated = pipeline.status(Context(load_project(root))).restatements
    assert restated.select("column", "old_value", "new_value").rows() == [("value", 2250.0, 2260.0)]
    # The window moves on to September; nothing changed in it, so once it has been read
    # nothing more is written and nothing more is restated.
    pipeline.load(Context(load_project(root)))
    [unchanged] = pipeline.load(Context(load_project(root)))
    assert not unchanged.changed
    assert pipeline.status(Context(load_project(root))).restatements.height == 1


def test_the_url_shows_in_lineage_without_its_password(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = _database(tmp_path / "finance.sqlite")
    root = _project(tmp_path, f"sqlite:///{db}", f"SELECT {COLUMNS} FROM kpis")
    pipeline.load(Context(load_project(root)))
    files = pipeline.query(
        Context.for_warehouse(load_project(root).warehouse_path),
        "SELECT DISTINCT source_file FROM kpi_values",
    ).rows()
    assert files == [(f"sqlite:///{db}#finance",)]


@pytest.mark.slow  # ten runs of the CLI
@pytest.mark.parametrize(
    ("change", "query", "message"),
    [
        (
            "unknown column",
            f"SELECT {COLUMNS}, value * 2 AS revenue_usd FROM kpis",
            "returns column 'revenue_usd', which is not a KPI column; rename it to one of kpi,",
        ),
        (
            "period that does not parse",
            "SELECT kpi, 'Sept 2026' AS period_start, period_end, model_id, segment, value, "
            "unit FROM kpis",
            "row 1 field period_start:",
        ),
        (
            "duplicate key",
            f"SELECT {COLUMNS} FROM kpis UNION ALL SELECT kpi, period_start, period_end, "
            "model_id, segment, value + 1, unit FROM kpis WHERE period_start = '2026-05-01'",
            "the same key is in rows",
        ),
        (
            "negative count",
            f"SELECT {COLUMNS}, -5 AS n FROM kpis",
            "field n:",
        ),
        (
            "a query that writes",
            "DELETE FROM kpis RETURNING *",
            "the KPI query is a DELETE statement, not a SELECT",
        ),
    ],
)
def test_bad_input_is_one_error_and_changes_nothing(
    tmp_path: Path, change: str, query: str, message: str
) -> None:
    db = _database(tmp_path / "finance.sqlite")
    root = _project(tmp_path, f"sqlite:///{db}", f"SELECT {COLUMNS} FROM kpis")
    assert roi_cli("load", "--quiet", cwd=root).returncode == 0
    before = snapshot(load_project(root).warehouse_path)
    _project(tmp_path, f"sqlite:///{db}", query)
    result = roi_cli("load", "--quiet", cwd=root)
    assert result.returncode == 1, change
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    assert message in lines[0], change
    assert snapshot(load_project(root).warehouse_path) == before
    with sqlite3.connect(db) as conn:  # the source is untouched too
        assert conn.execute("SELECT count(*) FROM kpis").fetchone() == (len(ROWS),)


def test_a_url_with_a_password_is_refused(tmp_path: Path) -> None:
    root = _project(
        tmp_path, "mysql://reader:Secret-123@127.0.0.1:3306/finance", "SELECT * FROM kpis"
    )
    result = roi_cli("load", "--quiet", cwd=root)
    assert result.returncode == 1
    assert result.stderr.startswith("Error: ")
    assert "holds a password in the file" in result.stderr
    assert 'password_env = "VAR_NAME"' in result.stderr
    assert "Secret-123" not in result.stderr + result.stdout


def test_a_refused_connection_names_the_server_not_the_password(tmp_path: Path) -> None:
    root = _project(
        tmp_path,
        "mysql://reader@127.0.0.1:1/finance",
        "SELECT * FROM kpis",
        top='password_env = "ROI_TEST_KPI_PASSWORD"\n',
    )
    result = roi_cli("load", "--quiet", cwd=root, env={"ROI_TEST_KPI_PASSWORD": "Hunter-2"})
    assert result.returncode == 1
    assert result.stderr.startswith("Error: cannot connect to mysql://127.0.0.1:1/finance (")
    assert "Hunter-2" not in result.stderr and "reader" not in result.stderr


def test_a_dialect_not_installed_names_its_package(tmp_path: Path) -> None:
    root = _project(tmp_path, "snowflake://reader@acme-xy12345/finance", "SELECT 1 AS kpi")
    result = roi_cli("load", "--quiet", cwd=root)
    assert result.returncode == 1
    assert "pip install snowflake-sqlalchemy" in result.stderr, result.stderr
