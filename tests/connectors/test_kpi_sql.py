"""KPIs from the PostgreSQL server on this machine; the DSN only ever comes from the environment."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from roi import pipeline
from roi.config import load_project
from roi.context import Context
from roi.errors import ConfigError, SourceError
from tests.conftest import missing

pytestmark = pytest.mark.service

SERVER = "postgresql://postgres@127.0.0.1:5432"


@pytest.fixture
def kpi_server() -> Iterator[tuple[str, str]]:
    """A fresh database with a KPI table: (the superuser's DSN, a read-only role's DSN)."""
    import psycopg

    name = f"roi_test_{uuid.uuid4().hex[:10]}"
    reader = f"roi_reader_{uuid.uuid4().hex[:10]}"
    try:
        admin = psycopg.connect(f"{SERVER}/postgres", autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        missing(f"PostgreSQL is not reachable at 127.0.0.1:5432 ({exc})")
        raise
    admin.execute(f'CREATE DATABASE "{name}"')
    admin.execute(f'CREATE ROLE "{reader}" LOGIN')
    try:
        with psycopg.connect(f"{SERVER}/{name}", autocommit=True) as conn:
            conn.execute(
                "CREATE TABLE monthly_kpis (kpi text, period_start date, period_end date, "
                "model_id text, segment text, value numeric, unit text)"
            )
            conn.execute(
                "INSERT INTO monthly_kpis VALUES "
                "('tickets_deflected', '2026-09-01', '2026-10-01', 'support-assistant', 'all', 2310, 'tickets'),"
                "('tickets_deflected', '2026-10-01', '2026-11-01', 'support-assistant', 'all', 2402.5, 'tickets'),"
                "('active_customers', '2026-10-01', '2026-11-01', NULL, NULL, 1401000, 'customers')"
            )
            conn.execute("CREATE TABLE canary (note text)")
            # The read-only role the README's error message tells users to create.
            conn.execute(f'GRANT CONNECT ON DATABASE "{name}" TO "{reader}"')
            conn.execute(f'GRANT USAGE ON SCHEMA public TO "{reader}"')
            conn.execute(f'GRANT SELECT ON ALL TABLES IN SCHEMA public TO "{reader}"')
        yield f"{SERVER}/{name}", f"postgresql://{reader}@127.0.0.1:5432/{name}"
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'DROP ROLE IF EXISTS "{reader}"')
        admin.close()


@pytest.fixture
def kpi_database(kpi_server: tuple[str, str]) -> str:
    """The read-only role's DSN of a fresh KPI database."""
    return kpi_server[1]


def _project(tmp_path: Path) -> Path:
    root = tmp_path / "sqlkpis"
    (root / "connectors").mkdir(parents=True)
    (root / "roi.toml").write_text('[project]\nname = "sql kpis"\n')
    (root / "connectors/warehouse_kpis.toml").write_text(
        'type = "kpi_sql"\ndsn_env = "ROI_TEST_KPI_DSN"\n\n[options]\n'
        'query = "SELECT * FROM monthly_kpis ORDER BY period_start, kpi"\n'
    )
    return root


