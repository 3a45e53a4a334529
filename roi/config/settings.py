"""roi.toml's sections (`[project]`, `[attribution]`, `[finance]`, `[risk]`, `[engine]`) as
typed, frozen option sets, built by the typed builder, with `ROI__SECTION__KEY` environment
overrides.

An override is checked on its own first, so a bad value names the environment variable that
set it rather than the file.
"""

from __future__ import annotations

import dataclasses
import tomllib
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal

from roi.config.typed import build, check
from roi.errors import ConfigError
from roi.vocabulary import MEMORY_LIMIT

ENV_PREFIX = "ROI__"
MonthBasis = Literal["billing_period", "charge_period"]


@dataclass(frozen=True)
class ProjectSettings:
    """The `[project]` section."""

    name: str = "roi project"
    currency: str = field(
        default="USD",
        metadata=check(lambda v: len(v) == 3 and v.isalpha(), "a currency code like USD"),
    )
    warehouse: str = "roi.duckdb"
    reports_out: str = "reports/out"
    # DuckDB's memory cap; larger work spills to disk.
    memory_limit: str = field(
        default="4GB",
        metadata=check(
            lambda v: MEMORY_LIMIT.fullmatch(v) is not None,
            'a size like "4GB" or "512MB"',
            "is not a size",
        ),
    )


@dataclass(frozen=True)
class AttributionSettings:
    """The `[attribution]` section."""

    month_basis: MonthBasis = "billing_period"
    # Tags that mark a line as model training (expensed, or amortized per the model's
    # `training`), e.g. { "ml-stage" = ["training"] }; keys are matched without regard to case.
    training_tags: Mapping[str, tuple[str, ...]] = field(
        default_factory=lambda: MappingProxyType({})
    )
    # Gateway provider → billing provider, beyond roi's own list (roi.vocabulary),
    # e.g. { openai = "OpenAI" } once OpenAI's invoices are loaded as billing lines.
    usage_billed_by: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    def __post_init__(self) -> None:
        tags = {str(k).strip().lower(): v for k, v in self.training_tags.items()}
        object.__setattr__(self, "training_tags", MappingProxyType(tags))


@dataclass(frozen=True)
class FinanceSettings:
    """The `[finance]` section."""

    discount_rate: float = field(
        default=0.10, metadata=check(lambda v: 0 <= v < 1, "a rate in [0, 1), e.g. 0.10")
    )
    # Months from a model's first month that its NPV and IRR cover: the months to date, then
    # the latest net (mean of the last three months) held flat to the end of the horizon.
    horizon_months: int = field(
        default=36,
        metadata=check(lambda v: 1 <= v <= 600, "a whole number of months from 1 to 600, e.g. 36"),
    )


_share_open = check(lambda v: 0 < v < 1, "a level between 0 and 1, e.g. 0.95")
_correlation = check(lambda v: 0 <= v < 1, "a correlation from 0 to below 1, e.g. 0.3")


@dataclass(frozen=True)
class RiskSettings:
    """The `[risk]` section: what the failure-exposure scenarios need about the company."""

    # Worldwide annual turnover in the project currency, for EU AI Act fines (Article 99).
    annual_turnover: float | None = field(
        default=None, metadata=check(lambda v: v >= 0, "a number of at least 0")
    )
    sme: bool = False  # SMEs and start-ups: the lower of the fixed amount and the share
    eur_rate: float = field(  # project currency per EUR (the Act's amounts are in EUR)
        default=1.0, metadata=check(lambda v: v > 0, "a number above 0, e.g. 1.08")
    )
    correlation: float = field(default=0.0, metadata=_correlation)  # every two models
    shared_cause_correlation: float = field(default=0.6, metadata=_correlation)
    draws: int = field(
        default=100_000,
        metadata=check(lambda v: 1_000 <= v <= 10_000_000, "1,000 to 10,000,000 draws"),
    )
    level: float = field(default=0.95, metadata=_share_open)  # VaR and expected shortfall


EngineKind = Literal["duckdb", "spark"]
# How `[engine] billing`, `usage` and `gpu_usage` are read: Parquet or CSV files (a folder,
# a glob or an object-store URL), or a table of the Spark catalog.
SourceFormat = Literal["parquet", "csv", "table"]


def _spark_remote(value: str) -> bool:
    return value.startswith("sc://")


@dataclass(frozen=True)
class EngineSettings:
    """The `[engine]` section: where the folds from billing lines, LLM requests and GPU
    samples to monthly groups run.

    `duckdb` (the default) folds the warehouse's rows on this machine. `spark` folds them in
    a Spark session: a local one (`master`, e.g. "local[2]") or a Spark Connect server
    (`remote`, e.g. "sc://host:15002"), reading the warehouse's own billing files and usage
    tables, or the rows where they already live: `billing` (a folder or object-store URL of
    Parquet or CSV files with `cost_lines`' columns, or with `billing_format = "table"` a
    catalog table), `usage` (`inference_usage`'s columns) and `gpu_usage` (`gpu_usage`'s),
    each with its `_format`.
    """

    kind: EngineKind = "duckdb"
    master: str = "local[2]"
    remote: str | None = field(
        default=None,
        metadata=check(_spark_remote, 'a Spark Connect URL like "sc://host:15002"'),
    )
    billing: str | None = None
    billing_format: SourceFormat = "parquet"
    usage: str | None = None  # the LLM requests (default: the warehouse's inference_usage)
    usage_format: SourceFormat = "parquet"
    gpu_usage: str | None = None  # the GPU samples (default: the warehouse's gpu_usage)
    gpu_usage_format: SourceFormat = "parquet"
    # Extra Spark settings, e.g. { "spark.driver.memory" = "8g" }.
    spark_conf: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def sources(self) -> dict[str, str]:
        """The keys naming rows read where they live (`billing`, `usage`, `gpu_usage`)."""
        named = {"billing": self.billing, "usage": self.usage, "gpu_usage": self.gpu_usage}
        return {key: where for key, where in named.items() if where}

    @property
    def reads_elsewhere(self) -> bool:
        """Whether the folds read rows the warehouse does not hold (its files and tables are
        then not all the inputs: roi cannot tell which months changed, so attributes all)."""
        return self.kind == "spark" and bool(self.sources)


