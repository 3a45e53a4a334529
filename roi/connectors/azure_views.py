"""The two views of an Azure month, actual and amortized: which view a file is, what a survey of
the files knows, and how one file's lines count given every file's survey (see
`roi.connectors.azure_cost` for the rules Microsoft's FOCUS conversion follows)."""

from __future__ import annotations

import polars as pl

from roi.errors import SourceError
from roi.frames import attach

COMMITMENT_MODELS = ("Reservation", "SavingsPlan")
SURVEYED = ("billing_account_id", "billing_period_start", "billing_currency", "_dataset")


def view_named(relative: str, declared: str) -> str | None:
    """Which view a file is when the options or its name say it; None when its lines must."""
    if declared != "auto":
        return declared
    name = relative.lower()
    for view in ("amortized", "actual"):
        if view in name:
            return view
    return None


def dataset_of(frame: pl.DataFrame, relative: str, declared: str) -> str:
    """Which view a file is: declared, named, or told by its lines (the rules are in
    `roi.connectors.azure_cost`'s doc)."""
    named = view_named(relative, declared)
    if named is not None:
        return named
    kind, model, cost = pl.col("_charge_type"), pl.col("_pricing_model"), pl.col("_cost")
    covered = model.is_in(COMMITMENT_MODELS) & (kind == "Usage")
    amortized = kind.is_in(["UnusedReservation", "UnusedSavingsPlan"]) | (covered & (cost != 0))
    actual = (model.is_in(COMMITMENT_MODELS) & (kind == "Purchase")) | (covered & (cost == 0))
    flags = frame.select(amortized.any().alias("am"), actual.any().alias("ac")).row(0)
    if flags[0] and not flags[1]:
        return "amortized"
    return "actual"


def survey_of_read(frame: pl.DataFrame, relative: str) -> pl.DataFrame:
    """What `azure_cost.survey_azure` finds, told from a file's full read (its frame)."""
    return frame.select(*SURVEYED, source_file=pl.lit(relative)).unique()


def combine(frame: pl.DataFrame, surveys: pl.DataFrame) -> pl.DataFrame:
    """One file's lines of each billing account's month, counted once given what every file
    holds (`surveys`): actual and amortized lines of one month never both count."""
    group = ["billing_account_id", "billing_period_start"]
    both = (
        surveys.group_by(group)
        .agg(pl.col("_dataset").n_unique().alias("_views"))
        .filter(pl.col("_views") > 1)
        .select(*group, _both=pl.lit(True))
    )
    frame = attach(frame, both, group).with_columns(pl.col("_both").fill_null(False))
    actual = pl.col("_dataset") == "actual"
    commitment = pl.col("_pricing_model").is_in(COMMITMENT_MODELS)
    purchase = pl.col("_charge_type").is_in(["Purchase", "Refund"]) & commitment
    keep = ~pl.col("_both") | ~actual | purchase
    zero = pl.lit(0).cast(frame.schema["billed_cost"])
    return (
        frame.filter(keep)
        .with_columns(
            billed_cost=pl.when(~actual & commitment).then(zero).otherwise(pl.col("billed_cost")),
            effective_cost=pl.when(pl.col("_both") & actual)
            .then(zero)
            .otherwise(pl.col("effective_cost")),
        )
        .drop("_dataset", "_charge_type", "_pricing_model", "_both")
    )


def check_currencies(surveys: pl.DataFrame) -> None:
    """One billing currency per billing account and month (MCA bills in one currency)."""
    many = (
        surveys.group_by("billing_account_id", "billing_period_start")
        .agg(pl.col("billing_currency").drop_nulls().unique().sort(), pl.col("source_file").first())
        .filter(pl.col("billing_currency").list.len() > 1)
    )
    if many.height:
        row = many.row(0, named=True)
        raise SourceError(
            f"{row['source_file']}: billing account {row['billing_account_id']} bills "
            f"{row['billing_period_start']:%Y-%m} in {', '.join(row['billing_currency'])}; an "
            "account's month is billed in one currency: export its cost in the billing currency "
            "(CostInBillingCurrency)"
        )
