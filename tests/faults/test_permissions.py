"""Files and folders roi may not read: one `Error:` line naming them, never a silent skip.

Root reads everything, so these run `roi` without the capabilities that let root ignore file
permissions (`setpriv`, util-linux); as any other user they run it as it is.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import missing
from tests.faults.test_bad_input import FOCUS_HEADER, FOCUS_LINE

pytestmark = pytest.mark.faults


def _roi(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    prefix: list[str] = []
    if os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            missing("setpriv (util-linux) is needed to test file permissions as root")
        prefix = [
            str(setpriv),
            "--inh-caps=-all",
            "--ambient-caps=-all",
            "--bounding-set=-dac_override,-dac_read_search",
            "--",
        ]
    return subprocess.run(
        [*prefix, sys.executable, "-m", "roi", *args, "--quiet"],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def locked(tmp_path: Path) -> Iterator[list[Path]]:
    """Paths the test makes unreadable; readable again afterwards so tmp_path can be removed."""
    paths: list[Path] = []
    yield paths
    for path in paths:
        path.chmod(0o755)


def _billing(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "part0.csv").write_text(f"{FOCUS_HEADER}\n{FOCUS_LINE}\n")


def _one_error(result: subprocess.CompletedProcess[str], *names: str) -> None:
    assert result.returncode == 1, (result.returncode, result.stderr)
    assert result.stderr.startswith("Error: ") and result.stderr.count("\n") == 1, result.stderr
    assert "unexpected" not in result.stderr and "Traceback" not in result.stderr
    for name in names:
        assert name in result.stderr, result.stderr


def test_an_unreadable_subfolder_is_an_error_not_a_skip(tmp_path: Path, locked: list[Path]) -> None:
    """Audit: a folder with an unreadable subfolder loaded with exit 0 and skipped its files."""
    root = tmp_path / "billing"
    _billing(root / "2026-09")
    _billing(root / "2026-10")
    (root / "2026-10").chmod(0)
    locked.append(root / "2026-10")
    result = _roi("ingest", "focus", str(root), "--warehouse", "w.duckdb", cwd=tmp_path)
    _one_error(result, "cannot list", "2026-10", "Permission denied")
    assert not (tmp_path / "w.duckdb").exists()


def test_an_unreadable_file_is_named(tmp_path: Path, locked: list[Path]) -> None:
    root = tmp_path / "billing"
    _billing(root)
    (root / "part0.csv").chmod(0)
    locked.append(root / "part0.csv")
    result = _roi("ingest", "focus", str(root), "--warehouse", "w.duckdb", cwd=tmp_path)
    _one_error(result, "part0.csv", "Permission denied")


def test_an_unusable_lock_file_is_named(tmp_path: Path, locked: list[Path]) -> None:
    root = tmp_path / "billing"
    _billing(root)
    lock = tmp_path / "w.duckdb.lock"
    lock.write_text("")
    lock.chmod(0)
    locked.append(lock)
    result = _roi("ingest", "focus", str(root), "--warehouse", "w.duckdb", cwd=tmp_path)
    _one_error(result, "w.duckdb.lock", "Permission denied")
