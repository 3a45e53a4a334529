"""The value side: what each model earns per month (with an interval), and the per-model P&L.

Each model's `[value]` section names a method; `roi.value.methods` holds one module per method
and a registry that finds it by name. A method reads its inputs (KPI series, experiment arms,
unit values) from `kpi_values` and returns `model_value` rows; `roi.value.pnl` joins them to
attributed cost as `model_roi`.
"""
