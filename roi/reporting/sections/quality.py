"""Data quality and trust: the checks the month must pass (with amounts), how fresh each
source is, rejected rows, the reconciliation of the month and of LLM bills against the gateway,
and the lineage appendix: the loads and source files behind every figure and the scenario runs
the report cites."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from roi import warehouse
from roi.attribution.reconcile import gateway_vs_bill
from roi.loading.freshness import source_coverage
from roi.reporting.book import Book
from roi.reporting.charts import Charts
from roi.reporting.columns import Column
from roi.reporting.data import ReportData, month_bounds, month_range
from roi.reporting.html import escape, table
from roi.reporting.numbers import money
from roi.reporting.sections import Section, register

CITED_RUNS = ("failure --all", "forecast --all", "decay --all")
NO_GATEWAY = (
    "No LLM pool billed through a gateway this month: nothing to reconcile (connect LiteLLM "
    "logs with roi connect and define an LLM pool to check gateway against bill)."
)


@dataclass(frozen=True)
class Figures:
    """Checks, freshness, rejects, reconciliation and lineage."""

    warnings: list[tuple[str, str, float | None]]  # kind, message, amount
    sources: pl.DataFrame
    rejects: pl.DataFrame
    conflicts: pl.DataFrame
    gateway: pl.DataFrame
    loads: pl.DataFrame
    files: pl.DataFrame
    runs: pl.DataFrame


def _columns(cur: str) -> dict[str, list[Column]]:
    """Every table's columns, by table."""
    return {
        "gateway": [
            Column("pool", "LLM pool"),
            Column("billed", f"Billed ({cur})", "money"),
            Column("gateway", f"Gateway ({cur})", "money"),
            Column("difference", "Difference", "money"),
        ],
        "conflicts": [
            Column("provider", "Provider"),
            Column("resource_id", "Resource", "id"),
            Column("matched_models", "Matched by"),
            Column("chosen_model", "Counted for"),
            Column("amount", f"Cost ({cur})", "money"),
            Column("lines", "Lines", "count", only="excel"),
        ],
        "sources": [
            Column("connector", "Source"),
            Column("type", "Type"),
            Column("table", "Table"),
            Column("data_through", "Data through"),
            Column("last_load_at", "Last load (UTC)", "timestamp"),
            Column("last_load_id", "Last load id", "id", only="excel"),
            Column("rows", "Rows", "count"),
            Column("rejected", "Rejected", "count"),
        ],
        "rejects": [
            Column("connector", "Source"),
            Column("source_file", "File", "id"),
            Column("rows", "Rows", "count"),
            Column("fields", "Fields"),
            Column("example", "Reason"),
        ],
        "loads": [
            Column("load_id", "Load id", "id"),
            Column("connector", "Connector"),
            Column("finished_at", "Finished (UTC)", "timestamp", only="excel"),
            Column("files", "Files", "count"),
            Column("lines", "Lines", "count"),
            Column("effective_cost", f"Effective ({cur})", "money"),
        ],
        "runs": [
            Column("run_id", "Scenario run", "id", excel_header="Run id"),
            Column("created_at", "Computed (UTC)", "timestamp", only="excel"),
        ],
        "files": [
            Column("source_file", "Source file", "id"),
            Column("load_id", "Load id", "id"),
            Column("lines", "Lines", "count"),
            Column("effective_cost", f"Effective ({cur})", "money"),
        ],
    }


def _sources(data: ReportData) -> pl.DataFrame:
    """Each source's last load, rows loaded and rejected, and the data it covers."""
    return warehouse.fetch_frame(
        data.con,
        """SELECT s.connector, l.connector_type AS type, l.target_table AS "table",
                  l.finished_at AS last_load_at, s.load_id AS last_load_id,
                  (SELECT sum(rows_loaded) FROM _loads a WHERE a.connector = s.connector)
                      AS rows,
                  (SELECT sum(rows_rejected) FROM _loads a WHERE a.connector = s.connector)
                      AS rejected
           FROM _state s JOIN _loads l ON l.load_id = s.load_id ORDER BY s.connector""",
    ).join(source_coverage(data.con), on="connector", how="left")


def _lineage(data: ReportData) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """The loads and source files behind the month's cost, and the scenario runs cited."""
    from roi.attribution.ledger import month_column

    when = month_column(data.project.attribution)
    loads = warehouse.fetch_frame(
        data.con,
        f"""SELECT l.load_id, l.connector, l.finished_at, count(*) AS lines,
                   sum(c.effective_cost)::DOUBLE AS effective_cost,
                   count(DISTINCT c.source_file) AS files
            FROM cost_lines c JOIN _loads l ON l.load_id = c._load_id
            WHERE {month_range("c." + when)} AND c.billing_currency = ?
            GROUP BY ALL ORDER BY l.connector""",
        [*month_bounds(data.month), data.currency],
    )
    files = warehouse.fetch_frame(
        data.con,
        f"""SELECT source_file, _load_id AS load_id, count(*) AS lines,
                   sum(effective_cost)::DOUBLE AS effective_cost
            FROM cost_lines WHERE {month_range(when)} AND billing_currency = ?
            GROUP BY ALL ORDER BY source_file""",
        [*month_bounds(data.month), data.currency],
    )
    cited = [r for r in (data.scenario(c) for c in CITED_RUNS) if r]
    runs = pl.DataFrame(
        [{"run_id": r["run_id"], "created_at": r["created_at"]} for r in cited],
        schema={"run_id": pl.String, "created_at": pl.Datetime("us", "UTC")},
    )
    return loads, files, runs


