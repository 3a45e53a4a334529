"""ML model definitions (`models/<model_id>.toml`): typed, validated sections.

`[selectors]` say which cost lines, GPU workloads and LLM requests belong to the model;
`[value]` declares how its value is measured (one option set per method, found by name in
`VALUE_METHODS`); `[quality]` its quality metric and retraining; `[[risks]]` its failure modes.
Every section is checked when the project loads: an unknown key, a missing one or a value of the
wrong type is an error naming the file and the key.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal

from roi.config.typed import Estimate, allowed_keys, build, check
from roi.errors import ConfigError
from roi.vocabulary import SELF_HOSTED_PROVIDERS

STAGES = ("experiment", "production", "retired")
PRIORITY_RANGE = (-1_000_000, 1_000_000)
MODEL_ID = re.compile(r"[a-z0-9][a-z0-9._-]{0,62}")

_positive = check(lambda v: v > 0, "a number above 0")
_not_negative = check(lambda v: v >= 0, "a number of at least 0")


@dataclass(frozen=True)
class ModelSelectors:
    """How cost lines and usage are matched to one ML model, in priority order."""

    priority: int = field(
        default=100,
        metadata=check(
            lambda v: PRIORITY_RANGE[0] <= v <= PRIORITY_RANGE[1],
            f"a whole number from {PRIORITY_RANGE[0]} to {PRIORITY_RANGE[1]} (lower wins)",
            "is out of range",
        ),
    )
    tags: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: MappingProxyType({}))
    resource_ids: tuple[str, ...] = ()
    sub_accounts: tuple[str, ...] = ()
    gpu_workloads: tuple[str, ...] = ()
    llm_features: tuple[str, ...] = ()


# --- value: the method's name and its table, checked by the method (roi.value.methods) ----


@dataclass(frozen=True)
class ValueSpec:
    """A model's `[value]` section: the method it names and the section as written. The method
    (`roi.value.methods.resolve`) checks the keys against its own option set."""

    method: str
    options: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True)
class QualityConfig:
    """The model's quality metric, how it decays and how often it is retrained."""

    metric: str | None = None
    higher_is_better: bool = True
    retrain_every_months: int | None = field(default=None, metadata=_positive)
    decay_per_month: float | None = None  # declared metric points lost per month, if known
    retraining_cost: float | None = field(default=None, metadata=_not_negative)
    # The business KPI the metric drives (default: the value method's outcome KPI), and the
    # declared value of one metric point (0.01) per month where history cannot estimate it.
    kpi: str | None = None
    value_per_point: float | None = None


@dataclass(frozen=True)
class ApiPrices:
    """An API's list prices per 1M tokens, the yardstick for self-hosted serving."""

    input: float = field(metadata=_not_negative)
    output: float = field(metadata=_not_negative)
    cached_input: float | None = field(default=None, metadata=_not_negative)
    cache_write: float | None = field(default=None, metadata=_not_negative)


@dataclass(frozen=True)
class LlmServing:
    """How an LLM model's tokens are served: which gateway providers are self-hosted, and
    which API (at what prices) self-hosting is compared with."""

    api_reference: str | None = None
    api_prices: ApiPrices | None = None
    self_hosted_providers: tuple[str, ...] = SELF_HOSTED_PROVIDERS


RISK_KINDS = ("drift", "data_failure", "pipeline_failure", "adversarial", "outage", "compliance")
FINE_TIERS = ("prohibited", "high_risk", "information")

_estimate_not_negative = check(
    lambda v: v.low >= 0, "a number of at least 0 (or a range whose min is at least 0)"
)
_estimate_share = check(
    lambda v: v.low >= 0 and (v.sigma is None and v.high <= 1),
    "a share from 0 to 1, or a range [min, most likely, max] within 0 to 1",
)


@dataclass(frozen=True)
class RiskConfig:
    """One failure mode: how often, how bad, how long until noticed and fixed, at what cost.

    Each of `frequency_per_year`, `metric_drop`, `detection_delay_days`, `fix_days`,
    `recovery_cost` and `fine_share` is a point value, a PERT range or a lognormal. An
    `outage` loses the model's whole monthly value while it lasts; a `compliance` breach is
    also fined at `fine_share` of the EU AI Act maximum of its `tier` (roi.toml `[risk]`).
    """

    name: str
    frequency_per_year: Estimate = field(metadata=_estimate_not_negative)
    kind: Literal[
        "drift", "data_failure", "pipeline_failure", "adversarial", "outage", "compliance"
    ] = "drift"
    metric_drop: Estimate = field(
        default_factory=lambda: Estimate(0.0, 0.0, 0.0), metadata=_estimate_not_negative
    )
    detection_delay_days: Estimate = field(
        default_factory=lambda: Estimate(0.0, 0.0, 0.0), metadata=_estimate_not_negative
    )
    fix_days: Estimate = field(
        default_factory=lambda: Estimate(0.0, 0.0, 0.0), metadata=_estimate_not_negative
    )
    recovery_cost: Estimate = field(
        default_factory=lambda: Estimate(0.0, 0.0, 0.0), metadata=_estimate_not_negative
    )
    events: Literal["poisson", "fixed"] = "poisson"  # fixed: exactly round(frequency) a year
    tier: Literal["prohibited", "high_risk", "information"] | None = None
    fine_share: Estimate = field(
        default_factory=lambda: Estimate(1.0, 1.0, 1.0), metadata=_estimate_share
    )
    correlated_with: tuple[str, ...] = ()  # models sharing this failure's cause (an upstream)


