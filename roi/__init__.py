"""roi: ML-portfolio ROI and cost analytics on a DuckDB warehouse."""

__version__ = "0.1.0"
