"""Polars jobs that attribute cost and value to the models of the portfolio."""
