"""The portfolio of ML models, from models/*.toml into `portfolio_models`."""

from __future__ import annotations

import polars as pl

from roi import warehouse
from roi.config import ModelConfig
from roi.warehouse import Connection


def portfolio_frame(models: tuple[ModelConfig, ...]) -> pl.DataFrame:
    """One row per ML model, as the `portfolio_models` table holds it."""
    return pl.DataFrame(
        [
            {
                "model_id": m.model_id,
                "name": m.name,
                "owner": m.owner,
                "business_unit": m.business_unit,
                "stage": m.stage,
                "launched": m.launched,
                "retired": m.retired,
                "domain": m.domain,
                "definition_file": m.file.name,
            }
            for m in models
        ],
        schema={
            "model_id": pl.String,
            "name": pl.String,
            "owner": pl.String,
            "business_unit": pl.String,
            "stage": pl.String,
            "launched": pl.Date,
            "retired": pl.Date,
            "domain": pl.String,
            "definition_file": pl.String,
        },
    )


def sync_portfolio(con: Connection, models: tuple[ModelConfig, ...]) -> int:
    """Replace `portfolio_models` with the current definitions (call inside a transaction)."""
    frame = portfolio_frame(models)
    warehouse.execute(con, "DELETE FROM portfolio_models")
    warehouse.register(con, "_portfolio", frame)
    try:
        warehouse.execute(con, "INSERT INTO portfolio_models BY NAME SELECT * FROM _portfolio")
    finally:
        warehouse.unregister(con, "_portfolio")
    return frame.height
