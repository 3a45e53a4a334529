"""The README's worked example of a new value method runs as written: one module, registered,
its keys checked, its value computed."""

from __future__ import annotations

import re
import sys
import types
from collections.abc import Iterator
from pathlib import Path

import pytest

from roi.config import ModelConfig
from roi.config.models import ValueSpec
from roi.errors import ConfigError
from roi.value import methods
from tests.conftest import REPO
from tests.value.kpis import MODEL_FILE, inputs, kpi, warehouse_with

MODULE = "roi.value.methods.fixed_price"


@pytest.fixture
def fixed_price() -> Iterator[types.ModuleType]:
    """The README's example module, loaded as if it were a file of roi/value/methods/."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Extending roi") :]
    [code] = re.findall(r"```python\n(.*?)```", section, re.S)[:1]
    module = types.ModuleType(MODULE)
    sys.modules[MODULE] = module
    exec(compile(code, "README.md", "exec"), module.__dict__)
    yield module
    del sys.modules[MODULE]
    methods._REGISTRY.pop("fixed_price", None)


def _model(options: dict[str, object]) -> ModelConfig:
    return ModelConfig(
        "m", "M", "owner", "unit", "production", MODEL_FILE, value=ValueSpec("fixed_price", options)
    )


def test_the_readme_value_method_registers_and_computes(
    fixed_price: types.ModuleType, tmp_path: Path
) -> None:
    assert "fixed_price" in methods.methods()
    model = _model({"method": "fixed_price", "kpi": "claims_closed", "price": 12.5})
    method, options = methods.resolve(model)
    con = warehouse_with(
        tmp_path / "w.duckdb", [kpi("claims_closed", 0, 40.0), kpi("claims_closed", 1, 2.0)]
    )
    rows = method.compute(options, inputs(con), "USD")
    assert rows["value"].to_list() == [500.0, 25.0]
    assert rows["volume"].to_list() == [40.0, 2.0]
    driven = method.drives(options)
    assert driven is not None and (driven.kpi, driven.unit_value) == ("claims_closed", 12.5)
    with pytest.raises(ConfigError, match=r"key 'value\.price' = -1 is negative"):
        methods.resolve(_model({"method": "fixed_price", "kpi": "k", "price": -1}))
    with pytest.raises(ConfigError, match=r"unknown key 'value\.prise'"):
        methods.resolve(_model({"method": "fixed_price", "kpi": "k", "prise": 1.0}))
