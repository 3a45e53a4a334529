"""KPIs from the MariaDB server on this machine (`kpi_sql` with a `mysql://` DSN): the same
read-only rules as on PostgreSQL, restated months replaced, hostile values loaded as data."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from roi import pipeline
from roi.config import load_project
from roi.connectors.sql_mysql import powers
from roi.context import Context
from roi.errors import SourceError
from tests.conftest import missing

pytestmark = pytest.mark.service

HOSTILE = "o'brien\"; DROP TABLE monthly_kpis; --"


def _admin() -> Any:
    import pymysql

    try:
        return pymysql.connect(
            host="127.0.0.1",
            port=3306,
            user="root",
            password="",
            database="test",
            autocommit=True,
            connect_timeout=5,
        )
    except pymysql.MySQLError as exc:
        missing(f"MariaDB is not reachable at 127.0.0.1:3306 ({exc})")
        raise


@pytest.fixture
def mariadb_kpis() -> Iterator[tuple[str, str]]:
    """A fresh database with a KPI table: (root's DSN, a read-only account's DSN)."""
    admin = _admin()
    name = f"roi_test_{uuid.uuid4().hex[:10]}"
    reader = f"roi_r_{uuid.uuid4().hex[:8]}"
    with admin.cursor() as cur:
        cur.execute(f"CREATE DATABASE `{name}`")
        cur.execute(
            f"CREATE TABLE `{name}`.monthly_kpis (kpi VARCHAR(64), period_start DATE, "
            "period_end DATE, model_id VARCHAR(128), segment VARCHAR(32), value DECIMAL(18,4), "
            "unit VARCHAR(32))"
        )
        cur.execute(
            f"INSERT INTO `{name}`.monthly_kpis VALUES "
            "('tickets_deflected', '2026-09-01', '2026-10-01', 'support-assistant', 'all', 2310, 'tickets'),"
            "('tickets_deflected', '2026-10-01', '2026-11-01', 'support-assistant', 'all', 2402.5, 'tickets'),"
            "('claims_handled', '2026-10-01', '2026-11-01', %s, 'all', 7, 'claims')",
            [HOSTILE],
        )
        cur.execute(f"CREATE USER '{reader}'@'%' IDENTIFIED BY 'Secret-123'")
        cur.execute(f"GRANT SELECT ON `{name}`.* TO '{reader}'@'%'")
    try:
        yield (
            f"mysql://root@127.0.0.1:3306/{name}",
            f"mysql://{reader}:Secret-123@127.0.0.1:3306/{name}",
        )
    finally:
        with admin.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
            cur.execute(f"DROP USER IF EXISTS '{reader}'@'%'")
        admin.close()


def _project(
    tmp_path: Path,
    query: str = "SELECT * FROM monthly_kpis ORDER BY period_start, kpi",
    timeout: float = 60,
) -> Path:
    root = tmp_path / "mariadbkpis"
    (root / "connectors").mkdir(parents=True, exist_ok=True)
    (root / "roi.toml").write_text('[project]\nname = "mariadb kpis"\n')
    (root / "connectors/finance.toml").write_text(
        f'type = "kpi_sql"\ndsn_env = "ROI_TEST_MYSQL_DSN"\n\n[options]\nquery = """{query}"""\n'
        f"timeout = {timeout}\n"
    )
    return root


def _kpis(config_root: Path) -> list[tuple[object, ...]]:
    return pipeline.query(
        Context.for_warehouse(load_project(config_root).warehouse_path),
        "SELECT kpi, period_start::VARCHAR, model_id, value FROM kpi_values ORDER BY ALL",
    ).rows()


def test_kpis_from_mariadb_with_a_restated_month(
    mariadb_kpis: tuple[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    admin_dsn, reader_dsn = mariadb_kpis
    monkeypatch.setenv("ROI_TEST_MYSQL_DSN", reader_dsn)
    root = _project(tmp_path)
    [result] = pipeline.load(Context(load_project(root)))
    assert result.rows_loaded == 3
    assert _kpis(root) == [
        ("claims_handled", "2026-10-01", HOSTILE, 7.0),  # a hostile id is data
        ("tickets_deflected", "2026-09-01", "support-assistant", 2310.0),
        ("tickets_deflected", "2026-10-01", "support-assistant", 2402.5),
    ]
    # Finance re-closes September: the restated value replaces the old one, once.
    with _admin().cursor() as cur:
        cur.execute(
            f"UPDATE `{admin_dsn.rsplit('/', 1)[1]}`.monthly_kpis SET value = 2333 "
            "WHERE period_start = '2026-09-01'"
        )
    [again] = pipeline.load(Context(load_project(root)))
    assert again.changed
    assert ("tickets_deflected", "2026-09-01", "support-assistant", 2333.0) in _kpis(root)
    assert len(_kpis(root)) == 3
    # `roi status` lists what was restated, with the old and the new value.
    restated = pipeline.status(Context(load_project(root))).restatements
    assert restated.select("connector", "column", "old_value", "new_value").rows() == [
        ("finance", "value", 2310.0, 2333.0)
    ]
    assert restated["key"][0].startswith("tickets_deflected|support-assistant|all|2026-09-01")


def test_an_account_that_can_write_is_refused(
    mariadb_kpis: tuple[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ROI_TEST_MYSQL_DSN", mariadb_kpis[0])
    with pytest.raises(SourceError, match=r"the DSN's account .*holds ALL PRIVILEGES on \*\.\*"):
        pipeline.load(Context(load_project(_project(tmp_path))))


@pytest.mark.parametrize(
    ("query", "message"),
    [
        (
            "SELECT * FROM monthly_kpis INTO OUTFILE '/tmp/roi-kpis.csv'",
            "does not parse as mysql SQL|contains INTO",
        ),
        ("SELECT SLEEP(20), monthly_kpis.* FROM monthly_kpis", "calls sleep()"),
        ("SELECT * FROM monthly_kpis; DROP TABLE monthly_kpis", "holds 2 statements"),
        ("DELETE FROM monthly_kpis", "not a SELECT"),
    ],
)
def test_queries_that_act_are_refused_before_they_run(
    mariadb_kpis: tuple[str, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    query: str,
    message: str,
) -> None:
    monkeypatch.setenv("ROI_TEST_MYSQL_DSN", mariadb_kpis[1])
    with pytest.raises(SourceError, match=message):
        pipeline.load(Context(load_project(_project(tmp_path, query))))
    with _admin().cursor() as cur:
        cur.execute(f"SELECT count(*) FROM `{mariadb_kpis[0].rsplit('/', 1)[1]}`.monthly_kpis")
        assert cur.fetchone() == (3,)


def test_a_long_query_stops_at_its_timeout(
    mariadb_kpis: tuple[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ROI_TEST_MYSQL_DSN", mariadb_kpis[1])
    slow = (
        "SELECT 'k' AS kpi, '2026-10-01' AS period_start, '2026-11-01' AS period_end, "
        "count(*) AS value FROM seq_1_to_100000 a, seq_1_to_100000 b"
    )
    with pytest.raises(SourceError, match=r"ran longer than its timeout of 0.5 s"):
        pipeline.load(Context(load_project(_project(tmp_path, slow, timeout=0.5))))


def test_a_refused_connection_shows_no_credentials(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ROI_TEST_MYSQL_DSN", "mysql://analyst:hunter2@127.0.0.1:1/finance")
    with pytest.raises(SourceError) as err:
        pipeline.load(Context(load_project(_project(tmp_path))))
    assert str(err.value).startswith("cannot connect to mysql://127.0.0.1:1/finance (")
    assert "hunter2" not in str(err.value) and "analyst" not in str(err.value)


def test_grants_beyond_reading_are_named() -> None:
    assert powers(["GRANT USAGE ON *.* TO `r`@`%`", "GRANT SELECT ON `kpis`.* TO `r`@`%`"]) == []
    assert powers(["GRANT SELECT, INSERT ON `kpis`.* TO `r`@`%`"]) == ["holds INSERT on `kpis`.*"]
    assert powers(["GRANT FILE ON *.* TO `r`@`%` WITH GRANT OPTION"]) == [
        "can grant its privileges to others",
        "holds FILE on *.*",
    ]


def test_a_url_with_the_password_in_the_environment_reads_since_the_lookback(
    mariadb_kpis: tuple[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, reader_dsn = mariadb_kpis
    # The TOML holds the URL without the password; the password is in the environment.
    user_and_password, server = reader_dsn.removeprefix("mysql://").split("@", 1)
    user, password = user_and_password.split(":", 1)
    monkeypatch.setenv("ROI_TEST_MYSQL_PASSWORD", password)
    root = tmp_path / "mariadburl"
    (root / "connectors").mkdir(parents=True)
    (root / "roi.toml").write_text('[project]\nname = "mariadb url"\n')
    (root / "connectors/finance.toml").write_text(
        f'type = "kpi_sql"\nurl = "mariadb+pymysql://{user}@{server}"\n'
        'password_env = "ROI_TEST_MYSQL_PASSWORD"\n\n[options]\nlookback_months = 0\n'
        'query = """SELECT * FROM monthly_kpis WHERE period_start >= :since '
        'AND unit LIKE \'%s\' ORDER BY period_start, kpi"""\n'
    )
    [first] = pipeline.load(Context(load_project(root)))
    assert first.rows_loaded == 3
    [second] = pipeline.load(Context(load_project(root)))
    assert second.rows_extracted == 2  # only October: zero months of lookback
    files = pipeline.query(
        Context.for_warehouse(load_project(root).warehouse_path),
        "SELECT DISTINCT source_file FROM kpi_values",
    ).rows()
    assert files == [(f"mysql://{server}#finance",)]
    assert password not in str(files)