def test_kpis_from_postgres(
    kpi_database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ROI_TEST_KPI_DSN", kpi_database)
    config = load_project(_project(tmp_path))
    [result] = pipeline.load(Context(config))
    assert result.rows_loaded == 3
    rows = pipeline.query(
        Context.for_warehouse(config.warehouse_path),
        "SELECT kpi, period_start::VARCHAR, model_id, segment, value, source_file, source_row "
        "FROM kpi_values ORDER BY period_start, kpi",
    ).rows()
    database = kpi_database.rsplit("/", 1)[1]
    source = f"postgresql://127.0.0.1:5432/{database}#warehouse_kpis"
    assert rows == [
        ("tickets_deflected", "2026-09-01", "support-assistant", "all", 2310.0, source, 1),
        ("active_customers", "2026-10-01", None, "all", 1401000.0, source, 2),
        ("tickets_deflected", "2026-10-01", "support-assistant", "all", 2402.5, source, 3),
    ]
    [again] = pipeline.load(Context(config))
    assert not again.changed  # same result set: nothing to write


def test_dsn_is_never_printed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROI_TEST_KPI_DSN", "postgresql://analyst:hunter2@127.0.0.1:1/warehouse")
    config = load_project(_project(tmp_path))
    with pytest.raises(SourceError) as err:
        pipeline.load(Context(config))
    message = str(err.value)
    assert message.startswith("cannot connect to postgresql://127.0.0.1:1/warehouse (")
    assert "hunter2" not in message and "analyst" not in message


def test_missing_dsn_variable_names_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ROI_TEST_KPI_DSN", raising=False)
    config = load_project(_project(tmp_path))
    with pytest.raises(ConfigError, match=r"environment variable ROI_TEST_KPI_DSN .* is not set"):
        pipeline.load(Context(config))


def test_a_malformed_dsn_shows_none_of_its_text(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ROI_TEST_KPI_DSN", "host=db password=hunter2 extra")
    config = load_project(_project(tmp_path))
    with pytest.raises(SourceError) as err:
        pipeline.load(Context(config))
    assert str(err.value).startswith(
        "the DSN in the environment variable named by dsn_env is malformed"
    )
    assert "hunter2" not in str(err.value) and "extra" not in str(err.value)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        (
            "COMMIT; INSERT INTO monthly_kpis VALUES ('x', '2026-10-01', '2026-11-01', NULL, "
            "NULL, 1, 'u'); SELECT * FROM monthly_kpis",
            "the KPI query holds 3 statements",
        ),
        (
            "WITH gone AS (DELETE FROM monthly_kpis RETURNING *) SELECT * FROM gone",
            "the KPI query contains DELETE",
        ),
        ("SET default_transaction_read_only = off", "the KPI query is a SET statement"),
    ],
)
def test_the_kpi_query_cannot_write(
    kpi_database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, query: str, message: str
) -> None:
    import psycopg

    root = _project(tmp_path)
    toml = root / "connectors/warehouse_kpis.toml"
    toml.write_text(toml.read_text().split("[options]")[0] + f"[options]\nquery = {query!r}\n")
    monkeypatch.setenv("ROI_TEST_KPI_DSN", kpi_database)
    config = load_project(root)
    with pytest.raises(SourceError) as err:
        pipeline.load(Context(config))
    assert message in str(err.value)
    with psycopg.connect(kpi_database) as conn:
        assert conn.execute("SELECT count(*) FROM monthly_kpis").fetchone() == (3,)


def _with_query(root: Path, query: str, extra: str = "") -> None:
    toml = root / "connectors/warehouse_kpis.toml"
    toml.write_text(
        toml.read_text().split("[options]")[0] + f"[options]\nquery = {query!r}\n{extra}"
    )


