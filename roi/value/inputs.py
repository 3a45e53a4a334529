"""A value method's inputs, read from `kpi_values`: monthly KPI series, unit values, arms.

Months are the calendar month a KPI period starts in. A unit value (FP&A's approved value per
outcome) holds until a newer one is approved: each month takes the latest at or before it, the
model's own before one for every model.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import polars as pl

from roi import warehouse
from roi.errors import ConfigError
from roi.warehouse import Connection


@dataclass(frozen=True)
class ValueInputs:
    """What methods read: one connection and the model they are valuing."""

    con: Connection
    model_id: str
    file: Path  # the model's TOML, named in errors

    def series(self, kpi: str, key: str, segment: str = "all") -> pl.DataFrame:
        """Monthly `value` of a KPI for this model (or for every model), with its load ids.

        Raises:
            ConfigError: the KPI has no rows, naming the model file and key.
        """
        frame = warehouse.fetch_frame(
            self.con,
            """SELECT date_trunc('month', period_start)::DATE AS month, sum(value) AS value,
                      list(DISTINCT _load_id ORDER BY _load_id) AS load_ids
               FROM kpi_values
               WHERE kpi = ? AND segment = ? AND experiment_id IS NULL
                 AND (model_id = ? OR model_id IS NULL)
               GROUP BY 1 ORDER BY 1""",
            [kpi, segment, self.model_id],
        )
        if not frame.height:
            raise ConfigError(
                f"{self.file}: key '{key}' = {kpi!r}: no such KPI for model "
                f"{self.model_id!r} in kpi_values; {self.known_kpis()}"
            )
        return frame

    def unit_values(self, kpi: str, key: str, months: list[date]) -> pl.DataFrame:
        """Per month: the unit value in force (latest at or before it) and its unit."""
        frame = warehouse.fetch_frame(
            self.con,
            """SELECT date_trunc('month', period_start)::DATE AS since, value AS unit_value,
                      unit, model_id IS NOT NULL AS own, _load_id
               FROM kpi_values
               WHERE kpi = ? AND experiment_id IS NULL AND (model_id = ? OR model_id IS NULL)
               ORDER BY since, own""",
            [kpi, self.model_id],
        )
        if not frame.height:
            raise ConfigError(
                f"{self.file}: key '{key}' = {kpi!r}: no unit values for model "
                f"{self.model_id!r} in kpi_values; {self.known_kpis()}"
            )
        latest = frame.unique("since", keep="last", maintain_order=True)
        wanted = pl.DataFrame({"month": sorted(months)}, schema={"month": pl.Date})
        return wanted.join_asof(latest, left_on="month", right_on="since", strategy="backward")

    def arms(self, experiment: str, kpi: str, key: str) -> pl.DataFrame:
        """Per month: treatment and control mean, standard deviation and units."""
        frame = warehouse.fetch_frame(
            self.con,
            """SELECT date_trunc('month', period_start)::DATE AS month, segment, value, std_dev,
                      n, _load_id
               FROM kpi_values WHERE experiment_id = ? AND kpi = ?
                 AND segment IN ('treatment', 'control')
               ORDER BY ALL""",
            [experiment, kpi],
        )
        if not frame.height:
            have = warehouse.fetch_all(
                self.con,
                "SELECT DISTINCT kpi FROM kpi_values WHERE experiment_id = ? ORDER BY 1",
                [experiment],
            )
            found = (
                f"experiment {experiment!r} has KPI(s) {', '.join(r[0] for r in have)}"
                if have
                else f"no experiment {experiment!r} is loaded (an ab_test_csv connector)"
            )
            raise ConfigError(f"{self.file}: key '{key}' = {kpi!r}: no experiment arms; {found}")
        frame = frame.rename({"value": "mean"})
        treatment = frame.filter(pl.col("segment") == "treatment").drop("segment")
        control = frame.filter(pl.col("segment") == "control").drop("segment")
        return treatment.join(control, on="month", how="inner", suffix="_control")

    def known_kpis(self) -> str:
        """The KPIs this model has, for an error message."""
        rows = warehouse.fetch_all(
            self.con,
            "SELECT DISTINCT kpi FROM kpi_values WHERE (model_id = ? OR model_id IS NULL) "
            "AND experiment_id IS NULL ORDER BY 1",
            [self.model_id],
        )
        return "known KPIs: " + (", ".join(r[0] for r in rows) or "none (load the KPI sources)")
