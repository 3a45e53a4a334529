"""A billing load's Parquet files hold what the checked frame held: text written from Arrow
string views reads back as text, tags as a MAP, amounts as exact decimals."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import polars as pl
import pyarrow.parquet as pq

from roi.loading.billing_files import STATISTICS, arrow_table, contract_frame
from roi.tables import COST_LINES
from roi.vocabulary import MONEY


def _lines() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "provider": ["AWS", "Microsoft", None],
            "resource_id": ["i-0abc", "/subscriptions/é ü/vm-1", ""],
            "billed_cost": [Decimal("1.2345678901"), Decimal("-0.01"), Decimal("0")],
            "billing_period_start": [datetime(2026, 10, 1, tzinfo=UTC)] * 3,
            "tags": ['{"env":"prod","ml-model":"fraud"}', "{}", None],
            "tags_raw": ['{"ml-model": "fraud", "env": "prod"}', None, None],
        },
        schema_overrides={"billed_cost": MONEY},
    )


def test_text_tags_and_amounts_read_back_as_written(tmp_path: Path) -> None:
    frame = _lines()
    path = tmp_path / "lines.parquet"
    pq.write_table(
        arrow_table(contract_frame(frame)), path, compression="zstd", write_statistics=STATISTICS
    )
    con = duckdb.connect()
    described = con.sql(f"DESCRIBE SELECT * FROM read_parquet('{path}')").fetchall()
    types = {str(r[0]): str(r[1]) for r in described}
    spelled = {"TIMESTAMP WITH TIME ZONE": "TIMESTAMPTZ"}  # DuckDB's long name for it
    read = [spelled.get(types[c.name], types[c.name]) for c in COST_LINES.columns]
    assert read == [c.type for c in COST_LINES.columns]
    rows = con.sql(
        "SELECT provider, resource_id, billed_cost, billing_period_start, "
        f"map_keys(tags), tags_raw FROM read_parquet('{path}') ORDER BY source_row NULLS LAST"
    ).fetchall()
    assert [r[0] for r in rows] == frame["provider"].to_list()
    assert [r[1] for r in rows] == frame["resource_id"].to_list()
    assert [r[2] for r in rows] == frame["billed_cost"].to_list()
    assert {r[3] for r in rows} == {datetime(2026, 10, 1, tzinfo=UTC)}
    assert [r[4] for r in rows] == [["env", "ml-model"], [], None]
    # a line with tags keeps their text; where a reader gave only the map, its JSON stands in
    assert [r[5] for r in rows] == ['{"ml-model": "fraud", "env": "prod"}', "{}", None]
    # every text column is Parquet text (any reader sees strings, not bytes)
    schema = pq.ParquetFile(path).schema
    logical = {
        schema.column(i).name: schema.column(i).logical_type.type for i in range(len(schema))
    }
    text = [c.name for c in COST_LINES.columns if c.type == "VARCHAR"]
    assert {logical[c] for c in text} == {"STRING"}
