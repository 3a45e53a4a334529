"""`attach`: a left join of the key columns only, so the rows stay in place and every other
column of the frame is left as it is."""

from __future__ import annotations

import polars as pl
import pytest

from roi.frames import attach


def _lines() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "sku": ["b", None, "a", "b", "c", None],
            "month": [1, 1, 2, 2, 2, 3],
            "cost": [1.5, 2.0, 3.25, 4.0, 5.0, 6.0],
        }
    )


def test_attach_gives_what_a_left_join_gives_in_the_frames_order() -> None:
    frame = _lines()
    lookup = pl.DataFrame({"sku": ["a", "b", None], "gpus": [8, 4, 0]})
    attached = attach(frame, lookup, "sku")
    joined = frame.join(lookup, on="sku", how="left", nulls_equal=True, maintain_order="left")
    assert attached.equals(joined)
    # computed independently: a row's GPUs are its SKU's, a null SKU matches the null key, an
    # SKU the lookup lacks has none
    expected = {"a": 8, "b": 4, None: 0}
    assert attached["gpus"].to_list() == [expected.get(s) for s in frame["sku"]]
    assert attached.drop("gpus").equals(frame)


def test_attach_on_several_keys() -> None:
    frame = _lines()
    lookup = pl.DataFrame({"sku": ["b", "b", None], "month": [1, 2, 3], "price": [10, 20, 30]})
    attached = attach(frame, lookup, ["sku", "month"])
    assert attached["price"].to_list() == [10, None, None, 20, None, 30]
    assert attached.columns == ["sku", "month", "cost", "price"]


def test_a_key_twice_in_the_lookup_fails_instead_of_adding_rows() -> None:
    lookup = pl.DataFrame({"sku": ["a", "a"], "gpus": [8, 4]})
    with pytest.raises(pl.exceptions.ShapeError):
        attach(_lines(), lookup, "sku")


def test_a_looked_up_column_the_frame_has_is_replaced() -> None:
    frame = _lines().with_columns(gpus=pl.lit(-1))
    lookup = pl.DataFrame({"sku": ["a"], "gpus": [8]})
    attached = attach(frame, lookup, "sku")
    assert attached.columns == frame.columns
    assert attached["gpus"].to_list() == [None, None, 8, None, None, None]
