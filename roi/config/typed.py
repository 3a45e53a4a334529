"""Typed, frozen option sets built from TOML tables (or `KEY=VALUE` text from the command line).

An option set is a frozen dataclass; its field types say what a key may hold. `build` checks a
table against it: an unknown key is an error naming the file, the key and the allowed keys; a
value of the wrong type is an error naming the expected type. Connectors, value methods, model
quality and risk sections all use it, so a typo (`methd`, `frequency_per_yr`) never passes
silently.
"""

from __future__ import annotations

import dataclasses
import tomllib
import types
import typing
from collections.abc import Callable, Mapping
from datetime import date
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal, TypeVar, Union

from roi.errors import ConfigError

T = TypeVar("T")


@dataclasses.dataclass(frozen=True)
class Estimate:
    """A point value, a PERT range (min, most likely, max), or a lognormal (median and sigma,
    the standard deviation of its logarithm) for an uncertain input."""

    low: float
    mode: float
    high: float
    sigma: float | None = None  # lognormal: low = mode = high = the median

    @property
    def is_point(self) -> bool:
        """Whether the estimate is a single value."""
        return self.sigma is None and self.low == self.mode == self.high

    @property
    def mean(self) -> float:
        """The expected value (PERT: (min + 4 × mode + max) / 6)."""
        import math

        if self.sigma is not None:
            return self.mode * math.exp(self.sigma**2 / 2)
        return (self.low + 4 * self.mode + self.high) / 6


def check(
    rule: Callable[[Any], bool], wanted: str, problem: str = "is not allowed"
) -> dict[str, Any]:
    """Field metadata: an extra rule a value must pass, what is wrong and what to use instead.

    The message reads `<file>: key '<key>' = <value> <problem>; use <wanted>`.
    """
    return {"check": rule, "wanted": wanted, "problem": problem}


def _literal(kind: Any) -> tuple[Any, ...] | None:
    """The allowed values of a Literal field (also inside Optional), or None."""
    if typing.get_origin(kind) is Literal:
        return typing.get_args(kind)
    if typing.get_origin(kind) in (Union, types.UnionType):
        for arg in typing.get_args(kind):
            if typing.get_origin(arg) is Literal:
                return typing.get_args(arg)
    return None


def _type_name(kind: Any) -> str:
    origin = typing.get_origin(kind)
    if origin is Literal:
        return "one of " + ", ".join(repr(a) for a in typing.get_args(kind))
    if origin in (Union, types.UnionType):
        return " or ".join(_type_name(a) for a in typing.get_args(kind) if a is not type(None))
    if origin in (tuple, list):
        return f"a list of {_type_name(typing.get_args(kind)[0])}"
    if origin in (dict, Mapping) or kind is Mapping:
        return "a table of text values"
    if kind is Estimate:
        return (
            "a number, or [min, most likely, max] / { min, mode, max } with min <= mode <= max,"
            " or a lognormal { median, sigma } (both above 0)"
        )
    return {
        str: "text",
        int: "a whole number",
        float: "a number",
        bool: "true or false",
        date: "a date like 2026-01-31",
    }.get(kind, getattr(kind, "__name__", str(kind)))


class _Invalid(Exception):
    pass


def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _Invalid
    return float(value)


