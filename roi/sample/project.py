"""Project definitions of the sample: roi.toml, connectors/, models/, pools/ and reports/ as
TOML text.

`roi init` writes these; the repository root holds the same files, and a test keeps the two
identical.
"""

from __future__ import annotations

import json

from roi.sample.business import EXPERIMENTS, VOLUMES
from roi.sample.gpu import STEP_SECONDS
from roi.sample.meters import SHARED_CLUSTER
from roi.sample.portfolio import SAMPLE_MODELS, SampleModel


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

[finance]
discount_rate = 0.10          # annual, for NPV and payback
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

# Failure modes per domain: (name, events per year, metric drop, detection delay in days,
# recovery cost in USD).
RISKS: dict[str, tuple[tuple[str, float, float, int, int], ...]] = {
    "fraud detection": (
        ("silent AUC decay after a fraud-pattern shift", 2.0, 0.03, 21, 18_000),
        ("feature pipeline outage", 1.0, 0.15, 2, 9_000),
    ),
    "credit scoring": (("population drift after a rate change", 0.5, 0.04, 60, 25_000),),
    "churn prediction": (("stale features from the CRM feed", 1.5, 0.05, 30, 6_000),),
    "demand forecasting": (("holiday-pattern miss", 1.0, 0.08, 7, 4_000),),
    "recommendations": (("catalogue change breaks embeddings", 2.0, 0.06, 10, 7_500),),
    "predictive maintenance": (("sensor firmware change", 0.5, 0.1, 45, 12_000),),
    "clinical triage": (("guideline update not reflected", 0.5, 0.05, 30, 40_000),),
    "LLM support assistant": (
        ("provider model version change", 2.0, 0.04, 14, 5_000),
        ("hallucinated policy answer", 4.0, 0.02, 3, 15_000),
    ),
    "document extraction": (("new form layout", 1.0, 0.07, 20, 8_000),),
    "search ranking": (("index schema change", 1.0, 0.05, 5, 3_000),),
}

EXPERIMENT_BY_MODEL = {e[1]: e[0] for e in EXPERIMENTS}
EXPERIMENT_KPI = {e[1]: e[2] for e in EXPERIMENTS}
# What happens without the model, per unit of volume (per_unit models that declare one): the
# rules engine the fraud detector replaced caught 1.5 frauds per 100,000 transactions.
BASELINES = {"fraud-detection": 1.5e-5}


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
    volume_kpi, _ = VOLUMES[model.model_id]
    lines += ["", "# How the value this model delivers is measured.", "[value]"]
    experiment = EXPERIMENT_BY_MODEL.get(model.model_id)
    if experiment:
        # The uplift of the experiment's KPI (treatment − control) per treated unit, scaled
        # to the treatment arm (a holdout: everyone but the control group is treated).
        lines += [
            'method = "ab_uplift"',
            f"experiment = {_s(experiment)}",
            f"kpi = {_s(EXPERIMENT_KPI[model.model_id])}",
        ]
    else:
        lines += ['method = "per_unit"', f"kpi = {_s(model.kpi)}"]
        if model.model_id in BASELINES:
            lines.append(f"baseline = {BASELINES[model.model_id]}")
        lines.append(f"volume_kpi = {_s(volume_kpi)}")
    if model.unit_value_kpi:
        lines.append(f"unit_value_kpi = {_s(model.unit_value_kpi)}")
    lines += [
        "",
        "[quality]",
        f"metric = {_s(model.metric)}",
        f"retrain_every_months = {model.retrain_every_months}",
    ]
    for name, frequency, drop, delay, cost in RISKS.get(model.domain, ()):
        lines += [
            "",
            "[[risks]]",
            f"name = {_s(name)}",
            f"frequency_per_year = {frequency}",
            f"metric_drop = {drop}",
            f"detection_delay_days = {delay}",
            f"recovery_cost = {cost}",
        ]
    return "\n".join(lines) + "\n"


REPORTS: dict[str, str] = {
    "monthly_finance": """\
# The monthly finance report: HTML with charts, numbers read from the warehouse.
kind = "monthly_finance"
title = "ML portfolio: monthly cost report"

[options]
trend_months = 12          # months shown in the trend chart
top_unallocated = 10       # largest unallocated resources listed
""",
    "executive_pack": """\
# The Excel pack for executives: summary, cost by model, trend, unallocated and lineage sheets.
kind = "excel_pack"
title = "ML portfolio: executive pack"

[options]
trend_months = 12
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
