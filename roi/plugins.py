"""Registries by package: a kind's modules register themselves when imported, and this imports
every module of the kind's package (so adding a kind is adding one module)."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterable


def import_modules(package: str, path: Iterable[str], helpers: tuple[str, ...] = ()) -> None:
    """Import every module of `package` (its `__path__`) but the `helpers`."""
    for module in pkgutil.iter_modules(path):
        if module.name not in helpers:
            importlib.import_module(f"{package}.{module.name}")
