"""One error hierarchy. Every message says what was tried and what to do next.

The CLI prints `Error: <message>` on one line and exits 1 for any `RoiError`.
"""

from __future__ import annotations


class RoiError(Exception):
    """Base of every error roi reports to a user (exit code 1)."""


class ConfigError(RoiError):
    """A project file (roi.toml, connectors/, models/, reports/) is missing or wrong."""


class SourceError(RoiError):
    """An input file or service cannot be read."""


class ValidationFailed(RoiError):
    """Input rows failed validation; nothing was loaded."""


class WarehouseBusy(RoiError):
    """Another process holds the warehouse lock."""


class WarehouseError(RoiError):
    """The warehouse file cannot be opened or is not a roi warehouse."""


class QueryError(RoiError):
    """A user query failed."""
