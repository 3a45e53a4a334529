"""Real local programs the report tests drive: headless Chromium and LibreOffice."""

from __future__ import annotations

import shutil
import subprocess
import uuid
from pathlib import Path

from tests.conftest import missing

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


def chromium() -> str:
    """Path of Debian's chromium, or skip (fail in CI)."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    missing("headless Chromium is not installed (apt-get install chromium)")
    raise AssertionError  # unreachable: missing() skips or fails


def chromium_run(page: Path, tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Open `page` in a fresh headless Chromium profile with extra arguments."""
    profile = tmp / f"chromium-{uuid.uuid4().hex[:8]}"
    return subprocess.run(
        [chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args, page.resolve().as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )


def soffice() -> str:
    """Path of LibreOffice's soffice, or skip (fail in CI)."""
    found = shutil.which("soffice") or shutil.which("libreoffice")
    if not found:
        missing("LibreOffice is not installed (apt-get install libreoffice-calc)")
    assert found
    return found


# LibreOffice keeps the values an .xlsx stores unless told to recalculate on load ("Never
# recalculate" is its default for Excel files): this profile setting forces a full recalculation.
RECALCULATE_ON_LOAD = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry"
           xmlns:xs="http://www.w3.org/2001/XMLSchema"
           xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode"
 oor:op="fuse"><value>0</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="ODFRecalcMode"
 oor:op="fuse"><value>0</value></prop></item>
</oor:items>
"""


def libreoffice_convert(source: Path, target_format: str, out_dir: Path) -> Path:
    """Open `source` in headless LibreOffice, recalculating every formula (forced: a fresh
    profile set to always recalculate on load), and save it again."""
    profile = out_dir / f"lo-profile-{uuid.uuid4().hex[:8]}"
    (profile / "user").mkdir(parents=True)
    (profile / "user" / "registrymodifications.xcu").write_text(RECALCULATE_ON_LOAD)
    out_dir.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            soffice(),
            f"-env:UserInstallation={profile.resolve().as_uri()}",
            "--headless",
            "--norestore",
            "--convert-to",
            target_format,
            "--outdir",
            str(out_dir),
            str(source),
        ],
        capture_output=True,
        text=True,
        timeout=180,
        check=True,
    )
    result = out_dir / f"{source.stem}.{target_format.split(':')[0]}"
    assert result.exists(), f"LibreOffice wrote no {result}"
    return result
