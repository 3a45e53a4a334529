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
from roi.reporting.book import MONEY, MONEY0, TIMESTAMP, Book, Column
from roi.reporting.charts import Charts
from roi.reporting.data import ReportData, month_bounds, month_range
from roi.reporting.html import count, escape, money, table

NAME = "quality"
TITLE = "Data quality and lineage"
SHEET = "Lineage"


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


def read(data: ReportData) -> Figures:
    """Everything a reader needs to trust (or distrust) the month's figures."""
    from roi.attribution.ledger import month_column

    totals = data.totals
    sources = warehouse.fetch_frame(
        data.con,
        """SELECT s.connector, l.connector_type AS type, l.target_table AS "table",
                  l.finished_at AS last_load_at, s.load_id AS last_load_id,
                  (SELECT sum(rows_loaded) FROM _loads a WHERE a.connector = s.connector) AS rows,
                  (SELECT sum(rows_rejected) FROM _loads a WHERE a.connector = s.connector)
                      AS rejected
           FROM _state s JOIN _loads l ON l.load_id = s.load_id ORDER BY s.connector""",
    ).join(source_coverage(data.con), on="connector", how="left")
    rejects = warehouse.fetch_frame(
        data.con,
        """SELECT connector, source_file, count(*) AS rows,
                  string_agg(DISTINCT "column", ', ' ORDER BY "column") AS fields,
                  any_value(reason) AS example
           FROM _rejects GROUP BY ALL ORDER BY connector, source_file""",
    )
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
    cited = [
        r
        for r in (data.scenario(c) for c in ("failure --all", "forecast --all", "decay --all"))
        if r
    ]
    runs = pl.DataFrame(
        [{"run_id": r["run_id"], "created_at": r["created_at"]} for r in cited],
        schema={"run_id": pl.String, "created_at": pl.Datetime("us", "UTC")},
    )
    gateway = gateway_vs_bill(data.con, data.project.pools, data.month)
    conflicts = warehouse.fetch_frame(
        data.con,
        """SELECT provider, resource_id, array_to_string(matched_models, ', ') AS matched_models,
                  chosen_model, amount::DOUBLE AS amount, line_count AS lines
           FROM attribution_conflicts WHERE month = ? ORDER BY amount DESC""",
        [data.month],
    )
    warnings = [
        (c.kind, c.message, float(c.amount) if c.amount is not None else None)
        for c in totals.checks
    ]
    return Figures(warnings, sources, rejects, conflicts, gateway, loads, files, runs)


def html(f: Figures, data: ReportData, charts: Charts) -> str:
    """Checks, freshness, reconciliation and the lineage appendix."""
    cur = data.currency
    t = data.totals
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
    sources = f.sources.with_columns(pl.col("last_load_at").dt.strftime("%Y-%m-%d %H:%M"))
    return (
        "<h3>Checks</h3>"
        + checks
        + "<h3>Reconciliation</h3>"
        + recon
        + table(
            f.gateway,
            [
                ("pool", "LLM pool", None),
                ("billed", f"Billed ({cur})", money),
                ("gateway", f"Gateway ({cur})", money),
                ("difference", "Difference", money),
            ],
        )
        + '<h3>Selector conflicts</h3><p class="note">Lines two models\' selectors matched; each '
        "is counted once, for the model shown (fix the selectors or set priorities).</p>"
        + table(
            f.conflicts,
            [
                ("provider", "Provider", None),
                ("resource_id", "Resource", None),
                ("matched_models", "Matched by", None),
                ("chosen_model", "Counted for", None),
                ("amount", f"Cost ({cur})", money),
            ],
        )
        + "<h3>Freshness per source</h3>"
        + table(
            sources,
            [
                ("connector", "Source", None),
                ("type", "Type", None),
                ("table", "Table", None),
                ("data_through", "Data through", None),
                ("last_load_at", "Last load (UTC)", None),
                ("rows", "Rows", count),
                ("rejected", "Rejected", count),
            ],
        )
        + "<h3>Rejected rows</h3>"
        + table(
            f.rejects,
            [
                ("connector", "Source", None),
                ("source_file", "File", None),
                ("rows", "Rows", count),
                ("fields", "Fields", None),
                ("example", "Reason", None),
            ],
        )
        + "<h3>Lineage</h3><p>Every cost figure comes from these loads (table "
        "<code>_loads</code>) and "
        "source files (<code>cost_lines.source_file</code>, <code>source_row</code>); risk and "
        "forecast from the scenario runs listed (<code>scenario_runs</code>).</p>"
        + table(
            f.loads,
            [
                ("load_id", "Load id", None),
                ("connector", "Connector", None),
                ("files", "Files", count),
                ("lines", "Lines", count),
                ("effective_cost", f"Effective ({cur})", money),
            ],
        )
        + table(f.runs, [("run_id", "Scenario run", None)])
        + f"<details><summary>{f.files.height} source files</summary>"
        + table(
            f.files,
            [
                ("source_file", "Source file", None),
                ("load_id", "Load id", None),
                ("lines", "Lines", count),
                ("effective_cost", f"Effective ({cur})", money),
            ],
        )
        + "</details>"
    )


def excel(f: Figures, data: ReportData, book: Book) -> None:
    """The Lineage sheet: checks, sources, loads, files and scenario runs."""
    sheet = book.sheets[SHEET]
    cur = data.currency
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
    for title, name, frame, columns in (
        (
            "Freshness per source",
            "Sources",
            f.sources,
            [
                Column("Source", "connector"),
                Column("Type", "type"),
                Column("Table", "table"),
                Column("Data through", "data_through"),
                Column("Last load (UTC)", "last_load_at", TIMESTAMP),
                Column("Last load id", "last_load_id"),
                Column("Rows", "rows", MONEY0),
                Column("Rejected", "rejected", MONEY0),
            ],
        ),
        (
            "Loads behind the month's cost",
            "Loads",
            f.loads,
            [
                Column("Load id", "load_id"),
                Column("Connector", "connector"),
                Column("Finished (UTC)", "finished_at", TIMESTAMP),
                Column("Files", "files", MONEY0),
                Column("Lines", "lines", MONEY0),
                Column(f"Effective ({cur})", "effective_cost", MONEY),
            ],
        ),
        (
            "Source files",
            "SourceFiles",
            f.files,
            [
                Column("Source file", "source_file"),
                Column("Load id", "load_id"),
                Column("Lines", "lines", MONEY0),
                Column(f"Effective ({cur})", "effective_cost", MONEY),
            ],
        ),
        (
            "Scenario runs cited",
            "ScenarioRuns",
            f.runs,
            [Column("Run id", "run_id"), Column("Computed (UTC)", "created_at", TIMESTAMP)],
        ),
        (
            "Selector conflicts",
            "Conflicts",
            f.conflicts,
            [
                Column("Provider", "provider"),
                Column("Resource", "resource_id"),
                Column("Matched by", "matched_models"),
                Column("Counted for", "chosen_model"),
                Column(f"Cost ({cur})", "amount", MONEY),
                Column("Lines", "lines", MONEY0),
            ],
        ),
        (
            "Rejected rows",
            "Rejects",
            f.rejects,
            [
                Column("Source", "connector"),
                Column("File", "source_file"),
                Column("Rows", "rows", MONEY0),
                Column("Fields", "fields"),
                Column("Reason", "example"),
            ],
        ),
    ):
        sheet.text(line, 0, title, "bold")
        sheet.table(line + 1, 0, name, columns, frame.to_dicts())
        line += max(frame.height, 1) + 3
