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


class SourceNotLoaded(ConfigError):
    """A whole kind of input a value method reads (A/B results, model metrics) is not loaded:
    the model has no value yet, which is a no-value row with this reason, not a failed run."""


@dataclass(frozen=True)
class ValueInputs:
    """What methods read: one connection and the model they are valuing."""

    con: Connection
    model_id: str
    file: Path  # the model's TOML, named in errors

    def series(self, kpi: str, key: str, segment: str = "all") -> pl.DataFrame:
        """Monthly `value` of a KPI for this model (or for every model), with its load ids.

        Sums and means here add the values in one order (sorted), not the order rows happen to
        be stored or scanned in: two builds of the same inputs give the same bits, and the
        scenario runs on them the same id.

        Raises:
            SourceNotLoaded: no KPI at all is loaded.
            ConfigError: the KPI has no rows, naming the model file and key.
        """
        frame = warehouse.fetch_frame(
            self.con,
            """SELECT date_trunc('month', period_start)::DATE AS month,
                      list_sum(list(value ORDER BY value)) AS value,
                      list(DISTINCT _load_id ORDER BY _load_id) AS load_ids
               FROM kpi_values
               WHERE kpi = ? AND segment = ? AND experiment_id IS NULL
                 AND (model_id = ? OR model_id IS NULL)
               GROUP BY 1 ORDER BY 1""",
            [kpi, segment, self.model_id],
        )
        if not frame.height:
            self._needs(
                "SELECT count(*) FROM kpi_values WHERE experiment_id IS NULL",
                "no KPIs are loaded: connect them with roi connect FILE (kpi_csv, kpi_excel)",
            )
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
            self._needs(
                "SELECT count(*) FROM kpi_values WHERE experiment_id IS NULL",
                "no KPIs are loaded: connect them with roi connect FILE (kpi_csv, kpi_excel)",
            )
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
            self._needs(
                "SELECT count(*) FROM kpi_values WHERE experiment_id IS NOT NULL",
                "no A/B results are loaded: connect them with roi connect FILE (ab_test_csv)",
            )
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
        for segment in ("treatment", "control"):
            if not frame.filter(pl.col("segment") == segment).height:
                raise ConfigError(
                    f"{self.file}: key 'value.experiment' = {experiment!r}: the experiment has "
                    f"no {segment} arm for KPI {kpi!r}; an uplift needs both arms (rows with "
                    f"segment = '{segment}' in the experiment's results)"
                )
        bad = frame.filter((pl.col("n") <= 0) | (pl.col("std_dev") < 0))
        if bad.height:
            row = bad.row(0, named=True)
            raise ConfigError(
                f"{self.file}: key 'value.experiment' = {experiment!r}: the {row['segment']} "
                f"arm of {row['month']:%Y-%m} has n = {row['n']} and std_dev = "
                f"{row['std_dev']} (load {row['_load_id']}); units must be above 0 and a "
                "standard deviation at least 0: fix the experiment results"
            )
        treatment = frame.filter(pl.col("segment") == "treatment").drop("segment")
        control = frame.filter(pl.col("segment") == "control").drop("segment")
        return treatment.join(control, on="month", how="full", coalesce=True, suffix="_control")

    def counts(self, kpi: str, key: str) -> pl.DataFrame:
        """A KPI series of counts (confusion cells, volumes): negative values are an error."""
        frame = self.series(kpi, key)
        bad = frame.filter(pl.col("value") < 0)
        if bad.height:
            row = bad.row(0, named=True)
            raise ConfigError(
                f"{self.file}: key '{key}' = {kpi!r}: negative count {row['value']:g} in "
                f"{row['month']:%Y-%m} (load {', '.join(row['load_ids'])}); counts cannot be "
                "negative: fix the KPI source and load it again"
            )
        return frame

    def metric_series(self, metric: str, key: str) -> pl.DataFrame:
        """Monthly mean of one of the model's quality metrics (`model_metrics`), with load ids.

        Raises:
            ConfigError: the model has no such metric, naming the model file and key.
        """
        frame = warehouse.fetch_frame(
            self.con,
            """SELECT date_trunc('month', ts)::DATE AS month,
                      list_avg(list(value ORDER BY value)) AS metric,
                      count(*) AS observations,
                      list(DISTINCT _load_id ORDER BY _load_id) AS metric_load_ids
               FROM model_metrics WHERE model_id = ? AND metric = ?
               GROUP BY 1 ORDER BY 1""",
            [self.model_id, metric],
        )
        if not frame.height:
            self._needs(
                "SELECT count(*) FROM model_metrics",
                "no model metrics are loaded: connect them with roi connect FILE "
                "(model_metrics_csv)",
            )
            have = warehouse.fetch_all(
                self.con,
                "SELECT DISTINCT metric FROM model_metrics WHERE model_id = ? ORDER BY 1",
                [self.model_id],
            )
            known = ", ".join(r[0] for r in have) or "none (load the model metrics)"
            raise ConfigError(
                f"{self.file}: key '{key}' = {metric!r}: no such metric for model "
                f"{self.model_id!r} in model_metrics; known metrics: {known}"
            )
        return frame

    def _needs(self, count_sql: str, reason: str) -> None:
        """Raise SourceNotLoaded with `reason` when `count_sql` counts no rows at all."""
        if not warehouse.fetch_one(self.con, count_sql)[0]:
            raise SourceNotLoaded(reason)

    def known_kpis(self) -> str:
        """The KPIs this model has, for an error message."""
        rows = warehouse.fetch_all(
            self.con,
            "SELECT DISTINCT kpi FROM kpi_values WHERE (model_id = ? OR model_id IS NULL) "
            "AND experiment_id IS NULL ORDER BY 1",
            [self.model_id],
        )
        return "known KPIs: " + (", ".join(r[0] for r in rows) or "none (load the KPI sources)")
