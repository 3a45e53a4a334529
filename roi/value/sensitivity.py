"""KPI sensitivity (`kpi_sensitivity`): how much a model's business KPI, and its value, moves
per point of its quality metric, estimated from history.

For every model with a `[quality] metric` and a KPI it drives (`[quality] kpi`, else the value
method's outcome: `per_unit`'s and `kpi_regression`'s `kpi`, `confusion_payoff`'s true
positives, `cost_savings`' volume), the monthly KPI is regressed on the monthly mean metric
(with the volume KPI as a control where the method names one, else a linear trend, so that
growth is not read as quality) by OLS with Newey–West errors,
as `kpi_regression` does. One point is 0.01 of the metric. `measured` says whether the estimate
is usable for scenarios: at least `MIN_MONTHS` months and an interval above zero (more KPI for
a better metric); where
it is not, the scenarios fall back to the model's declared `[quality] value_per_point` and say
so.
"""

from __future__ import annotations

import polars as pl

from roi import tables
from roi.config import ModelConfig, ProjectConfig
from roi.errors import ConfigError
from roi.value.inputs import ValueInputs
from roi.value.methods import resolve
from roi.value.methods.common import with_unit_values
from roi.value.methods.kpi_regression import MIN_MONTHS, estimate
from roi.warehouse import Connection

LEVEL = 0.9
MAX_LAGS = 3


def _driven(model: ModelConfig) -> tuple[str, str | None, str | None, float | None] | None:
    """(KPI, volume control, unit value KPI, unit value constant) the metric drives."""
    if model.value is None:
        return (model.quality.kpi, None, None, None) if model.quality.kpi else None
    method, options = resolve(model)
    unit_kpi = getattr(options, "unit_value_kpi", None)
    unit_value = getattr(options, "unit_value", None)
    if model.quality.kpi:
        return model.quality.kpi, None, unit_kpi, unit_value
    driven = method.drives(options)
    if driven is None:
        return None
    return driven.kpi, driven.volume_kpi, driven.unit_value_kpi, driven.unit_value


def compute_sensitivity(con: Connection, project: ProjectConfig) -> pl.DataFrame:
    """`kpi_sensitivity` rows: one per model whose metric and KPI history could be regressed."""
    rows: list[dict[str, object]] = []
    currency = project.project.currency
    for model in project.models:
        driven = _driven(model)
        metric = model.quality.metric
        if driven is None or metric is None:
            continue
        kpi, volume_kpi, unit_kpi, constant = driven
        inputs = ValueInputs(con, model.model_id, model.file)
        try:
            frame = inputs.series(kpi, "quality.kpi").rename({"value": "kpi"})
            frame = frame.join(inputs.metric_series(metric, "quality.metric"), on="month")
            if volume_kpi:
                volume = inputs.series(volume_kpi, "value.volume_kpi").select(
                    "month", pl.col("value").alias("volume")
                )
                frame = frame.join(volume, on="month")
        except ConfigError:
            continue  # a value method with missing inputs reports it; a sensitivity is optional
        frame = frame.drop_nulls()
        row: dict[str, object] = {
            "model_id": model.model_id,
            "kpi": kpi,
            "metric": metric,
            "months": frame.height,
            "currency": currency,
            "level": LEVEL,
            "load_ids": sorted(
                {i for col in ("load_ids", "metric_load_ids") for ids in frame[col] for i in ids}
            ),
            "first_month": frame["month"].min(),
            "last_month": frame["month"].max(),
        }
        if frame.height < MIN_MONTHS or frame["metric"].n_unique() < 3:
            row |= {"measured": False, "note": f"{frame.height} month(s): too few to estimate"}
            rows.append(row)
            continue
        # Without a volume to control for, a linear trend takes out growth that would
        # otherwise read as quality (both rise over the months).
        frame = (
            frame.sort("month")
            .with_row_index("trend")
            .with_columns(pl.col("trend").cast(pl.Float64))
        )
        fit = estimate(frame, ("volume",) if volume_kpi else ("trend",), MAX_LAGS, LEVEL)
        unit = with_unit_values(frame.tail(1).select("month"), inputs, unit_kpi, constant, currency)
        unit_value = unit["unit_value"][0]
        # Usable for scenarios: the interval excludes zero and a better metric means more KPI.
        measured = fit.low > 0
        row |= {
            "kpi_per_point": fit.slope / 100,
            "kpi_per_point_low": fit.low / 100,
            "kpi_per_point_high": fit.high / 100,
            "std_error": fit.std_error / 100,
            "p_value": fit.p_value,
            "r_squared": fit.r_squared,
            "unit_value": unit_value,
            "value_per_point": None if unit_value is None else fit.slope / 100 * unit_value,
            "measured": measured,
            "note": fit.note
            if measured
            else fit.note
            + (
                "; the interval includes zero"
                if fit.low <= 0 <= fit.high
                else "; the KPI falls as the metric rises"
            ),
        }
        rows.append(row)
    schema = tables.KPI_SENSITIVITY.polars_schema()
    if not rows:
        return tables.KPI_SENSITIVITY.empty()
    frame = pl.DataFrame(rows, schema_overrides=schema, infer_schema_length=None)
    return frame.select(list(schema)).cast(schema)  # type: ignore[arg-type]
