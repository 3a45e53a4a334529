"""The sample project's settings files as TOML text: roi.toml, connectors/, reports/ and pools/.

They hold no per-model data; the models' files are written by `project_models`.
"""

from __future__ import annotations

from roi.sample.gpu import STEP_SECONDS
from roi.sample.meters import SHARED_CLUSTER
from roi.sample.toml_text import toml_string

ROI_TOML = """\
# roi project settings. Any key can be overridden from the environment as ROI__SECTION__KEY,
# e.g. ROI__PROJECT__WAREHOUSE=/data/roi.duckdb. Secrets never go here: connectors name the
# environment variable that holds them (password_env = "...").

[project]
name = "Northwind ML portfolio (sample)"
currency = "USD"
warehouse = "roi.duckdb"      # relative to this folder
reports_out = "reports/out"   # rendered reports (git-ignored)

[attribution]
# Month a cost line belongs to: its invoice month (billing_period) or when it was incurred
# (charge_period).
month_basis = "billing_period"

# Cost lines tagged as model training: expensed, or amortized per the model's `training`.
training_tags = { "ml-stage" = ["training"] }

[finance]
discount_rate = 0.10          # annual, for NPV and payback
horizon_months = 36           # NPV and IRR: the months to date, then the latest net held flat

[risk]
annual_turnover = 4_200_000_000   # worldwide, USD: EU AI Act fines are a share of it
sme = false
eur_rate = 1.08                   # USD per EUR (the Act's amounts are in EUR)
correlation = 0.1                 # between every two models' yearly losses
shared_cause_correlation = 0.6    # between models a risk's correlated_with names
draws = 100_000
level = 0.95                      # VaR and expected shortfall
"""

CONNECTORS: dict[str, str] = {
    "aws_focus": """\
# AWS Data Exports: FOCUS 1.2 with AWS columns, gzip CSV, "create new report" deliveries.
# Each BILLING_PERIOD=YYYY-MM/<delivery>/ folder holds one complete delivery of that month; when
# AWS re-issues a month, the newest delivery replaces the month in the warehouse.
type = "focus"
path = "sample_data/billing/aws/focus-export/data"
""",
    "azure_focus": """\
# Azure Cost Management export "focus-cost" (FOCUS 1.2, gzip CSV), one folder per month.
type = "focus"
path = "sample_data/billing/azure/focus-cost"
""",
    "litellm": """\
# LiteLLM proxy spend logs: `\\copy "LiteLLM_SpendLogs" TO ... CSV HEADER`, one file a month.
type = "litellm_spend_logs"
path = "sample_data/llm/litellm"

[options]
portfolio_key = "model_portfolio_id"   # metadata.spend_logs_metadata key naming the model
""",
    "dcgm": f"""\
# dcgm-exporter series saved from Prometheus (GET /api/v1/query_range, step 1h), per month.
type = "dcgm_prometheus"
path = "sample_data/gpu/dcgm"

[options]
cluster = {toml_string(SHARED_CLUSTER)}
step_seconds = {STEP_SECONDS}
""",
    "nvidia_smi": """\
# nvidia-smi --query-gpu=... --format=csv -l 900 on the standalone demand-forecast trainer.
type = "nvidia_smi"
path = "sample_data/gpu/nvidia-smi"

[options]
cluster = "standalone"
workloads = { "i-0demand0001" = "demand-forecast" }   # node (file name) → workload
""",
    "business_kpis": """\
# Monthly business KPIs from the data warehouse, long format.
type = "kpi_csv"
path = "sample_data/kpis/business_kpis.csv"
""",
    "finance_unit_values": """\
# FP&A's approved value per business outcome (wide workbook, one column per month).
type = "kpi_excel"
path = "sample_data/kpis/finance_unit_values.xlsx"

[options]
sheet = "Unit values"
""",
    "ab_tests": """\
# Holdout and A/B test results per arm and month.
type = "ab_test_csv"
path = "sample_data/experiments/ab_tests.csv"
""",
    "model_metrics": """\
# Weekly quality metrics (AUC, F1, NDCG) from the model monitoring service.
type = "model_metrics_csv"
path = "sample_data/metrics/model_metrics.csv"
""",
}

REPORTS: dict[str, str] = {
    "monthly_finance": """\
# The monthly finance report: one self-contained HTML file (charts inline, also as PNG and SVG
# files beside it) and the same as PDF.
kind = "monthly_finance"
title = "ML portfolio: monthly report"

[options]
# sections = ["summary", "portfolio", "costs", "unit_economics", "risk", "forecast",
#             "unallocated", "quality"]   # the default: every section, in this order
trend_months = 12          # months the trends cover: 6, 12, 18, 24 or 36
top_models = 8             # charts show these many models, then "Other models"
top_unallocated = 10       # largest unallocated resources listed (the pack lists every one)
change_warning = 0.25      # warn when the month's cost moves more than 25% on the month before
exposure_warning = 0.5     # flag a model whose expected annual loss is over 50% of a year's value
idle_warning = 0.3         # flag a model whose GPUs are busy less than 30% of the hours it holds

[options.budgets]          # monthly budgets in USD: "total" for all ML spend, or a model id
total = 28000
recommendations = 7000
fraud-detection = 3000
""",
    "executive_pack": """\
# The Excel pack for executives and analysts: Summary, Portfolio, Costs, Value, Risk, Forecast,
# Unallocated, Assumptions, Lineage and Data sheets, live formulas with their values stored.
kind = "excel_pack"
title = "ML portfolio: executive pack"

[options]
trend_months = 12

[options.budgets]
total = 28000
recommendations = 7000
fraud-detection = 3000
""",
}


POOLS = {
    "eks-gpu": """\
# The shared EKS GPU cluster (two g6e.12xlarge nodes, 8 × L40S) under a compute savings plan.
# Its nodes and volumes carry the cluster tag, not a model tag: their cost is split by the
# GPU-hours each model's pods held, from dcgm-exporter (gpu_usage); GPUs no pod held are idle.
title = "Shared EKS GPU cluster"
basis = "gpu_hours"
idle = "separate"          # or "share": spread idle GPUs over the models by their GPU-hours

[claims]
tags = { "eks:cluster-name" = ["ml-shared-gpu"] }

[usage]
clusters = ["ml-shared-gpu"]
""",
    "azure-openai": """\
# The shared Azure OpenAI account: one bill for every LLM feature. LiteLLM's spend logs say
# which feature sent which tokens; the bill is split by the cost the gateway reported per model
# (its prices already weigh input, cached and output tokens). The bill wins where the two differ.
title = "Shared Azure OpenAI account"
basis = "reported_cost"
cost_type = "inference_api"

[claims]
resource_ids = ["*/providers/microsoft.cognitiveservices/accounts/oai-northwind-shared"]

[usage]
providers = ["azure"]
""",
    "ml-platform": """\
# The ML platform team's shared services (feature store bucket, model registry database,
# monitoring, the EKS control plane): split by each model's direct cost that month.
title = "ML platform"
basis = "direct_cost"
cost_type = "platform_shared"
priority = 200             # after the GPU cluster pool, which claims the cluster's nodes

[claims]
tags = { team = ["ml-platform"] }
""",
}