def _rates(value: Mapping[str, float]) -> bool:
    return all(
        len(k) == 3 and k.isalpha() and k.isupper() and isinstance(v, int | float) and v > 0
        for k, v in value.items()
    )


@dataclass(frozen=True)
class PricingSettings:
    """The `[pricing]` section: the price book LLM requests without a reported cost are priced
    from (`roi.pricing`)."""

    # Where list prices come from: "genai-prices" (the installed package's dated prices), or
    # the path of a price file in LiteLLM's model_prices_and_context_window.json format.
    library: str = "genai-prices"
    # A TOML file of contracted prices per model (per 1M tokens), which win over the library.
    contracted: str | None = None
    # Project currency per unit of another currency, e.g. { USD = 0.92 } in a EUR project: for
    # library prices (USD) and usage reported in another currency.
    fx: Mapping[str, float] = field(
        default_factory=lambda: MappingProxyType({}),
        metadata=check(_rates, "a table of ISO codes to rates above 0, e.g. { USD = 0.92 }"),
    )

    def __post_init__(self) -> None:
        object.__setattr__(self, "fx", MappingProxyType(dict(self.fx)))


@dataclass(frozen=True)
class Settings:
    """All of roi.toml."""

    project: ProjectSettings = field(default_factory=ProjectSettings)
    attribution: AttributionSettings = field(default_factory=AttributionSettings)
    finance: FinanceSettings = field(default_factory=FinanceSettings)
    risk: RiskSettings = field(default_factory=RiskSettings)
    engine: EngineSettings = field(default_factory=EngineSettings)
    pricing: PricingSettings = field(default_factory=PricingSettings)


SECTIONS: dict[str, type[Any]] = typing.get_type_hints(Settings)
# roi.toml sections and their keys (environment overrides are checked against these).
PROJECT_KEYS: dict[str, tuple[str, ...]] = {
    name: tuple(f.name for f in dataclasses.fields(cls)) for name, cls in SECTIONS.items()
}


def _env_overrides(environ: Mapping[str, str]) -> dict[str, dict[str, tuple[str, Any]]]:
    """section → key → (the variable, its value parsed as a TOML literal where it is one)."""
    found: dict[str, dict[str, tuple[str, Any]]] = {}
    for var, raw in sorted(environ.items()):
        if not var.startswith(ENV_PREFIX):
            continue
        parts = var[len(ENV_PREFIX) :].lower().split("__")
        if len(parts) != 2 or not all(parts):
            raise ConfigError(
                f"environment variable {var}: expected ROI__SECTION__KEY, "
                "e.g. ROI__PROJECT__WAREHOUSE"
            )
        section, key = parts
        if key not in PROJECT_KEYS.get(section, ()):
            allowed = ", ".join(
                f"ROI__{s.upper()}__{k.upper()}" for s, keys in PROJECT_KEYS.items() for k in keys
            )
            raise ConfigError(
                f"environment variable {var} overrides no roi.toml key; allowed: {allowed}"
            )
        try:
            value: Any = tomllib.loads(f"v = {raw}")["v"]
        except tomllib.TOMLDecodeError:
            value = raw
        found.setdefault(section, {})[key] = (var, value)
    return found


def read_settings(path: Path, data: Mapping[str, Any], environ: Mapping[str, str]) -> Settings:
    """roi.toml's data with the environment's overrides, as typed settings.

    Raises:
        ConfigError: an unknown section or key, or a value of the wrong type or range, naming
            the file (or the environment variable that set it), the key and what to write.
    """
    for section in data:
        if section not in SECTIONS:
            raise ConfigError(
                f"{path}: unknown key {section!r}; allowed keys: {', '.join(SECTIONS)}"
            )
    overrides = _env_overrides(environ)
    built: dict[str, Any] = {}
    for section, cls in SECTIONS.items():
        table = data.get(section, {})
        if not isinstance(table, Mapping):
            raise ConfigError(f"{path}: [{section}] must be a table")
        merged = dict(table)
        for key, (var, value) in overrides.get(section, {}).items():
            build(cls, {key: value}, f"environment variable {var}", f"{section}.")
            merged[key] = value
        built[section] = build(cls, merged, path, f"{section}.")
    engine: EngineSettings = built["engine"]
    if engine.kind == "duckdb" and engine.sources:
        key = next(iter(engine.sources))
        raise ConfigError(
            f"{path}: key 'engine.{key}' is read by kind = \"spark\" only (DuckDB folds the "
            f'warehouse\'s rows); set [engine] kind = "spark", or load the rows with a '
            f"connector and remove {key}"
        )
    built["engine"] = _relative_to(engine, path.parent)
    return Settings(**built)


def _relative_to(engine: EngineSettings, root: Path) -> EngineSettings:
    """`[engine]` with its local folders relative to the project's folder (as `warehouse`
    is); URLs (`s3a://…`), absolute paths and catalog tables as written."""
    changes: dict[str, Any] = {
        key: str((root / Path(where).expanduser()).absolute())
        for key, where in engine.sources.items()
        if getattr(engine, f"{key}_format") != "table" and "://" not in where
    }
    return dataclasses.replace(engine, **changes) if changes else engine
