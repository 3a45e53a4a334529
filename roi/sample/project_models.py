"""`models/<model_id>.toml` of the sample project: each model's definition as TOML text, and what
it declares beyond the portfolio (how its value is measured, its quality estimates, retraining
cost, LLM serving and training)."""

from __future__ import annotations

from math import floor, log10

from roi.sample.business import CREDIT_BASELINE_RATE, EXPERIMENTS, VOLUMES
from roi.sample.portfolio import MODELS_BY_ID, SAMPLE_MODELS, SampleModel
from roi.sample.project_risks import RISKS
from roi.sample.toml_text import toml_array, toml_string

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
    """`x` rounded to two significant figures."""
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
            f"experiment = {toml_string(experiment)}",
            f"kpi = {toml_string(EXPERIMENT_KPI[model.model_id])}",
        ]
    else:
        lines = [
            "# Gross value: no counterfactual is declared, so it is graded an assumption.",
            'method = "per_unit"',
            f"kpi = {toml_string(model.kpi)}",
            f"volume_kpi = {toml_string(volume_kpi)}",
        ]
    if model.unit_value_kpi:
        lines.append(f"unit_value_kpi = {toml_string(model.unit_value_kpi)}")
    return lines


def model_toml(model: SampleModel) -> str:
    """The `models/<model_id>.toml` definition of one sample model."""
    lines = [
        f"# {model.name}: {model.domain}, owned by {model.business_unit}.",
        f"model_id = {toml_string(model.model_id)}",
        f"name = {toml_string(model.name)}",
        f"domain = {toml_string(model.domain)}",
        f"owner = {toml_string(model.owner)}",
        f"business_unit = {toml_string(model.business_unit)}",
        f"stage = {toml_string(model.stage)}",
        f"launched = {model.launched.isoformat()}",
    ]
    if model.retired:
        lines.append(f"retired = {model.retired.isoformat()}")
    if model.model_id in TRAINING:
        lines.append("# Training runs (tagged ml-stage = training) are spread over 12 months.")
        lines.append(f"training = {toml_string(TRAINING[model.model_id])}")
    lines += [
        "",
        "# How billing lines, GPU workloads and LLM requests are matched to this model.",
        "[selectors]",
        f'tags = {{ "ml-model" = {toml_array([model.model_id, *model.tag_aliases])} }}',
        f"resource_ids = {toml_array(model.resource_patterns)}",
    ]
    if model.cluster_workload:
        lines.append(f"gpu_workloads = {toml_array([model.cluster_workload])}")
    if model.llm_feature:
        lines.append(f"llm_features = {toml_array([model.llm_feature])}")
    lines += ["", "# How the value this model delivers is measured.", "[value]"]
    lines += _value_lines(model)
    lines += [
        "",
        "[quality]",
        f"metric = {toml_string(model.metric)}",
        f"retrain_every_months = {model.retrain_every_months}",
    ]
    if model.model_id in EXPERIMENT_BY_MODEL or model.model_id == "document-extraction":
        lines.append(f"kpi = {toml_string(model.kpi)}  # the business KPI the metric drives")
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
            f"api_reference = {toml_string(reference)}",
            f"api_prices = {prices}",
        ]
    for risk in RISKS.get(model.domain, ()):
        lines += ["", "[[risks]]", *(f"{key} = {value}" for key, value in risk.items())]
    return "\n".join(lines) + "\n"
