"""Scenarios: money at risk from decay and failure, forecasts, what-if, sensitivity and
retraining economics (`roi scenario ...`).

Each command is one module: `decay`, `failure`, `forecast`, `whatif`, `sensitivity`,
`retrain`. They read the warehouse's attribution and value tables through `baseline` (the
figures per model a scenario starts from, each with where it came from: measured or
declared), compute with numpy and statsmodels, and store every run in `scenario_runs`
(`runs`) under an id reports can cite. Stochastic results are reproducible from `--seed`.
"""
