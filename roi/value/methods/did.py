"""`did`: difference-in-differences of a KPI between treated and comparison segments.

Each segment's monthly KPI series, before and after `rollout`, fit the two-way fixed-effects
regression `value ~ D + C(segment) + C(month)` by OLS, where D is 1 for a treated segment from
the rollout on (on a balanced panel its estimate is the classic `treated * post` one; the month
effects also take out what moved every segment, which narrows the interval). Errors are
clustered by segment when there are at least `MIN_CLUSTERS` segments; with fewer,
cluster-robust errors are not reliable and heteroskedasticity-robust (HC1) errors are used
instead, as the interval note says. Intervals use t quantiles, never normal ones (the cautious
reading with few clusters, Cameron & Miller 2015): G − 1 degrees of freedom for G clusters,
the residual degrees of freedom with HC1 errors. The D
coefficient is the effect per segment and month (negated for a KPI where lower is better);
each month from the rollout on is valued at effect × treated segments × volume (if declared)
× unit value. Graded a quasi-experiment.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

import polars as pl

from roi.errors import ConfigError
from roi.value.inputs import ValueInputs
from roi.value.methods import Method, finish, register
from roi.value.methods.common import (
    SHARE,
    UNIT_VALUE,
    join_series,
    load_ids,
    unit_value_need,
    with_unit_values,
)

MIN_CLUSTERS = 10


@dataclass(frozen=True)
class DidValue:
    """Difference-in-differences of a KPI for a rollout with a comparison group.

    `treated` and `control` name KPI segments (one each, or several: regions, clinics); with
    `lower_is_better` the KPI is a cost (hours, losses), so a fall after the rollout is value.
    """

    method: Literal["did"]
    kpi: str
    treated: tuple[str, ...]
    control: tuple[str, ...]
    rollout: date
    volume_kpi: str | None = None
    unit_value_kpi: str | None = None
    unit_value: float | None = field(default=None, metadata=UNIT_VALUE)
    level: float = field(default=0.9, metadata=SHARE)
    lower_is_better: bool = False
    unit: str | None = None


def panel(spec: DidValue, inputs: ValueInputs) -> pl.DataFrame:
    """The KPI per segment and month, with `treated`, `post` and `d` (treated × post)."""
    frames = []
    for group, segments in ((1, spec.treated), (0, spec.control)):
        key = "value.treated" if group else "value.control"
        for segment in segments:
            series = inputs.series(spec.kpi, key, segment)
            frames.append(series.with_columns(segment=pl.lit(segment), treated=pl.lit(group)))
    frame = pl.concat(frames).with_columns(
        post=(pl.col("month") >= spec.rollout).cast(pl.Int64),
        month_key=pl.col("month").dt.strftime("%Y-%m"),
    )
    return frame.with_columns(d=pl.col("treated") * pl.col("post"))


def fit(spec: DidValue, frame: pl.DataFrame) -> tuple[float, float, float, str]:
    """(effect, low, high, interval note) of the two-way fixed-effects regression."""
    import statsmodels.formula.api as smf  # slow to import: on use

    data = frame.to_pandas()
    model = smf.ols("value ~ d + C(segment) + C(month_key)", data)
    segments = frame["segment"].n_unique()
    kwargs: dict[str, Any] = {"cov_type": "HC1"}
    errors = f"HC1 errors ({segments} segments: too few to cluster)"
    if segments >= MIN_CLUSTERS:
        kwargs = {
            "cov_type": "cluster",
            "cov_kwds": {"groups": data["segment"].astype("category").cat.codes},
        }
        errors = "errors clustered by segment"
    # t, not normal, quantiles: statsmodels takes G − 1 degrees of freedom for G clusters and
    # the residual degrees of freedom for HC1.
    result = model.fit(use_t=True, **kwargs)
    df = int(getattr(result, "df_resid_inference", result.df_resid))
    note = (
        f"{spec.level:.0%} interval, two-way fixed effects, {errors}, "
        f"t quantiles with {df} degrees of freedom"
    )
    effect = float(result.params["d"])
    low, high = (float(v) for v in result.conf_int(alpha=1 - spec.level).loc["d"])
    if spec.lower_is_better:
        effect, low, high = -effect, -high, -low
    return effect, low, high, note


def value(spec: DidValue, inputs: ValueInputs, currency: str) -> pl.DataFrame:
    """Monthly value rows of a model rolled out to some segments, others kept as comparison."""
    frame = panel(spec, inputs)
    for group, key in ((1, "value.treated"), (0, "value.control")):
        seen = frame.filter(pl.col("treated") == group)["post"].unique().to_list()
        if sorted(seen) != [0, 1]:
            raise ConfigError(
                f"{inputs.file}: key '{key}': difference-in-differences needs the KPI "
                f"{spec.kpi!r} of every segment before and after the rollout "
                f"({spec.rollout}); the {'treated' if group else 'comparison'} segments have "
                f"it only {'after' if seen == [1] else 'before'}"
            )
    effect, low, high, note = fit(spec, frame)
    treated = len(spec.treated)
    after = frame.filter(pl.col("post") == 1)
    months = after.group_by("month", maintain_order=True).agg(
        pl.col("load_ids").explode().unique().sort().alias("kpi_load_ids")
    )
    # Without a volume KPI the effect is per segment and month: nothing to scale, no unit cost.
    months = join_series(
        months, inputs, spec.volume_kpi, "value.volume_kpi", "volume", pl.lit(None, pl.Float64)
    )
    months = with_unit_values(months, inputs, spec.unit_value_kpi, spec.unit_value, currency)
    volume = pl.col("volume") if spec.volume_kpi else pl.lit(1.0)
    scale = volume * pl.col("unit_value") * treated
    direction = "fall" if spec.lower_is_better else "rise"
    return finish(
        months.with_columns(
            value=effect * scale,
            value_low=pl.min_horizontal(low * scale, high * scale),
            value_high=pl.max_horizontal(low * scale, high * scale),
            interval_note=pl.lit(note),
            unit=pl.lit(spec.unit or spec.volume_kpi or spec.kpi),
            evidence=pl.lit("quasi_experiment"),
            basis=pl.lit(
                f"difference-in-differences of {spec.kpi} ({direction} is value): "
                f"{', '.join(spec.treated)} vs {', '.join(spec.control)} from "
                f"{spec.rollout:%Y-%m}; {effect:,.4g} per segment and month"
            ),
            load_ids=load_ids("kpi_load_ids", "volume_load_ids", "unit_load"),
        ),
        {
            **({"volume": f"KPI {spec.volume_kpi}"} if spec.volume_kpi else {}),
            **unit_value_need(spec.unit_value_kpi),
        },
    )


register(Method("did", DidValue, value))
