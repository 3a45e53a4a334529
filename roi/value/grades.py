"""The evidence grades a value carries, strongest first (../shared/reference/methods.md §1)."""

from __future__ import annotations

import typing
from typing import Literal

Evidence = Literal["experiment", "quasi_experiment", "per_unit_baseline", "assumption"]
EVIDENCE: tuple[str, ...] = typing.get_args(Evidence)
