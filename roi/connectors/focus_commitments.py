"""FOCUS 1.3's Contract Commitment dataset (CSV or Parquet) → `contract_commitments`.

FOCUS 1.3 adds a supplemental dataset beside Cost and Usage: one row per commitment of a
contract (a savings plan, a reservation, a spend commitment) and period, with what it commits
(`ContractCommitmentCost`, or a quantity in a unit). Usage rows point at it through
`ContractApplied`. roi keeps the commitments as their own table, so that a month's committed
spend can be read beside the cost lines that used it (`roi query`), without counting a
commitment on top of the usage it covers. Columns as the specification names them
(ContractCommitmentId, ContractId, ContractCommitmentCategory, ContractCommitmentPeriodStart,
…); optional ones may be missing.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import polars as pl

from roi.connectors import register
from roi.connectors.base import FileConnector, SourceSample
from roi.loading.parsing import parse_columns, read_table_csv
from roi.loading.protocol import Batch
from roi.tables import CONTRACT_COMMITMENTS

# FOCUS column (lower case, as read) → roi column.
COLUMNS = {
    "contractcommitmentid": "contract_commitment_id",
    "contractid": "contract_id",
    "contractcommitmentcategory": "category",
    "contractcommitmentperiodstart": "commitment_period_start",
    "contractcommitmentperiodend": "commitment_period_end",
    "billingcurrency": "billing_currency",
    "contractcommitmenttype": "commitment_type",
    "contractcommitmentdescription": "description",
    "contractperiodstart": "contract_period_start",
    "contractperiodend": "contract_period_end",
    "contractcommitmentcost": "cost",
    "contractcommitmentquantity": "quantity",
    "contractcommitmentunit": "unit",
}
REQUIRED = tuple(list(COLUMNS)[:6])
KINDS = {
    "commitment_period_start": "utc",
    "commitment_period_end": "utc",
    "contract_period_start": "utc",
    "contract_period_end": "utc",
    "cost": "money",
    "quantity": "float",
}


@register
class FocusCommitments(FileConnector):
    """FOCUS 1.3 contract commitments."""

    type_name = "focus_commitments"
    table = CONTRACT_COMMITMENTS
    suffixes: ClassVar[tuple[str, ...]] = (".csv", ".csv.gz", ".parquet")
    description = "FOCUS 1.3 Contract Commitment dataset: one row per commitment and period"

    @classmethod
    def recognises(cls, sample: SourceSample) -> str | None:
        """ContractCommitmentId and ContractCommitmentCategory columns."""
        if sample.has("contractcommitmentid", "contractcommitmentcategory"):
            return "FOCUS 1.3 Contract Commitment columns"
        return None

    def read_file(self, path: Path, relative: str) -> Batch:
        """Parse one Contract Commitment file."""
        raw = read_table_csv(
            path,
            relative,
            REQUIRED,
            "expected the FOCUS 1.3 Contract Commitment columns (ContractCommitmentId, "
            "ContractId, ContractCommitmentCategory, ContractCommitmentPeriodStart, "
            "ContractCommitmentPeriodEnd, BillingCurrency, …)",
        )
        frame = raw.select(
            *(
                (pl.col(k) if k in raw.columns else pl.lit(None, pl.String)).alias(v)
                for k, v in COLUMNS.items()
            ),
            "source_file",
            "source_row",
        )
        parsed = parse_columns(
            frame, KINDS, required=("commitment_period_start", "commitment_period_end")
        )
        return Batch(parsed.frame, parsed.rejects)
