"""`roi models suggest`: model definitions proposed from the billing data's tags.

Companies tag cost by application, service or model long before they define ML models in roi.
The tag keys are ranked by how much of the cost they cover and whether their name says they
name an application or model (`application`, `app`, `service`, `model`, `workload`, `project`;
not `environment`, `owner`, `cost center`, …). For the chosen key, each value becomes a model
with its monthly cost; `--write` writes them as `models/<id>.toml`, selecting the value's lines
by that tag. Value methods are left to the owners: a model without one shows its cost.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from roi import warehouse
from roi.context import Context
from roi.errors import ConfigError
from roi.start.summary import TagKey, tag_keys

# Words in a tag key that say it names what runs (a model, an application), or does not.
_NAMES_WORKLOADS = (
    "model",
    "ml",
    "app",
    "application",
    "service",
    "workload",
    "project",
    "product",
)
_NAMES_OTHER = ("env", "stage", "owner", "team", "cost", "center", "centre", "business", "region")
_MODEL_ID = re.compile(r"[^a-z0-9._-]+")


@dataclass(frozen=True)
class KeyCandidate:
    """A tag key ranked as a model key."""

    tag: TagKey
    score: float
    why: str


@dataclass(frozen=True)
class ModelCandidate:
    """One tag value as a model: its id and cost."""

    model_id: str
    value: str
    months: int
    total: Decimal
    monthly: Decimal  # average over the months it has cost
    share: float
    exists: bool  # a model file of that id exists already

    def to_document(self) -> dict[str, Any]:
        """JSON-ready (money as decimal text)."""
        return {
            "model_id": self.model_id,
            "tag_value": self.value,
            "months": self.months,
            "total_cost": str(self.total),
            "monthly_cost": str(self.monthly),
            "share": self.share,
            "defined": self.exists,
        }


@dataclass(frozen=True)
class Suggestion:
    """The ranked keys, the chosen one and its values with cost as models (the `top` costliest;
    `left_out` values have less or no cost)."""

    keys: list[KeyCandidate]
    key: str
    models: list[ModelCandidate]
    left_out: int = 0


def _score(tag: TagKey) -> KeyCandidate:
    words = set(re.split(r"[^a-z]+", tag.key.lower()))
    if words & set(_NAMES_OTHER):
        return KeyCandidate(tag, 0.0, "names something other than a workload")
    if not 2 <= tag.values <= 500:
        return KeyCandidate(tag, tag.share * 0.1, f"{tag.values} value(s)")
    hinted = bool(words & set(_NAMES_WORKLOADS))
    why = "names a workload" if hinted else "a tag on part of the cost"
    return KeyCandidate(tag, tag.share * (3.0 if hinted else 1.0), why)


def model_id_of(value: str) -> str:
    """A tag value as a model id: lower case, letters, digits, '.', '_' and '-'."""
    text = _MODEL_ID.sub("-", value.strip().lower()).strip("-._") or "model"
    return text[:63]


def suggest(ctx: Context, key: str | None = None, top: int = 20) -> Suggestion:
    """Rank the billing lines' tag keys and list the chosen key's `top` costliest values (with
    a cost above zero) as models.

    Raises:
        ConfigError: no billing lines with tags, or `key` is not a tag key of them.
    """
    with ctx.reader() as con:
        ranked = sorted((_score(t) for t in tag_keys(con, "true", [])), key=lambda c: -c.score)
        if not ranked:
            raise ConfigError(
                "the billing lines carry no tags, so no model can be suggested from them; "
                "write models/*.toml with resource_ids or sub_accounts selectors"
            )
        chosen = key.lower() if key else ranked[0].tag.key
        if chosen not in {c.tag.key for c in ranked}:
            known = ", ".join(c.tag.key for c in ranked)
            raise ConfigError(f"no tag key {chosen!r} on the billing lines; tag keys: {known}")
        rows = warehouse.fetch_all(
            con,
            """WITH lines AS (SELECT tags[?] AS value, billing_period_start AS month,
                                     effective_cost FROM cost_lines),
                    total AS (SELECT sum(abs(effective_cost)) AS t FROM lines)
               SELECT value, count(DISTINCT month), sum(effective_cost),
                      coalesce(sum(effective_cost) / nullif(any_value(t), 0), 0)
               FROM lines, total WHERE value IS NOT NULL GROUP BY value ORDER BY 3 DESC, 1""",
            [chosen],
        )
    defined = {m.model_id for m in ctx.project.models}
    # Tag values are matched without regard to case: values that differ only so are one model.
    grouped: dict[str, list[tuple[str, int, Decimal, float]]] = {}
    for value, months, total, share in rows:
        grouped.setdefault(model_id_of(str(value)), []).append(
            (str(value), int(months), Decimal(total), float(share))
        )
    models = []
    for model_id, parts in grouped.items():
        amount = sum((p[2] for p in parts), Decimal(0))
        months = max(p[1] for p in parts)
        monthly = (amount / months).quantize(Decimal("0.01")) if months else Decimal(0)
        share = sum(p[3] for p in parts)
        value = max(parts, key=lambda p: p[2])[0]
        models.append(
            ModelCandidate(model_id, value, months, amount, monthly, share, model_id in defined)
        )
    models.sort(key=lambda m: (-m.total, m.model_id))
    costly = [m for m in models if m.total > 0][:top]
    return Suggestion(ranked, chosen, costly, len(models) - len(costly))


def model_toml(key: str, model: ModelCandidate) -> str:
    """The definition of a suggested model: selected by its tag, no value method yet."""
    value = model.value.replace("\\", "\\\\").replace('"', '\\"')
    name = value
    return (
        f'# Suggested by `roi models suggest` from the tag {key} = "{value}" '
        f"({model.share:.1%} of the billing lines' cost, {model.monthly:,.2f} a month).\n"
        f'model_id = "{model.model_id}"\n'
        f'name = "{name}"\n'
        'owner = "unknown"          # who answers for the model\n'
        'business_unit = "unknown"\n'
        'stage = "production"       # experiment, production or retired\n\n'
        "# Which cost lines, GPU workloads and LLM requests are this model's.\n"
        "[selectors]\n"
        f'tags = {{ "{key}" = ["{value}"] }}\n\n'
        "# How its value is measured: add a [value] section (README: Value and ROI).\n"
    )


def write_models(
    ctx: Context, suggestion: Suggestion, values: list[str] | None = None
) -> list[Path]:
    """Write the suggested models (all, or those whose tag value or id is in `values`) that
    have no definition yet; the files written."""
    folder = ctx.project.root / "models"
    folder.mkdir(parents=True, exist_ok=True)
    wanted = {v.lower() for v in values} if values else None
    written = []
    seen: set[str] = set()
    for model in suggestion.models:
        if model.exists or model.model_id in seen:
            continue
        if wanted is not None and not {model.value.lower(), model.model_id} & wanted:
            continue
        seen.add(model.model_id)
        path = folder / f"{model.model_id}.toml"
        path.write_text(model_toml(suggestion.key, model), encoding="utf-8")
        written.append(path)
    return written
