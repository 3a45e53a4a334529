"""The sample portfolio: twelve ML models of a fictional bank-and-insurer, Northwind.

Everything the sample generator writes (billing lines, LLM logs, GPU telemetry, KPIs, metrics)
and the project definitions it scaffolds (models/*.toml) derive from this one list, so the data
and the definitions cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class SampleModel:
    """One ML model of the sample portfolio and how it behaves in the generated data."""

    model_id: str
    name: str
    domain: str
    owner: str
    business_unit: str
    stage: str  # experiment | production | retired
    launched: date
    retired: date | None
    provider: str  # cloud the model mainly runs on: "AWS" | "Microsoft"
    resource_patterns: tuple[str, ...]  # resource-id globs of its untagged resources
    tag_aliases: tuple[str, ...]  # extra `ml-model` tag values seen in billing for this model
    cluster_workload: str | None  # deployment on the shared GPU cluster
    llm_feature: str | None  # LiteLLM `feature:<x>` request tag
    kpi: str  # business KPI the model moves (for `did`, the KPI of the treated segments)
    kpi_unit: str
    kpi_monthly: float  # KPI volume per month at the end of the window (`did`: the effect)
    unit_value_kpi: str | None  # finance workbook row that prices one KPI unit
    unit_value: float  # USD per KPI unit
    metric: str  # auc | f1 | ndcg
    metric_start: float
    monthly_decay: float  # absolute metric drop per month without retraining
    retrain_every_months: int


AWS_PAYER = "123456789012"
AWS_PROD = "210987654321"
AWS_SANDBOX = "345678901234"
AWS_PLATFORM = "456789012345"
AZURE_BILLING_ACCOUNT = "/providers/Microsoft.Billing/billingAccounts/86115370"
AZURE_SUB = "3f2a9c4e-7b1d-4e2a-9c8f-5d6e7a8b9c0d"

SAMPLE_MODELS: tuple[SampleModel, ...] = (
    SampleModel(
        model_id="fraud-detection",
        name="Card fraud detector",
        domain="fraud detection",
        owner="maria.okafor@northwind.example",
        business_unit="Payments",
        stage="production",
        launched=date(2023, 6, 1),
        retired=None,
        provider="AWS",
        resource_patterns=(f"arn:aws:sagemaker:us-east-1:{AWS_PROD}:endpoint/fraud-*",),
        tag_aliases=(),  # its training jobs are still tagged `fraud-detector`: unallocated
        cluster_workload="fraud-scorer",
        llm_feature=None,
        kpi="fraud_true_positives",
        kpi_unit="cases",
        kpi_monthly=62.0,
        unit_value_kpi=None,
        unit_value=420.0,
        metric="auc",
        metric_start=0.962,
        monthly_decay=0.004,
        retrain_every_months=3,
    ),
    SampleModel(
        model_id="credit-scoring",
        name="SME credit scorecard",
        domain="credit scoring",
        owner="li.wei@northwind.example",
        business_unit="Lending",
        stage="production",
        launched=date(2022, 11, 1),
        retired=None,
        provider="AWS",
        resource_patterns=(f"arn:aws:sagemaker:us-east-1:{AWS_PROD}:endpoint/credit-*",),
        tag_aliases=(),
        cluster_workload=None,
        llm_feature=None,
        kpi="defaults_avoided",
        kpi_unit="loans",
        kpi_monthly=1.2,
        unit_value_kpi="avg_loss_given_default",
        unit_value=14_500.0,
        metric="auc",
        metric_start=0.81,
        monthly_decay=0.002,
        retrain_every_months=6,
    ),
    SampleModel(
        model_id="churn-prediction",
        name="Retail churn predictor",
        domain="churn prediction",
        owner="sam.patel@northwind.example",
        business_unit="Retail Banking",
        stage="production",
        launched=date(2024, 1, 15),
        retired=None,
        provider="Microsoft",
        resource_patterns=(f"/subscriptions/{AZURE_SUB}/resourcegroups/rg-churn/*",),
        tag_aliases=(),
        cluster_workload=None,
        llm_feature=None,
        kpi="customers_retained",
        kpi_unit="customers",
        kpi_monthly=260.0,
        unit_value_kpi="margin_per_retained_customer",
        unit_value=36.0,
        metric="auc",
        metric_start=0.78,
        monthly_decay=0.006,
        retrain_every_months=2,
    ),
    SampleModel(
        model_id="demand-forecast",
        name="ATM cash demand forecast",
        domain="demand forecasting",
        owner="ana.garcia@northwind.example",
        business_unit="Operations",
        stage="production",
        launched=date(2023, 3, 1),
        retired=None,
        provider="AWS",
        resource_patterns=(f"arn:aws:ec2:us-east-1:{AWS_PROD}:instance/i-0demand*",),
        tag_aliases=(),
        cluster_workload=None,
        llm_feature=None,
        kpi="idle_cash_reduced",
        kpi_unit="USD",
        kpi_monthly=1_900_000.0,
        unit_value_kpi="cost_of_cash_rate",
        unit_value=0.0042,
        metric="f1",
        metric_start=0.74,
        monthly_decay=0.008,
        retrain_every_months=3,
    ),
    SampleModel(
        model_id="recommendations",
        name="Product recommendations",
        domain="recommendations",
        owner="tom.berg@northwind.example",
        business_unit="Digital",
        stage="production",
        launched=date(2023, 9, 1),
        retired=None,
        provider="AWS",
        resource_patterns=(f"arn:aws:ec2:us-east-1:{AWS_PROD}:instance/i-0recsys*",),
        tag_aliases=("recsys",),
        cluster_workload="recsys-ranker",
        llm_feature=None,
        kpi="incremental_product_sales",
        kpi_unit="products",
        kpi_monthly=1_150.0,
        unit_value_kpi="margin_per_product_sale",
        unit_value=30.0,
        metric="ndcg",
        metric_start=0.42,
        monthly_decay=0.003,
        retrain_every_months=2,
    ),
    SampleModel(
        model_id="predictive-maintenance",
        name="ATM predictive maintenance",
        domain="predictive maintenance",
        owner="kofi.mensah@northwind.example",
        business_unit="Operations",
        stage="production",
        launched=date(2024, 4, 1),
        retired=None,
        provider="Microsoft",
        resource_patterns=(f"/subscriptions/{AZURE_SUB}/resourcegroups/rg-pdm/*",),
        tag_aliases=(),
        cluster_workload=None,
        llm_feature=None,
        kpi="downtime_hours_avoided",
        kpi_unit="hours",
        kpi_monthly=520.0,
        unit_value_kpi="atm_downtime_cost_per_hour",
        unit_value=48.0,
        metric="f1",
        metric_start=0.69,
        monthly_decay=0.005,
        retrain_every_months=4,
    ),
    SampleModel(
        model_id="clinical-triage",
        name="Health-plan clinical triage",
        domain="clinical triage",
        owner="ines.costa@northwind.example",
        business_unit="Health",
        stage="experiment",
        launched=date(2025, 9, 1),
        retired=None,
        provider="Microsoft",
        resource_patterns=(f"/subscriptions/{AZURE_SUB}/resourcegroups/rg-triage/*",),
        tag_aliases=(),
        cluster_workload="triage-bert",
        llm_feature=None,
        kpi="triage_nurse_hours",
        kpi_unit="hours",
        kpi_monthly=31.0,
        unit_value_kpi="nurse_hour_cost",
        unit_value=62.0,
        metric="f1",
        metric_start=0.71,
        monthly_decay=0.004,
        retrain_every_months=3,
    ),
    SampleModel(
        model_id="support-assistant",
        name="LLM customer-support assistant",
        domain="LLM support assistant",
        owner="priya.nair@northwind.example",
        business_unit="Customer Service",
        stage="production",
        launched=date(2024, 7, 1),
        retired=None,
        provider="Microsoft",
        resource_patterns=(f"/subscriptions/{AZURE_SUB}/resourcegroups/rg-assist/*",),
        tag_aliases=(),
        cluster_workload="assist-vllm",
        llm_feature="support-assistant",
        kpi="tickets_deflected",
        kpi_unit="tickets",
        kpi_monthly=2_400.0,
        unit_value_kpi="cost_per_support_ticket",
        unit_value=7.5,
        metric="f1",
        metric_start=0.83,
        monthly_decay=0.003,
        retrain_every_months=3,
    ),
    SampleModel(
        model_id="document-extraction",
        name="Loan document extraction",
        domain="document extraction",
        owner="jonas.keller@northwind.example",
        business_unit="Lending",
        stage="production",
        launched=date(2024, 2, 1),
        retired=None,
        provider="AWS",
        resource_patterns=(f"arn:aws:textract:us-east-1:{AWS_PROD}:*",),
        tag_aliases=(),
        cluster_workload="docx-layout",
        llm_feature="doc-extraction",
        kpi="pages_auto_processed",
        kpi_unit="pages",
        kpi_monthly=32_240.0,
        unit_value_kpi="manual_cost_per_page",
        unit_value=0.38,
        metric="f1",
        metric_start=0.88,
        monthly_decay=0.002,
        retrain_every_months=6,
    ),
    SampleModel(
        model_id="search-ranking",
        name="Help-centre search ranking",
        domain="search ranking",
        owner="emma.lund@northwind.example",
        business_unit="Digital",
        stage="production",
        launched=date(2023, 5, 1),
        retired=None,
        provider="AWS",
        resource_patterns=(f"arn:aws:es:us-east-1:{AWS_PROD}:domain/search-*",),
        tag_aliases=(),
        cluster_workload="search-reranker",
        llm_feature=None,
        kpi="self_service_resolutions",
        kpi_unit="sessions",
        kpi_monthly=5_200.0,
        unit_value_kpi="cost_per_support_ticket",
        unit_value=7.5,
        metric="ndcg",
        metric_start=0.61,
        monthly_decay=0.004,
        retrain_every_months=2,
    ),
    SampleModel(
        model_id="aml-screening",
        name="AML transaction screening (v1)",
        domain="fraud detection",
        owner="maria.okafor@northwind.example",
        business_unit="Compliance",
        stage="retired",
        launched=date(2022, 4, 1),
        retired=date(2025, 8, 31),
        provider="AWS",
        resource_patterns=(f"arn:aws:sagemaker:us-east-1:{AWS_PROD}:endpoint/aml-*",),
        tag_aliases=(),
        cluster_workload=None,
        llm_feature=None,
        kpi="alerts_closed_automatically",
        kpi_unit="alerts",
        kpi_monthly=170.0,
        unit_value_kpi="analyst_minutes_per_alert",
        unit_value=9.0,
        metric="auc",
        metric_start=0.74,
        monthly_decay=0.007,
        retrain_every_months=12,
    ),
    SampleModel(
        model_id="claims-summarizer",
        name="Claims summarizer (pilot)",
        domain="LLM support assistant",
        owner="ines.costa@northwind.example",
        business_unit="Health",
        stage="experiment",
        launched=date(2026, 2, 1),
        retired=None,
        provider="Microsoft",
        resource_patterns=(f"/subscriptions/{AZURE_SUB}/resourcegroups/rg-claims-llm/*",),
        tag_aliases=(),
        cluster_workload=None,
        llm_feature="claims-summary",
        kpi="adjuster_hours_saved",
        kpi_unit="hours",
        kpi_monthly=15.0,
        unit_value_kpi="adjuster_hour_cost",
        unit_value=55.0,
        metric="f1",
        metric_start=0.76,
        monthly_decay=0.004,
        retrain_every_months=3,
    ),
)

MODELS_BY_ID = {m.model_id: m for m in SAMPLE_MODELS}

# Billing covers 24 full months up to the month before "today" in the sample's story.
FIRST_MONTH = date(2024, 11, 1)
LAST_MONTH = date(2026, 10, 1)
# The AWS month whose export is re-issued with corrections (a second, later delivery).
REISSUED_MONTH = date(2025, 6, 1)
# Telemetry and LLM logs are kept for a shorter window, as Prometheus and LiteLLM retain them.
TELEMETRY_FIRST_MONTH = date(2025, 11, 1)
LLM_LOG_FIRST_MONTH = date(2026, 8, 1)


def months(first: date = FIRST_MONTH, last: date = LAST_MONTH) -> list[date]:
    """First days of every month from `first` to `last`, inclusive."""
    out = []
    current = first
    while current <= last:
        out.append(current)
        current = next_month(current)
    return out


def next_month(d: date) -> date:
    """The first day of the month after `d`."""
    return date(d.year + (d.month == 12), d.month % 12 + 1, 1)


def live(model: SampleModel, day: date) -> bool:
    """Whether the model runs on `day` (launched and not yet retired)."""
    return model.launched <= day and (model.retired is None or day <= model.retired)