def test_a_superuser_dsn_is_refused_with_the_fix(
    kpi_server: tuple[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    superuser, _ = kpi_server
    monkeypatch.setenv("ROI_TEST_KPI_DSN", superuser)
    config = load_project(_project(tmp_path))
    with pytest.raises(SourceError) as err:
        pipeline.load(Context(config))
    message = str(err.value)
    assert "the DSN's role is a superuser" in message and "\n" not in message
    assert "CREATE ROLE roi_reader LOGIN" in message
    assert "GRANT SELECT ON ALL TABLES IN SCHEMA" in message
    assert "postgres@" not in message  # the role's name is part of the DSN: never shown
    assert not config.warehouse_path.exists()  # nothing loaded, no warehouse made


def test_a_role_that_can_write_is_refused(
    kpi_server: tuple[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import psycopg

    superuser, reader = kpi_server
    role = reader.split("//", 1)[1].split("@", 1)[0]
    with psycopg.connect(superuser, autocommit=True) as conn:
        conn.execute(f'GRANT INSERT ON canary TO "{role}"')
    monkeypatch.setenv("ROI_TEST_KPI_DSN", reader)
    root = _project(tmp_path)
    with pytest.raises(SourceError, match=r"the DSN's role can write table public\.canary"):
        pipeline.load(Context(load_project(root)))
    with psycopg.connect(superuser, autocommit=True) as conn:
        conn.execute(f'REVOKE INSERT ON canary FROM "{role}"')
        conn.execute(f'GRANT pg_signal_backend TO "{role}"')
    with pytest.raises(SourceError, match=r"is a member of pg_signal_backend"):
        pipeline.load(Context(load_project(root)))


# What the audit ran as a superuser DSN: each acted on the server. Now each is refused before
# anything runs, whoever the DSN's role is; {file} is a path the server could write.
SERVER_ACTIONS = [
    "COPY (SELECT 1) TO PROGRAM 'touch {file}'",
    "COPY (SELECT 1) TO '{file}'",
    "SELECT lo_export(lo_from_bytea(0, 'x'), '{file}'), * FROM monthly_kpis",
    "SELECT k.* FROM monthly_kpis k, dblink_exec('dbname=postgres', 'CREATE TABLE x ()') d",
    "SELECT pg_terminate_backend(pg_backend_pid()), * FROM monthly_kpis",
    "SELECT *, pg_sleep(20) FROM monthly_kpis",
    "SELECT * INTO copied FROM monthly_kpis",
    "SELECT * FROM monthly_kpis FOR UPDATE",
    "SELECT *, set_config('default_transaction_read_only', 'off', false) FROM monthly_kpis",
    "SELECT *, query_to_xml('SELECT 1', true, true, '') FROM monthly_kpis",
]


@pytest.mark.parametrize("dsn_kind", ["superuser", "reader"])
@pytest.mark.parametrize("query", SERVER_ACTIONS)
def test_queries_that_act_on_the_server_are_refused(
    kpi_server: tuple[str, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    query: str,
    dsn_kind: str,
) -> None:
    target = tmp_path / "written-by-the-server"
    root = _project(tmp_path)
    _with_query(root, query.format(file=target))
    monkeypatch.setenv("ROI_TEST_KPI_DSN", kpi_server[0 if dsn_kind == "superuser" else 1])
    with pytest.raises(SourceError, match=r"write one SELECT that only reads"):
        pipeline.load(Context(load_project(root)))
    assert not target.exists()


def test_a_function_that_writes_cannot_write_as_the_reader(
    kpi_server: tuple[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A function the parser cannot see into: the role and the read-only session stop it."""
    import psycopg

    superuser, reader = kpi_server
    with psycopg.connect(superuser, autocommit=True) as conn:
        conn.execute(
            "CREATE FUNCTION note() RETURNS int LANGUAGE sql AS "
            "$$ INSERT INTO canary VALUES ('x') RETURNING 1 $$"
        )
    root = _project(tmp_path)
    _with_query(root, "SELECT *, note() FROM monthly_kpis")
    monkeypatch.setenv("ROI_TEST_KPI_DSN", reader)
    with pytest.raises(SourceError, match=r"the KPI query failed: .*read-only transaction"):
        pipeline.load(Context(load_project(root)))
    with psycopg.connect(superuser) as conn:
        assert conn.execute("SELECT count(*) FROM canary").fetchone() == (0,)


def test_a_slow_query_stops_at_the_timeout(
    kpi_database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import time

    root = _project(tmp_path)
    _with_query(
        root,
        "SELECT k.* FROM monthly_kpis k, generate_series(1, 2000000000) g WHERE g < 0",
        "timeout = 0.5\n",
    )
    monkeypatch.setenv("ROI_TEST_KPI_DSN", kpi_database)
    started = time.monotonic()
    with pytest.raises(SourceError, match=r"ran longer than its timeout of 0\.5 s"):
        pipeline.load(Context(load_project(root)))
    assert time.monotonic() - started < 30


def test_a_url_reads_since_the_lookback_and_a_restated_month_replaces_once(
    kpi_server: tuple[str, str], tmp_path: Path
) -> None:
    import psycopg

    admin_dsn, reader_dsn = kpi_server
    root = tmp_path / "pgurl"
    (root / "connectors").mkdir(parents=True)
    (root / "roi.toml").write_text('[project]\nname = "pg url"\n')
    url = reader_dsn.replace("postgresql://", "postgresql+psycopg://")
    (root / "connectors/finance.toml").write_text(
        f'type = "kpi_sql"\nurl = "{url}"\n\n[options]\nlookback_months = 1\n'
        'query = """SELECT kpi, period_start::date, period_end::date, model_id, segment, '
        "value, unit FROM monthly_kpis WHERE period_start >= :since AND kpi LIKE '%e%' "
        'ORDER BY period_start, kpi"""\n'
    )
    [first] = pipeline.load(Context(load_project(root)))
    assert first.rows_loaded == 3
    # Finance re-closes September and adds a row whose model id is hostile text.
    hostile = "o'brien\"; DROP TABLE kpi_values; --"
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute("UPDATE monthly_kpis SET value = 2333 WHERE period_start = '2026-09-01'")
        conn.execute(
            "INSERT INTO monthly_kpis VALUES ('claims_handled', '2026-10-01', '2026-11-01', %s, "
            "'all', 7, 'claims')",
            [hostile],
        )
    [second] = pipeline.load(Context(load_project(root)))
    assert second.rows_extracted == 4  # September (one month of lookback) and October
    rows = pipeline.query(
        Context.for_warehouse(load_project(root).warehouse_path),
        "SELECT kpi, period_start::VARCHAR, model_id, value FROM kpi_values ORDER BY ALL",
    ).rows()
    assert rows == [
        ("active_customers", "2026-10-01", None, 1401000.0),
        ("claims_handled", "2026-10-01", hostile, 7.0),
        ("tickets_deflected", "2026-09-01", "support-assistant", 2333.0),
        ("tickets_deflected", "2026-10-01", "support-assistant", 2402.5),
    ]
    restated = pipeline.status(Context(load_project(root))).restatements
    assert restated.select("column", "old_value", "new_value").rows() == [("value", 2310.0, 2333.0)]
    files = pipeline.query(
        Context.for_warehouse(load_project(root).warehouse_path),
        "SELECT DISTINCT source_file FROM kpi_values",
    ).rows()
    assert files == [(f"postgresql://{reader_dsn.split('@', 1)[1]}#finance",)]
