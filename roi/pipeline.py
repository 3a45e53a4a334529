"""The library behind the CLI: load, ingest, attribute, reconcile, explain, report, run, query
and status.

The steps on a project take its `Context` (settings, warehouse, progress, waits), open the
warehouse through it (write connections only for as long as the step commits) and return plain
results; the CLI only builds the context, parses and formats. `ingest`, `query` and `status`
work on a warehouse file without a project.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from roi import warehouse
from roi.attribution.checks import project_warnings
from roi.attribution.cloud_llm import gateway_vs_invoices
from roi.attribution.engine import (
    AttributionResult,
    attribution_result,
    plan_attribution,
    replace_attribution,
    up_to_date,
)
from roi.attribution.explain import Explanation
from roi.attribution.explain import explain as explain_change
from roi.attribution.incremental import months_to_attribute
from roi.attribution.movers import keep_movers
from roi.attribution.reconcile import gateway_vs_bill, unbilled_totals
from roi.attribution.reconcile import reconcile as reconcile_months
from roi.config import ConnectorConfig, ProjectConfig, redact_url
from roi.config.project import OnReject
from roi.connectors import connector_class, connector_types, resolve
from roi.context import Context
from roi.errors import ConfigError
from roi.loading.forget import Forgotten, forget_connector
from roi.loading.loader import LoadResult, load_source, load_sources
from roi.loading.status import Status, read_status
from roi.portfolio import sync_portfolio
from roi.pricing.history import Repricing, listed_with_fixes, unpriced_usage
from roi.progress import reporting
from roi.reuse import inputs_key, remember, reusable
from roi.scenarios.standing import keep_standing
from roi.value.engine import replace_value
from roi.value.methods import resolve as resolve_value
from roi.warehouse.cost_store import current_files, data_dir
from roi.warehouse.months import check_attributed, check_month, choose_month, data_months

if TYPE_CHECKING:
    from roi.reporting.renderer import Renderer

# Fault injection for tests: called inside `attribute`'s transaction, between the attribution
# tables and the value tables derived from them.
between_tables_hooks: list[Callable[[], None]] = []


def check_project(project: ProjectConfig) -> None:
    """Resolve what configuration leaves to the kinds (connector types, value methods, report
    sections) and their options: `roi load` and `roi attribute` run this first.

    Raises:
        ConfigError: naming the file and the key.
    """
    for connector in project.connectors:
        resolve(connector, project.root)
    for model in project.models:
        if model.value is not None:
            resolve_value(model)
    for report in project.reports:
        if report.options.sections is not None:  # the sections import altair: only then
            from roi.reporting.sections import report_sections

            report_sections(report)


def load(ctx: Context, names: list[str] | None = None) -> list[LoadResult]:
    """Run the project's connectors (all enabled ones, or those named), one transaction each.

    Every definition is resolved (type and options checked) before anything runs.
    """
    project = ctx.project
    check_project(project)
    chosen = (
        [project.connector(n) for n in names]
        if names
        else [c for c in project.connectors if c.enabled]
    )
    sources = [resolve(c, project.root) for c in chosen]
    with ctx.writing():
        return load_sources(ctx, sources)


def ingest(
    ctx: Context,
    connector_type: str,
    path: str,
    *,
    name: str | None = None,
    options: dict[str, Any] | None = None,
    on_reject: OnReject = "fail",
) -> LoadResult:
    """Load one file, folder, glob or URL with a connector type, without a TOML definition.

    The connector name (default `<type>:<path>`) keys its cursor, so ingesting the same
    unchanged file again changes nothing. `options` are checked against the type's option set
    (text values, as typed on the command line, are converted). Paths are relative to the
    context's root.
    """
    if connector_type not in connector_types():
        raise ConfigError(
            f"unknown connector type {connector_type!r}; "
            f"allowed values: {', '.join(connector_types())}"
        )
    is_url = "://" in path  # a service (http, https) or a database (postgresql)
    cls = connector_class(connector_type)
    if is_url and not cls.reads_urls:
        raise ConfigError(
            f"connector type {connector_type!r} reads files, not URLs; download {redact_url(path)} "
            "first (e.g. `curl -O <url>`) and ingest the downloaded file"
        )
    checked = cls.check_options(dict(options or {}), "--option", from_text=True)
    config = ConnectorConfig(
        name=name or f"{connector_type}:{redact_url(path) if is_url else path}",
        type=connector_type,
        file=Path("<roi ingest>"),
        path=None if is_url else path,
        url=path if is_url else None,
        on_reject=on_reject,
        options=checked,
    )
    source = resolve(config, ctx.root)
    with ctx.writing():
        return load_source(ctx, source)


def attribute(ctx: Context, month: date | None = None, full: bool = False) -> AttributionResult:
    """Attribute the months whose billing lines, usage or rules changed (or one month, or all).

    A month is recomputed when the loads it was attributed from or the project's rules
    changed since; `full` recomputes every month. The tables are computed on a read-only
    connection; the file is opened for writing only to replace them.
    """
    project, progress = ctx.project, ctx.progress
    check_project(project)
    with ctx.writing(), reporting(progress):  # reporting: a Spark fold's tasks
        if project.engine.reads_elsewhere and not ctx.warehouse.exists():
            with ctx.committing():  # a new warehouse for the results: the rows stay where they are
                pass
        with warehouse.open_warehouse(
            ctx.warehouse,
            read_only=True,
            memory_limit=ctx.memory_limit,
            wait=warehouse.COMMIT_WAIT_SECONDS,
        ) as con:
            if month is not None and not project.engine.reads_elsewhere:  # else the lake knows
                check_month(month, data_months(con, project.attribution.month_basis))
            # Rows read where they live (a lake) are not fingerprinted: every month again.
            full = full or project.engine.reads_elsewhere
            selection = months_to_attribute(
                con, project.models, project.pools, project.attribution, month, full
            )
            plan = (
                None
                if selection.months == ()
                else plan_attribution(
                    con,
                    project.models,
                    project.attribution,
                    selection.months,
                    project.pools,
                    engine=project.engine,
                )
            )
            if plan is not None and project.engine.reads_elsewhere:
                # Months of rows read where they live have no fingerprint in the warehouse:
                # recorded as attributed all the same (the next run recomputes them anyway).
                lake = dict.fromkeys(plan.months, "read where the rows live")
                selection = replace(selection, inputs={**lake, **selection.inputs})
        # One transaction for the attribution and every table derived from it: a crash
        # between them never leaves a P&L computed from another attribution.
        with ctx.committing() as con:
            with warehouse.transaction(con):
                if plan is not None:
                    replace_attribution(con, plan, selection)
                else:  # names, owners and stages as the definitions say now
                    sync_portfolio(con, project.models)
                for hook in between_tables_hooks:
                    hook()
                # Value reads KPIs and metrics as well as cost: recomputed when a load, an
                # attribution or a definition changed since it was last computed.
                key = inputs_key(con, project, "value")
                if reusable(con, "value", key) is None:
                    replace_value(con, project)
                    remember(con, "value", key)
            warnings = tuple(project_warnings(con, project))
    if plan is None:
        progress.info(f"attribution up to date: {selection.unchanged} month(s) unchanged")
        result = up_to_date(selection)
    else:
        result = attribution_result(plan, progress, selection)
    return replace(result, warnings=warnings)


def forget(ctx: Context, name: str) -> Forgotten:
    """Remove everything connector `name` loaded (`roi forget`), in one transaction; the next
    `roi attribute` recomputes the months it touched."""
    with ctx.writing(), ctx.committing() as con, warehouse.transaction(con):
        return forget_connector(con, name)


@dataclass(frozen=True)
class Reconciliation:
    """Source totals against attributed parts per month and currency, and LLM bills against
    the gateway's reported cost."""

    months: pl.DataFrame
    gateway: pl.DataFrame
    unbilled: pl.DataFrame  # LLM usage priced as reported, with no bill in the warehouse
    # Per month and LLM provider: gateway estimate, invoice (or cloud bill's LLM lines), gap.
    invoices: pl.DataFrame
    # LLM requests no price covers, per provider, model, tier and month, with how to fix it.
    unpriced: pl.DataFrame = field(default_factory=pl.DataFrame)

    @property
    def reconciled(self) -> bool:
        """Whether every difference is zero."""
        return bool((self.months["difference"] == 0).all())


