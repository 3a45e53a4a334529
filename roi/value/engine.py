"""Compute `model_value` for every model with a `[value]` section, `model_roi` from it, the KPI
sensitivities and the LLM unit costs.

The tables are small (months × models) and depend on the KPI loads as well as on attribution,
so they are recomputed whole after each attribution run, in one transaction. A model whose
inputs are missing stops the step with an error naming its file and key (nothing is written);
a model whose method reads a kind of input that is not loaded at all (no KPIs, no A/B results,
no model metrics yet) has a no-value row per month of cost saying what to connect.
"""

from __future__ import annotations

import polars as pl

from roi import tables, warehouse
from roi.config import ModelConfig, ProjectConfig
from roi.value.inputs import SourceNotLoaded, ValueInputs
from roi.value.llm_costs import compute_llm_unit_costs
from roi.value.methods import VALUE_ROWS, resolve
from roi.value.pnl import model_roi
from roi.value.sensitivity import compute_sensitivity
from roi.warehouse import Connection


def retired_rows(
    con: Connection, model: ModelConfig, currency: str, measured: pl.DataFrame
) -> pl.DataFrame:
    """A no-value row, with the reason, for each month after the model's retirement month
    that still has cost and no measured value: its cost is then a loss, never left silent."""
    if model.retired is None:
        return measured.clear()
    reason = f"no value: retired on {model.retired:%Y-%m-%d}; its cost after retirement is a loss"
    return no_value_rows(
        con, model, currency, measured, reason, "retired: no value after retirement"
    )


def no_value_rows(
    con: Connection,
    model: ModelConfig,
    currency: str,
    measured: pl.DataFrame,
    reason: str,
    basis: str,
) -> pl.DataFrame:
    """A row with no value and its reason for each month the model has cost and no measured
    value (after its retirement month, for a retired model)."""
    after = model.retired.replace(day=1) if model.retired else None
    months = warehouse.fetch_frame(
        con,
        """SELECT DISTINCT month FROM model_costs
           WHERE model_id = ? AND currency = ? AND (?::DATE IS NULL OR month > ?::DATE)
           ORDER BY month""",
        [model.model_id, currency, after, after],
    )
    valued = measured.filter(pl.col("value").is_not_null())["month"]
    months = months.filter(~pl.col("month").is_in(valued.implode()))
    filled = months.with_columns(
        reason=pl.lit(reason),
        currency=pl.lit(currency),
        evidence=pl.lit("none"),
        basis=pl.lit(basis),
        load_ids=pl.lit([], pl.List(pl.String)),
    )
    return pl.concat([measured.clear(), filled], how="diagonal_relaxed").select(measured.columns)


def _measure(con: Connection, model: ModelConfig, currency: str) -> tuple[pl.DataFrame, object]:
    """The model's measured value rows and its method's options (None without a method); a
    model whose method's whole kind of input is not loaded gets no-value rows saying so."""
    empty = pl.DataFrame(schema=VALUE_ROWS)
    if model.value is None:
        return empty, None
    method, options = resolve(model)
    try:
        return method.compute(
            options, ValueInputs(con, model.model_id, model.file), currency
        ), options
    except SourceNotLoaded as missing:
        reason = f"no value: {missing}"
        return no_value_rows(con, model, currency, empty, reason, reason), options


def compute_value(con: Connection, project: ProjectConfig) -> pl.DataFrame:
    """`model_value` rows: each valued model's monthly value, interval, volume and grade, and
    a no-value row for each month a retired model still cost something."""
    frames = []
    currency = project.project.currency
    for model in project.models:
        rows, options = _measure(con, model, currency)
        retired = retired_rows(con, model, currency, rows)
        rows = pl.concat(
            [rows.filter(~pl.col("month").is_in(retired["month"].implode())), retired]
        ).sort("month")
        if not rows.height:
            continue
        frames.append(
            rows.with_columns(
                model_id=pl.lit(model.model_id),
                method=pl.lit(model.value.method if model.value else "none"),
                interval_level=pl.lit(getattr(options, "level", None), pl.Float64),
            )
        )
    if not frames:
        return tables.MODEL_VALUE.empty()
    schema = tables.MODEL_VALUE.polars_schema()
    return pl.concat(frames).select(list(schema)).cast(schema)  # type: ignore[arg-type]


def replace_value(con: Connection, project: ProjectConfig) -> tuple[int, int]:
    """Recompute the value tables inside the caller's transaction (the one that replaced the
    attribution they are computed from); (value rows, roi rows)."""
    value = compute_value(con, project)
    llm = compute_llm_unit_costs(con, project)
    roi = model_roi(con, project, value, llm)
    has_metrics = warehouse.fetch_one(con, "SELECT count(*) FROM model_metrics")[0]
    sensitivity = (
        compute_sensitivity(con, project) if has_metrics else tables.KPI_SENSITIVITY.empty()
    )
    written = (
        ("model_value", value),
        ("model_roi", roi),
        ("kpi_sensitivity", sensitivity),
        ("llm_unit_costs", llm),
    )
    for name, frame in written:
        warehouse.execute(con, f"DELETE FROM {name}")
        if frame.height:
            with warehouse.registered(con, "_new_rows", frame):
                warehouse.execute(con, f"INSERT INTO {name} BY NAME SELECT * FROM _new_rows")
    return value.height, roi.height
