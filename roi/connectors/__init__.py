"""Connectors: one module per source type, registered here by type name."""

from __future__ import annotations

from roi.connectors.base import Connector

_REGISTRY: dict[str, type[Connector]] = {}


def register(cls: type[Connector]) -> type[Connector]:
    """Class decorator adding a connector type to the registry."""
    _REGISTRY[cls.type_name] = cls
    return cls


_BUILTIN_LOADED = False


def _load_builtin() -> None:
    global _BUILTIN_LOADED
    if _BUILTIN_LOADED:
        return
    _BUILTIN_LOADED = True
    from roi.connectors import (  # noqa: F401  (imports register the types)
        ab_tests,
        dcgm,
        focus,
        kpi_csv,
        kpi_excel,
        kpi_sql,
        litellm,
        model_metrics,
        nvidia_smi,
    )


def connector_types() -> tuple[str, ...]:
    """Names of all connector types, sorted."""
    _load_builtin()
    return tuple(sorted(_REGISTRY))


def connector_class(type_name: str) -> type[Connector]:
    """The connector class registered under `type_name`."""
    _load_builtin()
    return _REGISTRY[type_name]
