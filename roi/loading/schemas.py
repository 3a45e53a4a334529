"""pandera schemas, one per warehouse table that connectors load.

They check meaning, after the connector has parsed types: required values, allowed categories,
ranges and period order. Validation runs lazily (all failures) on a collected Polars frame;
each failure becomes a `_rejects` row naming file, row and column.
"""

from __future__ import annotations

import pandera.polars as pa
import polars as pl

from roi.loading.rejects import REJECT_COLUMNS
from roi.tables import LOADED_TABLES, Check, Table

# Row-level checks across columns: their message → the column a reject names.
ROW_CHECK_COLUMNS: dict[str, str] = {}


def row_check(column: str, rule: pl.Expr, message: str) -> pa.Check:
    """A dataframe check that fails the rows where `rule` is false, blaming `column`."""
    ROW_CHECK_COLUMNS[message] = column

    needs = set(rule.meta.root_names())

    def check(data: pa.PolarsData) -> pl.LazyFrame:
        frame = data.lazyframe
        if not needs <= set(frame.collect_schema().names()):
            # A column the source does not give is null in every row: nothing to fail.
            return frame.select(pl.lit(True))
        return frame.select(rule.fill_null(True))

    return pa.Check(check, name=message, error=message)


def _finite(data: pa.PolarsData) -> pl.LazyFrame:
    return data.lazyframe.select(pl.col(data.key).is_finite())


def _column_check(check: Check) -> pa.Check:
    if check.kind == "isin":
        return pa.Check.isin(check.args)
    if check.kind == "ge":
        return pa.Check.ge(check.args[0])
    if check.kind == "in_range":
        return pa.Check.in_range(*check.args)
    if check.kind == "matches":
        return pa.Check.str_matches(check.args[0])
    return pa.Check(_finite, name="finite")


def pandera_schema(table: Table) -> pa.DataFrameSchema:
    """The pandera schema of a loaded table, from its contract.

    Only what carries meaning is checked (required values and declared checks): the connector
    has already parsed types, and lineage columns are the loader's own.
    """
    columns = {
        c.name: pa.Column(
            nullable=not c.required,
            required=c.required,
            checks=[_column_check(k) for k in c.checks],
        )
        for c in table.columns
        if (c.required or c.checks) and c.name not in LINEAGE
    }
    checks = [row_check(r.column, r.rule, r.message) for r in table.row_checks]
    return pa.DataFrameSchema(columns, checks=checks, name=table.name)


LINEAGE = ("source_file", "source_row", "_load_id", "export", "delivery", "focus_version")
SCHEMAS: dict[str, pa.DataFrameSchema] = {t.name: pandera_schema(t) for t in LOADED_TABLES}


def check_reason(check: str | None) -> str:
    """A pandera check name as a sentence a user can act on."""
    if check is None:
        return "failed validation"
    if check == "not_nullable":
        return "required value is missing"
    if check.startswith("isin("):
        return "not an allowed value; allowed: " + check[len("isin(") : -1]
    if check.startswith("str_matches("):
        return "wrong format; expected " + check[len("str_matches(") : -1]
    if check.startswith("greater_than_or_equal_to("):
        return "must be at least " + check[len("greater_than_or_equal_to(") : -1]
    if check.startswith("in_range("):
        low, high = check[len("in_range(") : -1].split(",")
        return f"must be between {low.strip()} and {high.strip()}"
    if check == "column_in_dataframe":
        return "column is missing from the file"
    return check


def validate(table: str, frame: pl.DataFrame) -> pl.DataFrame:
    """Validate a parsed batch lazily; return reject records (empty when every row passes).

    Schema-level problems (a missing column) come back as a reject with a null row, which the
    loader reports as an error for the whole file.
    """
    from pandera.errors import SchemaErrors

    schema = SCHEMAS[table]
    try:
        schema.validate(frame, lazy=True)
    except SchemaErrors as exc:
        cases = exc.failure_cases
        idx = cases.get_column("index").cast(pl.Int64, strict=False)
        rows = frame.select("source_file", "source_row").with_row_index("_i")
        failures = (
            cases.with_columns(_i=idx.cast(pl.UInt32, strict=False))
            .join(rows, on="_i", how="left")
            .select(
                pl.col("source_file").fill_null(frame.get_column("source_file").first()),
                pl.col("source_row"),
                pl.when(pl.col("column").cast(pl.String) == table)
                .then(pl.col("check").cast(pl.String).replace(ROW_CHECK_COLUMNS))
                .otherwise(pl.col("column").cast(pl.String))
                .alias("column"),
                pl.col("failure_case").cast(pl.String).alias("value"),
                pl.col("check").cast(pl.String).alias("reason"),
            )
        )
        reasons = {c: check_reason(c) for c in failures["reason"].unique().to_list()}
        failures = failures.with_columns(pl.col("reason").replace(reasons))
        return pl.DataFrame(failures.cast(dict(REJECT_COLUMNS)))
    return pl.DataFrame(schema=REJECT_COLUMNS)
