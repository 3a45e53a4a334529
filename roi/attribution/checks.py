"""Rules and data that count without a visible effect, as warnings: models whose selectors match
no cost at all, and data of connectors the project no longer defines.

A selector with a typo (`ml-modle = "fraud"`) is valid TOML and a valid rule, so nothing
fails: the model just shows a cost of 0 beside its value. Each such model is a warning in
`roi attribute`, `roi status` and the report's data-quality checks.
"""

from __future__ import annotations

from roi import warehouse
from roi.config import ModelConfig, ProjectConfig
from roi.loading.forget import undefined_connectors
from roi.warehouse import Connection


def project_warnings(con: Connection, project: ProjectConfig) -> list[str]:
    """What counts without a visible effect: data of connectors the project no longer
    defines, and models whose selectors match no cost."""
    defined = tuple(c.name for c in project.connectors)
    return [
        *undefined_connectors(con, defined),
        *unmatched_selectors(con, project.models),
        *unknown_report_models(project),
        *unknown_correlations(project),
    ]


def unknown_correlations(project: ProjectConfig) -> list[str]:
    """One warning per risk whose `correlated_with` names a model the project does not define
    (deleted or renamed): the failure scenario leaves that correlation out."""
    known = {m.model_id for m in project.models}
    return [
        f"{m.file.name}: [[risks]] {risk.name!r}: correlated_with names no model: "
        f"{', '.join(sorted(set(risk.correlated_with) - known))}; the failure scenario leaves "
        "that correlation out (remove it, or restore the model)"
        for m in project.models
        for risk in m.risks
        if set(risk.correlated_with) - known
    ]


def unknown_report_models(project: ProjectConfig) -> list[str]:
    """One warning per report whose options name models the project does not define (a model
    deleted or renamed): the report leaves them out rather than failing."""
    known = {m.model_id for m in project.models}
    warnings = []
    for report in project.reports:
        named = set(report.options.models) | (set(report.options.budgets) - {"total"})
        if named - known:
            warnings.append(
                f"{report.file.name} names model(s) the project does not define: "
                f"{', '.join(sorted(named - known))}; they are left out of the report (remove "
                "them from its options, or restore the models)"
            )
    return warnings


def _selector_kinds(model: ModelConfig) -> list[str]:
    s = model.selectors
    kinds = {
        "tags": bool(s.tags),
        "resource_ids": bool(s.resource_ids),
        "sub_accounts": bool(s.sub_accounts),
        "gpu_workloads": bool(s.gpu_workloads),
        "llm_features": bool(s.llm_features),
    }
    return [k for k, used in kinds.items() if used]


def unmatched_selectors(con: Connection, models: tuple[ModelConfig, ...]) -> list[str]:
    """One warning per model with selectors that match no cost in any attributed month."""
    attributed = warehouse.fetch_one(con, "SELECT count(*) FROM _attributed_months")[0]
    if not attributed:
        return []
    costed = {
        str(r[0])
        for r in warehouse.fetch_all(
            con, "SELECT DISTINCT model_id FROM model_costs WHERE amount <> 0"
        )
    }
    lost = {
        str(r[0])
        for r in warehouse.fetch_all(
            con,
            """SELECT DISTINCT m FROM (SELECT unnest(matched_models) AS m, chosen_model
                                       FROM attribution_conflicts) WHERE m <> chosen_model""",
        )
    }
    warnings = []
    for model in models:
        kinds = _selector_kinds(model)
        if not kinds or model.model_id in costed or model.stage == "retired":
            continue
        conflicts = (
            " (it lost every conflict: see attribution_conflicts)" if model.model_id in lost else ""
        )
        warnings.append(
            f"model {model.model_id} ({model.stage}) has selectors ({', '.join(kinds)}) in "
            f"{model.file} but no cost in any month{conflicts}; check them against the data "
            '(e.g. roi query "SELECT DISTINCT tags FROM cost_lines LIMIT 20")'
        )
    return warnings