def reconcile(ctx: Context, month: date | None = None) -> Reconciliation:
    """Per month and currency: the source's billed and effective totals, what attribution
    placed (direct, shared, amortized, idle, unallocated) and the difference (0.00)."""
    with ctx.reader() as con, reporting(ctx.progress):
        if month is not None:
            check_month(month, data_months(con, ctx.project.attribution.month_basis))
        months = reconcile_months(con, ctx.project.attribution, month, ctx.project.engine)
        gateway = gateway_vs_bill(con, ctx.project.pools, month, ctx.project.engine)
        unbilled = unbilled_totals(con, month)
        invoices = gateway_vs_invoices(con, ctx.project.attribution, ctx.project.pools, month)
        unpriced = unpriced_usage(con, month)
    return Reconciliation(
        months, gateway, unbilled, invoices, listed_with_fixes(ctx.project, unpriced, ctx.progress)
    )


def reprice(ctx: Context, month: date | None = None, dry_run: bool = False) -> Repricing:
    """Price LLM usage again with the current price book (`roi reprice`): the rows roi priced
    or could not price, never reported or trued-up costs; `month` limits it to one month.

    What changes is computed on a read-only connection; the write is one short transaction.
    A dry run writes nothing. The next `roi attribute` recomputes the months it changed.
    """
    from roi.pricing.book import book_for
    from roi.pricing.history import plan_reprice, store_reprice

    book = book_for(ctx.project)
    if dry_run:
        with ctx.reader() as con:
            return plan_reprice(con, book, month)
    with ctx.writing():
        with ctx.reader(wait=warehouse.COMMIT_WAIT_SECONDS) as con:
            plan = plan_reprice(con, book, month)
        if not plan.changed:
            return plan
        with ctx.committing() as con:
            return store_reprice(con, plan)


