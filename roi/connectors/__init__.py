"""Connectors: one module per source type, registered here by type name.

`resolve` turns a connector definition (`connectors/*.toml`, or `roi ingest`'s arguments) into
a connector of its type, checking the type, where it reads from and its `[options]` against the
type's option set; errors name the file and the key.
"""

from __future__ import annotations

from pathlib import Path

from roi.config import ConnectorConfig, redact_url
from roi.connectors.base import Connector
from roi.errors import ConfigError
from roi.plugins import import_modules

_REGISTRY: dict[str, type[Connector]] = {}


def register(cls: type[Connector]) -> type[Connector]:
    """Class decorator adding a connector type to the registry."""
    _REGISTRY[cls.type_name] = cls
    return cls


# Modules of this package that are not connector types.
_HELPERS = (
    "api_pages",
    "base",
    "dcgm_checks",
    "focus_file",
    "http_api",
    "instance_gpus",
    "invoices",
    "mig",
    "native_billing",
    "opencost_api",
    "prometheus",
    "sql_guard",
    "sql_mysql",
    "usage_rows",
)
_BUILTIN_LOADED = False


def _load_builtin() -> None:
    global _BUILTIN_LOADED
    if not _BUILTIN_LOADED:
        _BUILTIN_LOADED = True
        import_modules(__name__, __path__, _HELPERS)  # each type's module registers it


def connector_types() -> tuple[str, ...]:
    """Names of all connector types, sorted."""
    _load_builtin()
    return tuple(sorted(_REGISTRY))


def connector_class(type_name: str) -> type[Connector]:
    """The connector class registered under `type_name`."""
    _load_builtin()
    return _REGISTRY[type_name]


def resolve(config: ConnectorConfig, root: Path) -> Connector:
    """The connector a definition describes, with its options checked.

    Raises:
        ConfigError: an unknown type (naming the allowed ones), a missing `path`, a `url` for
            a type that reads files, or an option that is unknown or of the wrong type.
    """
    types = connector_types()
    if config.type not in types:
        raise ConfigError(
            f"{config.file}: key 'type' = {config.type!r} is not a connector type; allowed "
            f"values: {', '.join(types)}"
        )
    cls = connector_class(config.type)
    if config.path is None and config.url is None and cls.needs_location:
        raise ConfigError(
            f"{config.file}: connector needs a 'path' (file, folder or glob) or a 'url'"
        )
    if config.url is not None and not cls.reads_urls:
        raise ConfigError(
            f"{config.file}: connector type {config.type!r} reads files, not a url; download "
            f"{redact_url(config.url)} and set 'path' to the file or folder"
        )
    return cls(config, root)
