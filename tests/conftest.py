"""Shared fixtures: the repository's sample project copied into tmp dirs, real services.

The repository root is the sample project (like SQLMesh's sushi example): tests copy its
definitions and sample data, load them into a DuckDB file on disk and check real outcomes.
Tests that need `../shared/data` or a service (Chromium, LibreOffice, Prometheus, PostgreSQL)
skip with a reason when it is missing, except in CI (ROI_CI=1), where a skip is a failure.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from roi.config import ProjectConfig, load_project
from tests import loaded

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
PROJECT_PARTS = ("roi.toml", "connectors", "models", "pools", "reports", "sample_data")
IN_CI = os.environ.get("ROI_CI") == "1"


def missing(reason: str) -> None:
    """Skip with a visible reason; in CI a missing prerequisite fails the test instead."""
    if IN_CI:
        pytest.fail(f"CI must provide this: {reason}")
    pytest.skip(reason)


def shared_file(relative: str) -> Path:
    """A file of ../shared/data, or skip when this clone has no ../shared next to it."""
    path = SHARED_DATA / relative
    if not path.exists():
        missing(f"{path} not found: the shared sample data lives next to the repository")
    return path


def copy_project(target: Path) -> Path:
    """Copy the sample project's definitions and data into `target`."""
    target.mkdir(parents=True, exist_ok=True)
    for part in PROJECT_PARTS:
        source = REPO / part
        if source.is_dir():
            shutil.copytree(source, target / part)
        else:
            shutil.copy2(source, target / part)
    return target


@pytest.fixture(autouse=True)
def _clean_roi_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in list(os.environ):
        if key.startswith("ROI__"):
            monkeypatch.delenv(key)
    # pytest-xdist's workers set an 80-column terminal; roi's tables fit COLUMNS when set.
    monkeypatch.delenv("COLUMNS", raising=False)
    monkeypatch.delenv("LINES", raising=False)


@pytest.fixture
def project_dir(tmp_path: Path) -> Path:
    """A fresh copy of the sample project (nothing loaded yet)."""
    return copy_project(tmp_path / "project")


@pytest.fixture
def project(project_dir: Path) -> ProjectConfig:
    """The configuration of a fresh sample-project copy."""
    return load_project(project_dir)


@pytest.hookimpl(trylast=True)  # after -m and -k have deselected
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The tests that use the loaded project run last: one worker builds it meanwhile."""
    loaded.run_last(items)


@pytest.hookimpl(tryfirst=True)
def pytest_runtestloop(session: pytest.Session) -> None:
    """Before its first test, the first process (worker) here builds the loaded project when a
    test will need it; the others go on with their tests (the xdist controller runs none)."""
    # What the tmp_path_factory fixture returns; fixtures are not available to hooks.
    factory: pytest.TempPathFactory = session.config._tmp_path_factory  # type: ignore[attr-defined]
    # Compiled fold SQL (`roi.fold.kept`) is kept for this session only, not in the user's cache.
    os.environ.setdefault("ROI_SQL_CACHE", str(loaded.shared_root(factory) / "sql"))
    if session.config.option.collectonly or not loaded.needed(session.items):
        return
    loaded.build(loaded.shared_root(factory), wait=False)


@pytest.fixture(scope="session")
def loaded_project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ProjectConfig]:
    """The sample project run end to end (load, attribute, scenarios, reports), built once
    for all xdist workers (`tests.loaded`). Read only: a test that writes works on a copy."""
    root = loaded.shared_root(tmp_path_factory)
    yield loaded.ready(root)
    changed = loaded.changes(root)
    assert not changed, f"tests wrote to the shared loaded project: {changed}"


@pytest.fixture(scope="session")
def loaded_reports(loaded_project: ProjectConfig) -> dict[str, Path]:
    """The files `roi run` wrote for the loaded sample's latest month, by suffix (`.html`,
    `.pdf`, `.xlsx`): rendered once, read by every report test. Read only."""
    out = loaded_project.reports_out
    [html] = sorted(out.glob("monthly_finance_*.html"))
    [xlsx] = sorted(out.glob("executive_pack_*.xlsx"))
    return {".html": html, ".pdf": html.with_suffix(".pdf"), ".xlsx": xlsx}
