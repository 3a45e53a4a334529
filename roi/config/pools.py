"""Shared pools (`pools/<name>.toml`): cost that several models share, and how it is split.

A pool *claims* cost lines that no model's own selectors took (a cluster tag, an account, a
resource pattern, a service) and splits them each month by a declared *basis*:

- `gpu_hours`: GPU-hours each model's workloads held on the pool's clusters (MIG slices and
  time-sliced GPUs count as their fraction); `gpu_hours_utilization`: the same weighted by
  how busy the GPUs were. GPU capacity no workload held is idle: its own `__idle__` line
  (`idle = "separate"`, the default) or shared back to the models by their weight
  (`idle = "share"`). Under `gpu_hours_utilization` the GPU-hours workloads held but did not
  keep busy are the other idle: their own `__idle_held__` line (`idle_held = "separate"`, the
  default) or shared back by weight (`idle_held = "share"`);
- `tokens`: input + output tokens of each model's requests to the pool's LLM deployments;
  `tokens_priced`: input, cached input and output tokens weighted by `token_prices`;
  `reported_cost`: the cost the LLM gateway reported per model; `requests`: request counts;
- `direct_cost`: each model's directly attributed cost that month; `even`: equal parts;
  `fixed`: declared percentages (`shares`).

A month in which the basis has no usage keeps the pool's cost visible as `__unallocated__`
("pool <name>: no usage in <month>"), never dropped or spread silently.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal

from roi.config.typed import build, check
from roi.errors import ConfigError
from roi.vocabulary import GPU_BASES, TOKEN_BASES, PoolBasis, PoolCostType

TOKEN_KINDS = ("input", "cached_input", "cache_write", "output")


@dataclass(frozen=True)
class PoolClaims:
    """Which cost lines the pool takes (any selector matching claims the line)."""

    tags: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: MappingProxyType({}))
    resource_ids: tuple[str, ...] = ()
    sub_accounts: tuple[str, ...] = ()
    services: tuple[str, ...] = ()


@dataclass(frozen=True)
class PoolUsage:
    """Which usage rows make the basis: GPU clusters, or LLM providers and deployments."""

    clusters: tuple[str, ...] = ()
    providers: tuple[str, ...] = ()
    deployments: tuple[str, ...] = ()


@dataclass(frozen=True)
class _PoolFile:
    title: str
    basis: PoolBasis
    claims: Mapping[str, Any]
    usage: Mapping[str, Any] | None = None
    idle: Literal["separate", "share"] = "separate"
    idle_held: Literal["separate", "share"] | None = None
    cost_type: PoolCostType | None = None
    models: tuple[str, ...] = ()
    shares: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}))
    token_prices: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}))
    priority: int = field(
        default=100, metadata=check(lambda v: -1_000_000 <= v <= 1_000_000, "-1000000..1000000")
    )


@dataclass(frozen=True)
class PoolConfig:
    """One shared pool, checked."""

    pool_id: str
    title: str
    file: Path
    basis: str
    claims: PoolClaims
    usage: PoolUsage
    idle: str = "separate"
    idle_held: str = "separate"
    cost_type: str | None = None
    models: tuple[str, ...] = ()
    shares: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}))
    token_prices: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}))
    priority: int = 100

    @property
    def rule_id(self) -> str:
        """The rule id its allocated rows carry."""
        return f"pool:{self.pool_id}"


def pool_from_toml(path: Path, data: Mapping[str, Any]) -> PoolConfig:
    """Build and check one pool definition.

    Raises:
        ConfigError: naming the file and the key: unknown keys, wrong types, a basis without
            the usage it needs, shares that do not add up to 100.
    """
    top = build(_PoolFile, data, path)
    claims_data = dict(top.claims)
    if "tags" in claims_data and isinstance(claims_data["tags"], Mapping):
        claims_data["tags"] = {
            str(k).strip().lower(): [v] if isinstance(v, str) else v
            for k, v in claims_data["tags"].items()
        }
    claims = build(PoolClaims, claims_data, path, "claims.")
    if not (claims.tags or claims.resource_ids or claims.sub_accounts or claims.services):
        raise ConfigError(
            f"{path}: [claims] names no cost lines; give tags, resource_ids, sub_accounts or "
            "services"
        )
    usage = build(PoolUsage, dict(top.usage or {}), path, "usage.")
    if top.basis in GPU_BASES and not usage.clusters:
        raise ConfigError(
            f"{path}: basis {top.basis!r} needs [usage] clusters (the gpu_usage clusters whose "
            "GPU-hours split the pool)"
        )
    if top.basis in TOKEN_BASES and not (usage.providers or usage.deployments):
        raise ConfigError(
            f"{path}: basis {top.basis!r} needs [usage] providers or deployments (the LLM "
            "requests that split the pool)"
        )
    if top.idle_held is not None and top.basis != "gpu_hours_utilization":
        raise ConfigError(
            f"{path}: idle_held applies to basis 'gpu_hours_utilization' only (by "
            f"{top.basis!r} held GPU-hours are the holder's cost, not idle); remove it"
        )
    if top.basis == "tokens_priced":
        unknown = sorted(set(top.token_prices) - set(TOKEN_KINDS))
        if unknown or not top.token_prices:
            raise ConfigError(
                f"{path}: basis 'tokens_priced' needs token_prices for "
                f"{', '.join(TOKEN_KINDS)} (price per 1M tokens); unknown: {unknown or 'none'}"
            )
    if top.basis == "fixed":
        total = sum(top.shares.values())
        if not top.shares or abs(total - 100) > 1e-9:
            raise ConfigError(
                f"{path}: basis 'fixed' needs shares (model id = percent) adding up to 100; "
                f"they add up to {total:g}"
            )
    if top.basis == "even" and not top.models:
        raise ConfigError(f"{path}: basis 'even' needs models (the model ids sharing it)")
    return PoolConfig(
        pool_id=path.stem,
        title=top.title,
        file=path,
        basis=top.basis,
        claims=claims,
        usage=usage,
        idle=top.idle,
        idle_held=top.idle_held or "separate",
        cost_type=top.cost_type,
        models=top.models,
        shares=top.shares,
        token_prices=top.token_prices,
        priority=top.priority,
    )


def check_pool_models(pools: tuple[PoolConfig, ...], model_ids: set[str]) -> None:
    """Every model a pool names must be a model of the project.

    Raises:
        ConfigError: naming the pool file and the unknown model id.
    """
    for pool in pools:
        for model_id in (*pool.models, *pool.shares):
            if model_id not in model_ids:
                raise ConfigError(
                    f"{pool.file}: model {model_id!r} is not a model of the project "
                    f"(models/*.toml); known: {', '.join(sorted(model_ids))}"
                )
