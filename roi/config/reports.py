"""What a report definition (`reports/<name>.toml`) chooses: its sections, the months its trends
cover, the models it shows, budgets and the thresholds behind its flags.

`[options]` is checked like every other option set (an unknown key or a wrong type is an error
naming the file and key), so a finance team can keep two variants of a report (a one-page CFO
summary, a full analyst pack) without touching code. Section names are checked against the
sections there are (`roi.reporting.sections`) where the report is rendered.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from roi.config.typed import build, check
from roi.errors import ConfigError

_positive = check(lambda v: v > 0, "a number above 0")
_share = check(lambda v: 0 < v < 10, "a share above 0, e.g. 0.25 for 25%")


@dataclass(frozen=True)
class ReportOptions:
    """A report's `[options]`."""

    sections: tuple[str, ...] | None = None  # default: every section, in report order
    trend_months: int = field(
        default=12, metadata=check(lambda v: v in (6, 12, 18, 24, 36), "6, 12, 18, 24 or 36")
    )
    models: tuple[str, ...] = ()  # only these models (default: all)
    currency: str | None = None  # default: the project's
    top_models: int = field(default=8, metadata=check(lambda v: 3 <= v <= 30, "3 to 30"))
    # Monthly budgets in the report currency: "total" for the portfolio, or a model id.
    budgets: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}))
    change_warning: float = field(default=0.25, metadata=_share)  # month-on-month move
    # A model is flagged for high exposure when its expected annual loss exceeds this share of
    # its yearly net value, for idle when its GPU efficiency is below `idle_warning`, and for
    # fast decay when decay costs more than `decay_warning` of its monthly value a month.
    exposure_warning: float = field(default=0.5, metadata=_share)
    idle_warning: float = field(default=0.3, metadata=_share)
    decay_warning: float = field(default=0.05, metadata=_share)
    top_unallocated: int = field(default=10, metadata=_positive)  # the HTML list (the pack has all)
    pdf: bool = True  # the HTML report also as PDF


def report_options(path: Path, data: Mapping[str, Any]) -> ReportOptions:
    """Check a report's `[options]` table.

    Raises:
        ConfigError: an unknown key or a value of the wrong type, naming the file.
    """
    options = build(ReportOptions, data, path, "options.")
    for key, amount in options.budgets.items():
        if amount < 0:
            raise ConfigError(f"{path}: key 'options.budgets.{key}' = {amount} must be at least 0")
    return options