def _coerce(kind: Any, value: Any, from_text: bool) -> Any:
    """Convert `value` to `kind` or raise _Invalid. Text from the command line is parsed."""
    if kind is Any:
        return value
    origin = typing.get_origin(kind)
    if origin in (Union, types.UnionType):
        options = [a for a in typing.get_args(kind) if a is not type(None)]
        for option in options:
            try:
                return _coerce(option, value, from_text)
            except _Invalid:
                continue
        raise _Invalid
    if origin is Literal:
        if value in typing.get_args(kind):
            return value
        raise _Invalid
    if from_text and isinstance(value, str) and kind is not str:
        try:
            value = tomllib.loads(f"v = {value}")["v"]
        except tomllib.TOMLDecodeError:
            raise _Invalid from None
        return _coerce(kind, value, False)
    if kind is str:
        if isinstance(value, str):
            return value
        raise _Invalid
    if kind is bool:
        if isinstance(value, bool):
            return value
        raise _Invalid
    if kind is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise _Invalid
    if kind is float:
        return _number(value)
    if kind is date:
        if isinstance(value, date):
            return value
        raise _Invalid
    if kind is Estimate:
        if isinstance(value, list | tuple) and len(value) == 3:
            low, mode, high = (_number(v) for v in value)
        elif isinstance(value, Mapping) and set(value) == {"min", "mode", "max"}:
            low, mode, high = (_number(value[k]) for k in ("min", "mode", "max"))
        elif isinstance(value, Mapping) and set(value) == {"median", "sigma"}:
            median, sigma = _number(value["median"]), _number(value["sigma"])
            if median <= 0 or sigma <= 0:
                raise _Invalid
            return Estimate(median, median, median, sigma)
        else:
            low = mode = high = _number(value)
        if not low <= mode <= high:
            raise _Invalid
        return Estimate(low, mode, high)
    if origin in (tuple, list):
        item = typing.get_args(kind)[0]
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list | tuple):
            raise _Invalid
        return tuple(_coerce(item, v, False) for v in value)
    if origin in (dict, Mapping) or kind is Mapping:
        if not isinstance(value, Mapping):
            raise _Invalid
        args = typing.get_args(kind)
        inner = args[1] if args else str
        return MappingProxyType({str(k): _coerce(inner, v, False) for k, v in value.items()})
    raise _Invalid


_HINTS: dict[type[Any], dict[str, Any]] = {}


def _hints(cls: type[Any]) -> dict[str, Any]:
    """The option set's field types (resolved once a class: a project of 200 models builds
    a thousand option sets)."""
    found = _HINTS.get(cls)
    if found is None:
        found = _HINTS[cls] = typing.get_type_hints(cls)
    return found


def allowed_keys(cls: type[Any]) -> tuple[str, ...]:
    """The keys an option set accepts, in declaration order."""
    return tuple(f.name for f in dataclasses.fields(cls))


def build(
    cls: type[T],
    data: Mapping[str, Any],
    where: Path | str,
    prefix: str = "",
    *,
    from_text: bool = False,
    extra: Mapping[str, Any] | None = None,
) -> T:
    """Check a TOML table against the option set `cls` and build it.

    `prefix` is how the table's keys are named in messages (`options.`, `value.`, `risks[2].`).
    With `from_text`, values are command-line text parsed as TOML literals where the field is
    not text (`--option step_seconds=60`). `extra` fills fields the table does not hold.

    Raises:
        ConfigError: an unknown key, a missing required key, or a value of the wrong type.
    """
    hints = _hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    for key in data:
        if key not in fields:
            raise ConfigError(
                f"{where}: unknown key '{prefix}{key}'; allowed keys: "
                f"{', '.join(allowed_keys(cls)) or 'none'}"
            )
    values: dict[str, Any] = dict(extra or {})
    for name, spec in fields.items():
        if name not in data:
            required = (
                spec.default is dataclasses.MISSING
                and spec.default_factory is dataclasses.MISSING
                and name not in values
            )
            if required:
                raise ConfigError(
                    f"{where}: missing key '{prefix}{name}' ({_type_name(hints[name])})"
                )
            continue
        raw = data[name]
        try:
            value = _coerce(hints[name], raw, from_text)
        except _Invalid:
            allowed = _literal(hints[name])
            if allowed is not None and isinstance(raw, str):
                raise ConfigError(
                    f"{where}: key '{prefix}{name}' = {raw!r} is not allowed; allowed values: "
                    f"{', '.join(str(a) for a in allowed)}"
                ) from None
            raise ConfigError(
                f"{where}: key '{prefix}{name}' must be {_type_name(hints[name])}, got {raw!r}"
            ) from None
        rule = spec.metadata.get("check")
        if rule is not None and value is not None and not rule(value):
            raise ConfigError(
                f"{where}: key '{prefix}{name}' = {raw!r} {spec.metadata['problem']}; "
                f"use {spec.metadata['wanted']}"
            )
        values[name] = value
    return cls(**values)
