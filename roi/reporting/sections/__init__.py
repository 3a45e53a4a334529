"""Report sections: one module each in this package, each registering its `Section` class.

A section has a `name` (what `reports/*.toml` list in `[options] sections`), a `title` (its
heading in the HTML report), the `sheet` of the Excel pack it fills (or None) and an `order`
(its place in a full report and its sheet's place in the pack), and three methods: `read(data)`
reads its figures from the warehouse once, `html(figures, data, charts)` returns its part of the
HTML report and `excel(figures, data, book)` fills its sheet.

Adding a section is one module here with a class decorated with `@register`: the order of a full
report, the pack's sheets and the sections a report shows by default all come from the registry.
A module whose name starts with `_` holds helpers of a section (`_costs_figures`), not a section.
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache
from typing import Any, Protocol, TypeVar

from roi.config import ReportConfig
from roi.errors import ConfigError
from roi.reporting.book import Book, Sheet
from roi.reporting.charts import Charts
from roi.reporting.data import ReportData

F = TypeVar("F")


class Section(Protocol[F]):
    """One part of a report: its figures, its HTML and its sheet of the pack.

    `F` is the type of the figures `read` returns and the renderers take.
    """

    name: str
    title: str
    sheet: str | None = None
    order: int
    # The pack fills this sheet after every other: its formulas refer to the named cells the
    # other sheets define (the Summary).
    fill_last: bool = False
    # Page one of the PDF: the summary and what to do (the next section starts page two).
    front: bool = False

    def read(self, data: ReportData) -> F:
        """The section's figures, read from the warehouse once per report."""
        ...

    def html(self, figures: F, data: ReportData, charts: Charts) -> str:
        """The section's part of the HTML report (charts go through `charts`)."""
        ...

    def excel(self, figures: F, data: ReportData, book: Book) -> None:
        """Fill the section's sheet of the pack (`self.sheet_in(book)`)."""
        ...

    def sheet_in(self, book: Book) -> Sheet:
        """The section's sheet of the pack."""
        if self.sheet is None:
            raise ValueError(f"report section {self.name!r} has no sheet")
        return book.sheets[self.sheet]


S = TypeVar("S", bound=Section[Any])
_REGISTRY: dict[str, Section[Any]] = {}


def register(cls: type[S]) -> type[S]:
    """Class decorator: add a section to the registry (its name must be new)."""
    section = cls()
    if section.name in _REGISTRY:
        raise ValueError(f"two report sections are named {section.name!r}")
    _REGISTRY[section.name] = section
    return cls


@cache
def every_section() -> tuple[Section[Any], ...]:
    """Every section (each module of this package imported once), in report order."""
    for module in pkgutil.iter_modules(__path__):
        if not module.name.startswith("_"):  # `_name` modules are a section's helpers
            importlib.import_module(f"{__name__}.{module.name}")
    return tuple(sorted(_REGISTRY.values(), key=lambda s: (s.order, s.name)))


def section_names() -> tuple[str, ...]:
    """The name of every section, in report order."""
    return tuple(s.name for s in every_section())


def report_sections(report: ReportConfig) -> tuple[Section[Any], ...]:
    """The sections a report shows, in its order: its `[options] sections`, or every section.

    Raises:
        ConfigError: the report names a section that does not exist, naming its file and key.
    """
    chosen = report.options.sections
    if chosen is None:
        return every_section()
    known = {s.name: s for s in every_section()}
    unknown = [name for name in chosen if name not in known]
    if unknown:
        raise ConfigError(
            f"{report.file}: key 'options.sections' names unknown section(s) "
            f"{', '.join(unknown)}; sections: {', '.join(known)}"
        )
    return tuple(known[name] for name in chosen)