def explain(ctx: Context, model_id: str, month: date, top: int = 10) -> Explanation:
    """A model's month-over-month cost change as volume, price, mix and pool effects."""
    with ctx.reader() as con:
        check_month(month, data_months(con, ctx.project.attribution.month_basis))
        return explain_change(con, ctx.project, model_id, month, top)


def portfolio(ctx: Context, month: date | None = None) -> pl.DataFrame:
    """Every model's cost, value (interval), net, ROI, payback, evidence and flags, with totals,
    for `month` (default: the latest month with billing data)."""
    from roi.value.portfolio import portfolio as portfolio_view

    with ctx.reader() as con:
        chosen = choose_month(con, month, ctx.project.attribution.month_basis)
        frame = portfolio_view(con, check_attributed(con, chosen))
    # A model with no P&L that month (no cost) is still in the project's currency.
    return frame.with_columns(pl.col("currency").fill_null(ctx.project.project.currency))


def report(
    ctx: Context,
    month: date | None = None,
    out_dir: Path | None = None,
    kinds: tuple[str, ...] = ("monthly_finance", "excel_pack"),
    out_file: Path | None = None,
    force: bool = False,
    renderer: Renderer | None = None,
    only: tuple[str, ...] = (),
) -> list[Path]:
    """Render the project's reports (of the given kinds; `only`: those named) for one month
    (default: the latest month with billing data); the files written (or kept: inputs
    unchanged, not `force`).

    `out_file` names the file of a single report instead of `<out>/<report>_<month>.<ext>`;
    `renderer` draws the HTML reports' charts and PDF (else one is started when needed).
    """
    from roi.reporting.render import render_reports

    with ctx.reader() as con:
        chosen = choose_month(con, month, ctx.project.attribution.month_basis)
        return render_reports(
            con, ctx.project, chosen, out_dir, kinds, ctx.progress, out_file, force, renderer, only
        )


def export_focus(ctx: Context, month: date, out: Path) -> tuple[Path, int]:
    """Write a month's cost as FOCUS 1.3 split charges (roi's allocation) to `out`; the file
    and its row count."""
    from roi.reporting.focus_export import export_focus as write_focus

    with ctx.reader() as con:
        return out, write_focus(con, ctx.project, month, out)


@dataclass(frozen=True)
class RunResult:
    """What `roi run` did."""

    loads: list[LoadResult]
    attribution: AttributionResult
    outputs: list[Path] = field(default_factory=list)
    scenarios: list[str] = field(default_factory=list)  # the stored scenario run ids


def run(
    ctx: Context, month: date | None = None, out_dir: Path | None = None, force: bool = False
) -> RunResult:
    """The main job: load every connector, attribute the months that changed, explain the
    report month's largest movers, run the standing scenarios, write the reports. What did
    not change is not recomputed: the value tables, the movers, a scenario run or a report
    whose inputs are those it was last made from is kept (`force` renders the reports all the
    same).

    Raises:
        ConfigError: a project with no connectors and no warehouse yet (a blank one), with
            how to add data.
    """
    if not any(c.enabled for c in ctx.project.connectors) and not ctx.warehouse.exists():
        raise ConfigError(
            f"the project in {ctx.project.root} has no connectors yet, so there is nothing to "
            "load; add your data with `roi connect PATH` (a billing export, LLM logs, KPIs), "
            "then `roi models suggest --write`"
        )
    loads = load(ctx)
    result = attribute(ctx)
    keep_movers(ctx, month)
    ran = keep_standing(ctx)
    outputs = report(ctx, month, out_dir, force=force)
    return RunResult(loads, result, outputs, ran)


def query(ctx: Context, sql: str) -> pl.DataFrame:
    """Run one read-only statement on the warehouse, sandboxed to its tables."""
    with ctx.reader() as con:
        data = data_dir(ctx.warehouse)
        readable = [data / name for name in current_files(con)]
        return warehouse.run_user_query(con, sql, readable)


def status(ctx: Context) -> Status:
    """Row counts per table and, per connector, its last load and the data it covers; in a
    project, also what counts without a visible effect (`project_warnings`)."""
    with ctx.reader() as con:
        found = read_status(con, ctx.warehouse)
        if ctx.has_project:
            found = replace(found, warnings=[*found.warnings, *project_warnings(con, ctx.project)])
    return found