def _checks_html(f: Figures, data: ReportData) -> str:
    """The warnings (or that there are none) and the month's reconciliation."""
    cur, t = data.currency, data.totals
    if f.warnings:
        checks = (
            '<div class="warn"><ul>'
            + "".join(f"<li><b>{escape(k)}</b>: {escape(m)}</li>" for k, m, _ in f.warnings)
            + "</ul></div>"
        )
    else:
        checks = '<p class="ok">All checks passed.</p>'
    recon = (
        f"<p>Source total {money(t.source_total, cur)} = allocated {money(t.allocated)} + "
        f"unallocated {money(t.unallocated)} + idle {money(t.idle)} "
        f"(difference {money(t.attributed - t.source_total)}); billed (invoices) "
        f"{money(t.billed_total, cur)}; LLM usage priced with no bill {money(t.usage, cur)}.</p>"
    )
    return "<h3>Checks</h3>" + checks + "<h3>Reconciliation</h3>" + recon


@register
class Quality(Section[Figures]):
    """Checks, freshness, reconciliation and lineage."""

    name = "quality"
    title = "Data quality and lineage"
    sheet = "Lineage"
    order = 90

    def read(self, data: ReportData) -> Figures:
        """Everything a reader needs to trust (or distrust) the month's figures."""
        totals = data.totals
        sources = _sources(data)
        rejects = warehouse.fetch_frame(
            data.con,
            """SELECT connector, source_file, count(*) AS rows,
                      string_agg(DISTINCT "column", ', ' ORDER BY "column") AS fields,
                      any_value(reason) AS example
               FROM _rejects GROUP BY ALL ORDER BY connector, source_file""",
        )
        loads, files, runs = _lineage(data)
        gateway = gateway_vs_bill(data.con, data.project.pools, data.month, data.project.engine)
        conflicts = warehouse.fetch_frame(
            data.con,
            """SELECT provider, resource_id,
                      array_to_string(matched_models, ', ') AS matched_models,
                      chosen_model, amount::DOUBLE AS amount, line_count AS lines
               FROM attribution_conflicts WHERE month = ? ORDER BY amount DESC""",
            [data.month],
        )
        warnings = [
            (c.kind, c.message, float(c.amount) if c.amount is not None else None)
            for c in totals.checks
        ]
        return Figures(warnings, sources, rejects, conflicts, gateway, loads, files, runs)

    def html(self, figures: Figures, data: ReportData, charts: Charts) -> str:
        """Checks, freshness, reconciliation and the lineage appendix."""
        f, columns = figures, _columns(data.currency)
        return (
            _checks_html(f, data)
            + table(f.gateway, columns["gateway"], empty=NO_GATEWAY)
            + '<h3>Selector conflicts</h3><p class="note">Lines two models\' selectors matched; '
            "each is counted once, for the model shown (fix the selectors or set priorities).</p>"
            + table(f.conflicts, columns["conflicts"], empty="No conflicts this month.")
            + "<h3>Freshness per source</h3>"
            + table(f.sources, columns["sources"])
            + "<h3>Rejected rows</h3>"
            + table(f.rejects, columns["rejects"], empty="No rejected rows.")
            + "<h3>Lineage</h3><p>Every cost figure comes from these loads (table "
            "<code>_loads</code>) and source files (<code>cost_lines.source_file</code>, "
            "<code>source_row</code>); risk and forecast from the scenario runs listed "
            "(<code>scenario_runs</code>).</p>"
            + table(f.loads, columns["loads"])
            + table(f.runs, columns["runs"], empty="No scenario runs on this attribution.")
            + f"<details><summary>{f.files.height} source files</summary>"
            + table(f.files, columns["files"])
            + "</details>"
        )

    def excel(self, figures: Figures, data: ReportData, book: Book) -> None:
        """The Lineage sheet: checks, sources, loads, files and scenario runs."""
        f, sheet, columns = figures, self.sheet_in(book), _columns(data.currency)
        sheet.title(0, f"Data quality and lineage, {data.month:%B %Y}")
        line = 2
        sheet.text(line, 0, "Checks", "bold")
        if f.warnings:
            for i, (kind, message, amount) in enumerate(f.warnings, line + 1):
                sheet.text(i, 0, f"Warning ({kind}): {message}", "warn")
                sheet.number(i, 1, amount)
            line += len(f.warnings) + 2
        else:
            sheet.text(line + 1, 0, "All checks passed", "ok")
            line += 3
        for title, name, frame, key in (
            ("Freshness per source", "Sources", f.sources, "sources"),
            ("Loads behind the month's cost", "Loads", f.loads, "loads"),
            ("Source files", "SourceFiles", f.files, "files"),
            ("Scenario runs cited", "ScenarioRuns", f.runs, "runs"),
            ("Selector conflicts", "Conflicts", f.conflicts, "conflicts"),
            ("Rejected rows", "Rejects", f.rejects, "rejects"),
        ):
            sheet.text(line, 0, title, "bold")
            sheet.table(line + 1, 0, name, columns[key], frame.to_dicts())
            line += max(frame.height, 1) + 3
