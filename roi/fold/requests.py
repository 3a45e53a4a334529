"""Which LLM requests a pool takes (what attribution asks of the usage fold), apart from the
fold itself so that naming them does not load Ibis."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Requests:
    """Which requests a pool takes: its providers, or a deployment matching `deployments`."""

    providers: tuple[str, ...] = ()
    deployments: str | None = None  # one regular expression (the pool's globs, alternated)
