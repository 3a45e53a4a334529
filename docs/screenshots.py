"""Make the README's two screenshots from the sample project (needs Chromium, LibreOffice and
poppler's pdftoppm): the report's first screen and the pack's Summary sheet.

    python docs/screenshots.py        # from the repository root, after `roi run`
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"


def main() -> None:
    report = ROOT / "reports/out/monthly_finance_2026-10.html"
    pack = ROOT / "reports/out/executive_pack_2026-10.xlsx"
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={tmp}/chromium", f"--screenshot={DOCS / 'report_first_screen.png'}",
             "--window-size=1280,900", report.as_uri()],
            check=True, capture_output=True,
        )  # fmt: skip
        subprocess.run(
            ["soffice", f"-env:UserInstallation=file://{tmp}/lo", "--headless", "--convert-to",
             "pdf", "--outdir", tmp, str(pack)],
            check=True, capture_output=True,
        )  # fmt: skip
        subprocess.run(
            ["pdftoppm", "-r", "110", "-png", "-f", "1", "-l", "1", "-singlefile",
             f"{tmp}/{pack.stem}.pdf", f"{tmp}/summary"],
            check=True, capture_output=True,
        )  # fmt: skip
        shutil.copy(f"{tmp}/summary.png", DOCS / "summary_sheet.png")


if __name__ == "__main__":
    main()
