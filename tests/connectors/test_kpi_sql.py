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
def kpi_database() -> Iterator[str]:
    import psycopg

    name = f"roi_test_{uuid.uuid4().hex[:10]}"
    try:
        admin = psycopg.connect(f"{SERVER}/postgres", autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        missing(f"PostgreSQL is not reachable at 127.0.0.1:5432 ({exc})")
        raise
    admin.execute(f'CREATE DATABASE "{name}"')
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
        yield f"{SERVER}/{name}"
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


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
        config.warehouse_path,
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
            "the KPI query holds several statements",
        ),
        (
            "WITH gone AS (DELETE FROM monthly_kpis RETURNING *) SELECT * FROM gone",
            "in a read-only transaction",
        ),
        ("SET default_transaction_read_only = off", "the query returned no result set"),
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
