"""A blank project: settings with a neutral name, empty definition folders, two reports with no
budgets (`roi init DIR`; `roi init DIR --sample` writes the sample portfolio instead)."""

from __future__ import annotations

from pathlib import Path

from roi.errors import ConfigError

GITIGNORE = (
    "roi.duckdb\nroi.duckdb.wal\nroi.duckdb.lock\nroi.duckdb.data/\nroi.duckdb.staging/\n"
    "reports/out/\n"
)


def _roi_toml(name: str) -> str:
    return f'''# roi project settings (README: Configuration). Any key can be overridden from the
# environment as ROI__SECTION__KEY. Secrets never go here: connectors name the environment
# variable that holds them (dsn_env = "...").

[project]
name = "{name}"
currency = "USD"              # the currency the bills are in
warehouse = "roi.duckdb"      # relative to this folder
reports_out = "reports/out"   # rendered reports (git-ignored)

[attribution]
month_basis = "billing_period"  # or "charge_period": when the cost was incurred
# training_tags = {{ "ml-stage" = ["training"] }}  # lines that are model training

[finance]
discount_rate = 0.10          # annual, for NPV and payback
horizon_months = 36

# LLM requests without a reported cost are priced from the price book (README: LLM usage and
# the price book): genai-prices' dated list prices, your contracted prices over them.
# [pricing]
# contracted = "prices.toml"  # [[price]] model = "gpt-4o", input = 2.00, output = 8.00 (per 1M)
# fx = {{ EUR = 1.08 }}         # project currency per unit of another currency
'''


REPORTS = {
    "reports/monthly_finance.toml": """# The monthly finance report: HTML (charts inline,
# also as PNG and SVG) and PDF.
kind = "monthly_finance"
title = "ML portfolio: monthly report"

[options]
# [options.budgets]   # monthly budgets: "total" for all ML spend, or a model id
# total = 20000
""",
    "reports/executive_pack.toml": """# The Excel pack: Summary, Portfolio, Costs, Value, Risk,
# Forecast, Unallocated, Assumptions, Lineage and Data sheets; live formulas, values stored.
kind = "excel_pack"
title = "ML portfolio: executive pack"
""",
}

FOLDER_NOTES = {
    "connectors/README.md": "One TOML per data source. `roi connect PATH` writes one for a file "
    "or folder it recognises (billing exports, LLM logs, GPU telemetry, KPI files).\n",
    "models/README.md": "One TOML per ML model: owner, stage, selectors (which cost lines, GPU "
    "workloads and LLM requests are its), value method. `roi models suggest` proposes them "
    "from the billing data's tags.\n",
    "pools/README.md": "One TOML per shared pool (a GPU cluster, an LLM gateway's bill): what "
    "it claims and how it is split between models.\n",
}


def blank_files(name: str) -> dict[str, str]:
    """Relative path → text of every file of a blank project called `name`."""
    return {"roi.toml": _roi_toml(name), ".gitignore": GITIGNORE, **REPORTS, **FOLDER_NOTES}


def write_blank(root: Path, force: bool = False) -> list[Path]:
    """Write a blank project into `root` (created when missing); the files written.

    Raises:
        ConfigError: `root` holds a roi.toml already and `force` is not set.
    """
    if (root / "roi.toml").exists() and not force:
        raise ConfigError(
            f"{root / 'roi.toml'} exists already; use --force to overwrite the definitions"
        )
    name = root.resolve().name or "ML portfolio"
    written = []
    for relative, text in blank_files(name).items():
        path = root / relative
        if path.exists() and not force and relative != "roi.toml":
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written
