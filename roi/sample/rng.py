"""Deterministic random streams for the sample generator, one per named part."""

from __future__ import annotations

import zlib

import numpy as np


def rng_for(seed: int, part: str) -> np.random.Generator:
    """A generator that depends only on `seed` and the part's name.

    Each file of the sample draws from its own stream, so changing how one part is generated
    never shifts the numbers of another.
    """
    return np.random.default_rng([seed, zlib.crc32(part.encode("utf-8"))])
