"""TOML values as text, for the sample project's definition files."""

from __future__ import annotations

import json


def toml_string(value: str) -> str:
    """`value` as a TOML basic string (JSON's escapes are TOML's; non-ASCII kept as is)."""
    return json.dumps(value, ensure_ascii=False)


def toml_array(values: tuple[str, ...] | list[str]) -> str:
    """`values` as a one-line TOML array of strings."""
    return "[" + ", ".join(toml_string(v) for v in values) + "]"
