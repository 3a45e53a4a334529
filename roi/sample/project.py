"""Project definitions of the sample: roi.toml, connectors/, models/, pools/ and reports/ as
TOML text.

`roi init` writes these; the repository root holds the same files, and a test keeps the two
identical.
"""

from __future__ import annotations

import json

from roi.sample.business import CREDIT_BASELINE_RATE, EXPERIMENTS, VOLUMES
from roi.sample.gpu import STEP_SECONDS
from roi.sample.meters import SHARED_CLUSTER
from roi.sample.portfolio import MODELS_BY_ID, SAMPLE_MODELS, SampleModel


def _s(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def _list(values: tuple[str, ...] | list[str]) -> str:
    return "[" + ", ".join(_s(v) for v in values) + "]"


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
cluster = {_s(SHARED_CLUSTER)}
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

# Failure modes per domain, as TOML: name, kind, then each input as a point value, a PERT range
# [min, most likely, max] or a lognormal { median, sigma }.
RISKS: dict[str, tuple[dict[str, str], ...]] = {
    "fraud detection": (
        {
            "name": '"silent AUC decay after a fraud-pattern shift"',
            "kind": '"drift"',
            "frequency_per_year": "[1, 2, 4]",
            "metric_drop": "[0.01, 0.03, 0.06]",
            "detection_delay_days": "[7, 21, 45]",
            "fix_days": "[3, 7, 14]",
            "recovery_cost": "4000",
        },
        {
            "name": '"feature pipeline outage"',
            "kind": '"pipeline_failure"',
            "frequency_per_year": "1.0",
            "metric_drop": "[0.05, 0.15, 0.3]",
            "detection_delay_days": "[0.5, 2, 5]",
            "fix_days": "[0.5, 1, 3]",
            "recovery_cost": "3000",
        },
    ),
    "credit scoring": (
        {
            "name": '"population drift after a rate change"',
            "kind": '"drift"',
            "frequency_per_year": "0.5",
            "metric_drop": "[0.01, 0.04, 0.08]",
            "detection_delay_days": "[30, 60, 120]",
            "fix_days": "[7, 14, 30]",
            "recovery_cost": "12000",
        },
        {
            "name": '"EU AI Act: creditworthiness scoring is high-risk; an oversight failure"',
            "kind": '"compliance"',
            "tier": '"high_risk"',
            "frequency_per_year": "0.02",
            "fine_share": "[0.001, 0.01, 0.1]",
            "recovery_cost": "250000",
        },
    ),
    "churn prediction": (
        {
            "name": '"stale features from the CRM feed"',
            "kind": '"data_failure"',
            "frequency_per_year": "1.5",
            "metric_drop": "[0.02, 0.05, 0.1]",
            "detection_delay_days": "[10, 30, 60]",
            "fix_days": "[2, 5, 10]",
            "recovery_cost": "3000",
            "correlated_with": '["recommendations"]',
        },
    ),
    "demand forecasting": (
        {
            "name": '"holiday-pattern miss"',
            "kind": '"drift"',
            "frequency_per_year": "1.0",
            "metric_drop": "[0.03, 0.08, 0.15]",
            "detection_delay_days": "[2, 7, 14]",
            "fix_days": "[1, 3, 7]",
            "recovery_cost": "2000",
        },
    ),
    "recommendations": (
        {
            "name": '"catalogue change breaks embeddings"',
            "kind": '"data_failure"',
            "frequency_per_year": "2.0",
            "metric_drop": "[0.02, 0.06, 0.12]",
            "detection_delay_days": "[3, 10, 21]",
            "fix_days": "[2, 4, 10]",
            "recovery_cost": "3500",
        },
        {
            "name": '"customer feature store outage"',
            "kind": '"outage"',
            "frequency_per_year": "1.0",
            "detection_delay_days": "[0.1, 0.3, 1]",
            "fix_days": "[0.2, 0.5, 2]",
            "recovery_cost": "2000",
            "correlated_with": '["churn-prediction"]',
        },
    ),
    "predictive maintenance": (
        {
            "name": '"sensor firmware change"',
            "kind": '"data_failure"',
            "frequency_per_year": "0.5",
            "metric_drop": "[0.03, 0.1, 0.2]",
            "detection_delay_days": "[14, 45, 90]",
            "fix_days": "[3, 7, 21]",
            "recovery_cost": "6000",
        },
    ),
    "clinical triage": (
        {
            "name": '"guideline update not reflected"',
            "kind": '"drift"',
            "frequency_per_year": "0.5",
            "metric_drop": "[0.02, 0.05, 0.1]",
            "detection_delay_days": "[7, 30, 60]",
            "fix_days": "[7, 14, 30]",
            "recovery_cost": "20000",
        },
        {
            "name": '"EU AI Act: triage is a high-risk use; a conformity or logging failure"',
            "kind": '"compliance"',
            "tier": '"high_risk"',
            "frequency_per_year": "0.03",
            "fine_share": "[0.001, 0.01, 0.05]",
            "recovery_cost": "150000",
        },
    ),
    "LLM support assistant": (
        {
            "name": '"provider model version change"',
            "kind": '"drift"',
            "frequency_per_year": "2.0",
            "metric_drop": "[0.01, 0.04, 0.08]",
            "detection_delay_days": "[3, 14, 30]",
            "fix_days": "[1, 3, 7]",
            "recovery_cost": "2500",
        },
        {
            "name": '"prompt injection leaks a wrong policy answer"',
            "kind": '"adversarial"',
            "frequency_per_year": "[1, 3, 6]",
            "recovery_cost": "{ median = 4000, sigma = 1.0 }",
        },
    ),
    "document extraction": (
        {
            "name": '"new form layout"',
            "kind": '"data_failure"',
            "frequency_per_year": "1.0",
            "metric_drop": "[0.02, 0.07, 0.15]",
            "detection_delay_days": "[5, 20, 40]",
            "fix_days": "[3, 7, 14]",
            "recovery_cost": "4000",
        },
    ),
    "search ranking": (
        {
            "name": '"index schema change"',
            "kind": '"pipeline_failure"',
            "frequency_per_year": "1.0",
            "metric_drop": "[0.01, 0.05, 0.1]",
            "detection_delay_days": "[1, 5, 10]",
            "fix_days": "[1, 2, 5]",
            "recovery_cost": "1500",
        },
    ),
}

EXPERIMENT_BY_MODEL = {e[1]: e[0] for e in EXPERIMENTS}
EXPERIMENT_KPI = {e[1]: e[2] for e in EXPERIMENTS}

# How each model's value is measured, where it is not its experiment: the method's keys as TOML
# lines, with a comment a finance reader can follow.
VALUE_SECTIONS: dict[str, tuple[str, ...]] = {
    "fraud-detection": (
        "# Confusion-matrix payoff per month, relative to no model: a fraud caught saves the",
        "# average loss net of recoveries, a false alert costs an analyst review and some",
        "# customer friction; a missed fraud is lost either way.",
        'method = "confusion_payoff"',
        'tp_kpi = "fraud_true_positives"',
        'fp_kpi = "fraud_false_positives"',
        'fn_kpi = "fraud_false_negatives"',
        'tn_kpi = "fraud_true_negatives"',
        f"tp_value = {MODELS_BY_ID['fraud-detection'].unit_value}",
        "fp_value = -6.0",
        "fn_value = 0.0",
        'unit = "transactions"',
    ),
    "credit-scoring": (
        "# Defaults avoided, against the rule-based policy the scorecard replaced (it avoided",
        f"# {CREDIT_BASELINE_RATE * 1e4:g} defaults per 10,000 applications).",
        'method = "per_unit"',
        'kpi = "defaults_avoided"',
        f"baseline = {CREDIT_BASELINE_RATE}",
        'volume_kpi = "applications_scored"',
        'unit_value_kpi = "avg_loss_given_default"',
    ),
    "demand-forecast": (
        "# Idle cash reduced, regressed on the forecast's F1 (controlling for ATM volume): what",
        "# its F1 above a seasonal-naive forecast's earns at the cost of cash. Correlational.",
        'method = "kpi_regression"',
        'kpi = "idle_cash_reduced"',
        'metric = "f1"',
        "baseline_metric = 0.62",
        'volume_kpi = "atm_forecasts"',
        'unit_value_kpi = "cost_of_cash_rate"',
    ),
    "predictive-maintenance": (
        "# Downtime hours avoided, against what the fixed maintenance schedule avoided before.",
        'method = "per_unit"',
        'kpi = "downtime_hours_avoided"',
        'baseline = "downtime_hours_avoided_by_schedule"',
        'volume_kpi = "atm_days_scored"',
        'unit_value_kpi = "atm_downtime_cost_per_hour"',
    ),
    "clinical-triage": (
        "# Rolled out to the pilot clinics in September 2025; the other clinics are the",
        "# comparison group. Nurse hours are a cost: a fall is value.",
        'method = "did"',
        'kpi = "triage_nurse_hours"',
        'treated = ["pilot-clinics"]',
        'control = ["other-clinics"]',
        f"rollout = {MODELS_BY_ID['clinical-triage'].launched.isoformat()}",
        "lower_is_better = true",
        'unit_value_kpi = "nurse_hour_cost"',
    ),
    "document-extraction": (
        "# What manual review of every page would cost, minus what the pages it cannot",
        "# extract still cost.",
        'method = "cost_savings"',
        'volume_kpi = "pages_processed"',
        'unit_value_kpi = "manual_cost_per_page"',
        'actual_cost_kpi = "residual_manual_review_cost"',
    ),
}


def _two_figures(x: float) -> float:
    from math import floor, log10

    return float(round(x, 1 - floor(log10(abs(x)))))


# The owner's estimate of one metric point (0.01) a month, used where history cannot measure
# it: the sample's KPI moves with quality cubed, so a point is worth 3 × 0.01 / the starting
# metric of the monthly KPI, at its unit value (clinical triage's rollout has no such KPI).
VALUE_PER_POINT = {
    m.model_id: _two_figures(m.kpi_monthly * 3 * 0.01 / m.metric_start * m.unit_value)
    for m in SAMPLE_MODELS
    if m.model_id != "clinical-triage"
} | {"clinical-triage": 450.0}
# Declared retraining cost (USD a run) for the retraining-cadence scenario.
RETRAINING_COST = {
    "fraud-detection": 2_400.0,
    "credit-scoring": 6_000.0,
    "churn-prediction": 1_200.0,
    "demand-forecast": 600.0,
    "recommendations": 3_500.0,
    "predictive-maintenance": 2_000.0,
    "clinical-triage": 4_000.0,
    "support-assistant": 2_500.0,
    "document-extraction": 3_000.0,
    "search-ranking": 1_500.0,
    "claims-summarizer": 2_000.0,
}
# The API a self-hosted LLM deployment replaces, and its list prices (USD per 1M tokens).
LLM_SERVING = {
    "support-assistant": (
        "azure/gpt-4o-mini",
        "{ input = 0.15, cached_input = 0.075, output = 0.60 }",
    ),
}
TRAINING = {"recommendations": "amortize:12"}


def _value_lines(model: SampleModel) -> list[str]:
    if model.model_id in VALUE_SECTIONS:
        return list(VALUE_SECTIONS[model.model_id])
    volume_kpi, _ = VOLUMES[model.model_id]
    experiment = EXPERIMENT_BY_MODEL.get(model.model_id)
    if experiment:
        # The uplift of the experiment's KPI (treatment − control) per treated unit, scaled
        # to the treatment arm (a holdout: everyone but the control group is treated).
        lines = [
            "# The experiment's uplift (treatment − control) per treated unit, scaled to the",
            "# treatment arm.",
            'method = "ab_uplift"',
            f"experiment = {_s(experiment)}",
            f"kpi = {_s(EXPERIMENT_KPI[model.model_id])}",
        ]
    else:
        lines = [
            "# Gross value: no counterfactual is declared, so it is graded an assumption.",
            'method = "per_unit"',
            f"kpi = {_s(model.kpi)}",
            f"volume_kpi = {_s(volume_kpi)}",
        ]
    if model.unit_value_kpi:
        lines.append(f"unit_value_kpi = {_s(model.unit_value_kpi)}")
    return lines


def model_toml(model: SampleModel) -> str:
    """The `models/<model_id>.toml` definition of one sample model."""
    lines = [
        f"# {model.name}: {model.domain}, owned by {model.business_unit}.",
        f"model_id = {_s(model.model_id)}",
        f"name = {_s(model.name)}",
        f"domain = {_s(model.domain)}",
        f"owner = {_s(model.owner)}",
        f"business_unit = {_s(model.business_unit)}",
        f"stage = {_s(model.stage)}",
        f"launched = {model.launched.isoformat()}",
    ]
    if model.retired:
        lines.append(f"retired = {model.retired.isoformat()}")
    if model.model_id in TRAINING:
        lines.append("# Training runs (tagged ml-stage = training) are spread over 12 months.")
        lines.append(f"training = {_s(TRAINING[model.model_id])}")
    lines += [
        "",
        "# How billing lines, GPU workloads and LLM requests are matched to this model.",
        "[selectors]",
        f'tags = {{ "ml-model" = {_list([model.model_id, *model.tag_aliases])} }}',
        f"resource_ids = {_list(model.resource_patterns)}",
    ]
    if model.cluster_workload:
        lines.append(f"gpu_workloads = {_list([model.cluster_workload])}")
    if model.llm_feature:
        lines.append(f"llm_features = {_list([model.llm_feature])}")
    lines += ["", "# How the value this model delivers is measured.", "[value]"]
    lines += _value_lines(model)
    lines += [
        "",
        "[quality]",
        f"metric = {_s(model.metric)}",
        f"retrain_every_months = {model.retrain_every_months}",
    ]
    if model.model_id in EXPERIMENT_BY_MODEL or model.model_id == "document-extraction":
        lines.append(f"kpi = {_s(model.kpi)}  # the business KPI the metric drives")
    lines.append(f"decay_per_month = {round(model.monthly_decay * 1.5, 4)}  # the owner's estimate")
    if model.model_id in VALUE_PER_POINT:
        lines.append(
            f"value_per_point = {VALUE_PER_POINT[model.model_id]:g}  # USD a month per 0.01"
        )
    if model.model_id in RETRAINING_COST:
        lines.append(f"retraining_cost = {RETRAINING_COST[model.model_id]}")
    if model.model_id in LLM_SERVING:
        reference, prices = LLM_SERVING[model.model_id]
        lines += [
            "",
            "# Part of its traffic runs on a self-hosted vLLM deployment on the GPU cluster;",
            "# its cost per 1M tokens is compared with the API it replaces.",
            "[llm]",
            f"api_reference = {_s(reference)}",
            f"api_prices = {prices}",
        ]
    for risk in RISKS.get(model.domain, ()):
        lines += ["", "[[risks]]", *(f"{key} = {value}" for key, value in risk.items())]
    return "\n".join(lines) + "\n"


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


def project_files() -> dict[str, str]:
    """Relative path → text of every definition file of the sample project."""
    files = {"roi.toml": ROI_TOML}
    files.update({f"connectors/{name}.toml": text for name, text in CONNECTORS.items()})
    files.update({f"models/{m.model_id}.toml": model_toml(m) for m in SAMPLE_MODELS})
    files.update({f"reports/{name}.toml": text for name, text in REPORTS.items()})
    files.update({f"pools/{name}.toml": text for name, text in POOLS.items()})
    return files
