"""Report sections, one module each, found by the name `reports/*.toml` give in `sections`.

A section module has `NAME`, `TITLE`, `SHEET` (the pack's sheet it fills, or None) and three
functions: `read(data)` reads its figures from the warehouse once, `html(figures, data, charts)`
returns its part of the HTML report and `excel(figures, data, book)` fills its sheet. Adding a
section is one module here and one name in `roi.config.reports.SECTION_ORDER`.
"""

from __future__ import annotations

import importlib
from types import ModuleType


def section(name: str) -> ModuleType:
    """The module of the section `name`."""
    return importlib.import_module(f"roi.reporting.sections.{name}")