@dataclass(frozen=True)
class ModelConfig:
    """One ML model of the portfolio (`models/<model_id>.toml`)."""

    model_id: str
    name: str
    owner: str
    business_unit: str
    stage: Literal["experiment", "production", "retired"]
    file: Path
    launched: date | None = None
    retired: date | None = None
    domain: str | None = None
    selectors: ModelSelectors = field(default_factory=ModelSelectors)
    value: ValueSpec | None = None
    quality: QualityConfig = field(default_factory=QualityConfig)
    risks: tuple[RiskConfig, ...] = ()
    training: str = "expense"  # or "amortize:N": training cost spread over N months
    llm: LlmServing = field(default_factory=LlmServing)

    @property
    def amortize_months(self) -> int | None:
        """Over how many months training cost is spread (None: expensed when incurred)."""
        return int(self.training.split(":")[1]) if self.training.startswith("amortize:") else None


TRAINING = re.compile(r"expense|amortize:([1-9][0-9]{0,2})")


@dataclass(frozen=True)
class _ModelFile:
    """The top-level keys of a model file (sections are built separately)."""

    model_id: str = field(
        metadata=check(
            lambda v: MODEL_ID.fullmatch(v) is not None,
            "1-63 lower-case letters, digits, '.', '_' or '-', starting with a letter or "
            "digit (e.g. fraud-detection)",
        )
    )
    name: str
    owner: str
    business_unit: str
    stage: Literal["experiment", "production", "retired"]
    launched: date | None = None
    retired: date | None = None
    domain: str | None = None
    selectors: Mapping[str, Any] | None = None
    value: Mapping[str, Any] | None = None
    quality: Mapping[str, Any] | None = None
    risks: tuple[Mapping[str, Any], ...] = ()
    llm: Mapping[str, Any] | None = None
    training: str = field(
        default="expense",
        metadata=check(
            lambda v: TRAINING.fullmatch(v) is not None,
            '"expense", or "amortize:N" to spread training cost over N months (1-999)',
        ),
    )


def _table(path: Path, key: str, value: Any) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ConfigError(f"{path}: [{key}] must be a table, got {value!r}")
    return value


def _value(path: Path, data: Mapping[str, Any]) -> ValueSpec:
    method = data.get("method")
    if not isinstance(method, str):
        shown = "missing" if method is None else repr(method)
        raise ConfigError(f"{path}: key 'value.method' is {shown}; name a value method")
    return ValueSpec(method, MappingProxyType(dict(data)))


def model_from_toml(path: Path, data: Mapping[str, Any]) -> ModelConfig:
    """Build and check one model definition.

    Raises:
        ConfigError: naming the file and the key, with the allowed keys or the expected type.
    """
    top = build(_ModelFile, data, path)
    selectors_data = dict(_table(path, "selectors", top.selectors or {}))
    if "tags" in selectors_data:
        tags = _table(path, "selectors.tags", selectors_data["tags"])
        selectors_data["tags"] = {
            str(k).strip().lower(): [v] if isinstance(v, str) else v for k, v in tags.items()
        }
    selectors = build(ModelSelectors, selectors_data, path, "selectors.")
    value = _value(path, _table(path, "value", top.value)) if top.value is not None else None
    quality = build(QualityConfig, _table(path, "quality", top.quality or {}), path, "quality.")
    risks = tuple(
        build(RiskConfig, _table(path, f"risks[{i}]", r), path, f"risks[{i}].")
        for i, r in enumerate(top.risks, 1)
    )
    for i, risk in enumerate(risks, 1):
        if (risk.kind == "compliance") != (risk.tier is not None):
            raise ConfigError(
                f"{path}: [[risks]] {i} ({risk.name!r}): a compliance risk needs key "
                f"'risks[{i}].tier' ({', '.join(FINE_TIERS)}), and only a compliance risk has one"
            )
    llm = _llm(path, _table(path, "llm", top.llm or {}))
    if top.launched and top.retired and top.retired < top.launched:
        raise ConfigError(f"{path}: key 'retired' ({top.retired}) is before 'launched'")
    return ModelConfig(
        model_id=top.model_id,
        name=top.name,
        owner=top.owner,
        business_unit=top.business_unit,
        stage=top.stage,
        file=path,
        launched=top.launched,
        retired=top.retired,
        domain=top.domain,
        selectors=selectors,
        value=value,
        quality=quality,
        risks=risks,
        training=top.training,
        llm=llm,
    )


def _llm(path: Path, data: Mapping[str, Any]) -> LlmServing:
    data = dict(data)
    prices = data.pop("api_prices", None)
    serving = build(LlmServing, data, path, "llm.")
    if prices is None:
        return serving
    built = build(ApiPrices, _table(path, "llm.api_prices", prices), path, "llm.api_prices.")
    return LlmServing(serving.api_reference, built, serving.self_hosted_providers)


__all__ = [
    "FINE_TIERS",
    "MODEL_ID",
    "PRIORITY_RANGE",
    "RISK_KINDS",
    "STAGES",
    "ApiPrices",
    "LlmServing",
    "ModelConfig",
    "ModelSelectors",
    "QualityConfig",
    "RiskConfig",
    "ValueSpec",
    "allowed_keys",
    "model_from_toml",
]
