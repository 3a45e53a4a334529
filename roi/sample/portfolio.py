"""The sample portfolio: twelve ML models of a fictional company, Northwind Financial & Health.

Everything the sample generator writes (billing lines, LLM logs, GPU telemetry, KPIs, metrics)
and the project definitions `roi init` scaffolds (models/*.toml) derive from this one list, so
the data and the definitions can never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class SampleModel:
    """One ML model of the sample portfolio and how it shows up in the raw data."""

    model_id: str
    name: str
    domain: str
    owner: str
    business_unit: str
    stage: str  # experiment | production | retired
    launched: date
    retired: date | None
    # How its costs appear in billing: the `ml-model` tag value, the provider it runs on,
    # and the resource-id patterns (glob) that identify its untagged resources.
    provider: str  # "AWS" | "Microsoft"
    resource_patterns: tuple[str, ...]
    # GPU footprint: dedicated GPU instances and/or a share of the shared Kubernetes GPU cluster.
    dedicated_gpus: int
    cluster_workload: str | None  # Kubernetes deployment name on the shared GPU cluster
    llm_feature: str | None  # LiteLLM request tag `feature:<x>` for LLM-backed models
    # Monthly run-rate of non-GPU cloud cost (USD) and the business KPI it moves.
    base_monthly_cost: float
    kpi: str
    kpi_unit: str
    primary_metric: str  # auc | f1 | mape_inv | ndcg
    metric_start: float
    monthly_decay: float  # absolute drop of the primary metric per month without retraining
    retrain_every_months: int


AWS_ACCOUNT = "111122223333"
AZURE_SUB = "3f2a9c4e-7b1d-4e2a-9c8f-5d6e7a8b9c0d"

SAMPLE_MODELS: tuple[SampleModel, ...] = (
    SampleModel(
        "fraud-detection", "Card fraud detector", "fraud detection", "maria.okafor@northwind.example",
        "Payments", "production", date(2023, 6, 1), None, "AWS",
        (f"arn:aws:sagemaker:us-east-1:{AWS_ACCOUNT}:endpoint/fraud-*",),
        0, "fraud-scorer", None, 18_500.0, "fraud_losses_prevented", "USD", "auc", 0.962, 0.004, 3,
    ),
    SampleModel(
        "credit-scoring", "SME credit scorecard", "credit scoring", "li.wei@northwind.example",
        "Lending", "production", date(2022, 11, 1), None, "AWS",
        (f"arn:aws:sagemaker:us-east-1:{AWS_ACCOUNT}:endpoint/credit-*",),
        0, None, None, 7_200.0, "default_losses_avoided", "USD", "auc", 0.81, 0.002, 6,
    ),
    SampleModel(
        "churn-prediction", "Retail churn predictor", "churn prediction", "sam.patel@northwind.example",
        "Retail Banking", "production", date(2024, 1, 15), None, "Microsoft",
        (f"/subscriptions/{AZURE_SUB}/resourceGroups/rg-churn/*",),
        0, None, None, 4_100.0, "retained_customers", "customers", "auc", 0.78, 0.006, 2,
    ),
    SampleModel(
        "demand-forecast", "ATM cash demand forecast", "demand forecasting", "ana.garcia@northwind.example",
        "Operations", "production", date(2023, 3, 1), None, "AWS",
        (f"arn:aws:ec2:us-east-1:{AWS_ACCOUNT}:instance/i-0demand*",),
        1, None, None, 3_300.0, "cash_holding_cost_saved", "USD", "f1", 0.74, 0.008, 1,
    ),
    SampleModel(
        "recommendations", "Product recommendations", "recommendations", "tom.berg@northwind.example",
        "Digital", "production", date(2023, 9, 1), None, "AWS",
        (f"arn:aws:ec2:us-east-1:{AWS_ACCOUNT}:instance/i-0recsys*",),
        2, "recsys-ranker", None, 9_800.0, "incremental_revenue", "USD", "ndcg", 0.42, 0.003, 2,
    ),
    SampleModel(
        "predictive-maintenance", "ATM predictive maintenance", "predictive maintenance",
        "kofi.mensah@northwind.example", "Operations", "production", date(2024, 4, 1), None,
        "Microsoft", (f"/subscriptions/{AZURE_SUB}/resourceGroups/rg-pdm/*",),
        0, None, None, 2_600.0, "downtime_hours_avoided", "hours", "f1", 0.69, 0.005, 4,
    ),
    SampleModel(
        "clinical-triage", "Health-plan clinical triage", "clinical triage", "dr.ines.costa@northwind.example",
        "Health", "experiment", date(2025, 9, 1), None, "Microsoft",
        (f"/subscriptions/{AZURE_SUB}/resourceGroups/rg-triage/*",),
        1, "triage-bert", None, 1_900.0, "nurse_hours_saved", "hours", "f1", 0.71, 0.004, 3,
    ),
    SampleModel(
        "support-assistant", "LLM customer-support assistant", "LLM support assistant",
        "priya.nair@northwind.example", "Customer Service", "production", date(2024, 7, 1), None,
        "Microsoft", (f"/subscriptions/{AZURE_SUB}/resourceGroups/rg-assist/*",),
        0, None, "support-assistant", 2_400.0, "tickets_deflected", "tickets", "f1", 0.83, 0.003, 3,
    ),
    SampleModel(
        "document-extraction", "Loan document extraction", "document extraction",
        "jonas.keller@northwind.example", "Lending", "production", date(2024, 2, 1), None, "AWS",
        (f"arn:aws:textract:us-east-1:{AWS_ACCOUNT}:*",),
        0, "docx-layout", "doc-extraction", 3_700.0, "manual_review_hours_saved", "hours", "f1",
        0.88, 0.002, 6,
    ),
    SampleModel(
        "search-ranking", "Help-centre search ranking", "search ranking", "emma.lund@northwind.example",
        "Digital", "production", date(2023, 5, 1), None, "AWS",
        (f"arn:aws:es:us-east-1:{AWS_ACCOUNT}:domain/search-*",),
        0, "search-reranker", None, 5_200.0, "search_success_rate", "ratio", "ndcg", 0.61, 0.004, 2,
    ),
    SampleModel(
        "aml-screening", "AML transaction screening (v1)", "fraud detection",
        "maria.okafor@northwind.example", "Compliance", "retired", date(2022, 4, 1), date(2025, 8, 31),
        "AWS", (f"arn:aws:sagemaker:us-east-1:{AWS_ACCOUNT}:endpoint/aml-*",),
        0, None, None, 6_100.0, "alerts_closed_automatically", "alerts", "auc", 0.74, 0.007, 12,
    ),
    SampleModel(
        "claims-summarizer", "Claims summarizer (pilot)", "LLM support assistant",
        "dr.ines.costa@northwind.example", "Health", "experiment", date(2026, 2, 1), None,
        "Microsoft", (f"/subscriptions/{AZURE_SUB}/resourceGroups/rg-claims-llm/*",),
        0, None, "claims-summary", 800.0, "adjuster_hours_saved", "hours", "f1", 0.76, 0.004, 3,
    ),
)

# Billing covers 24 full months up to the month before "today" in the sample's story.
FIRST_MONTH = date(2024, 11, 1)
LAST_MONTH = date(2026, 10, 1)
# The month whose AWS export is re-issued with corrections (a second, later delivery).
REISSUED_MONTH = date(2025, 6, 1)
