"""What to do: the month's top actions by money, from the scenario engine, on page one.

Each action says what to do, the money it saves a month (or, for tagging, the unallocated cost
it places) and the exact `roi` command that reproduces the figure (`_actions_figures`). On
data that cannot show an action of a kind (no LLM usage, no GPU data, no value, no metrics)
the section says in one line what is missing and how to add it.
"""

from __future__ import annotations

from dataclasses import dataclass

from roi.reporting.book import Book
from roi.reporting.charts import Charts
from roi.reporting.columns import Column
from roi.reporting.data import ReportData
from roi.reporting.html import escape, table
from roi.reporting.sections import Section, register
from roi.reporting.sections._actions_figures import Action, actions


@dataclass(frozen=True)
class Figures:
    """The actions, largest first, and what the data lacks to look for more."""

    actions: list[Action]
    missing: list[str]


def _columns(cur: str) -> list[Column]:
    return [
        Column("what", "What to do", "html"),
        Column("amount", f"A month ({cur})", "money"),
        Column("effect", "Effect"),
        Column("command", "Reproduce with", "html"),
    ]


@register
class Actions(Section[Figures]):
    """The top actions by money, each with the command that reproduces it."""

    name = "actions"
    title = "What to do"
    sheet = "Actions"
    order = 15
    front = True

    def read(self, data: ReportData) -> Figures:
        """Every action the scenario engine finds this month, and what is missing."""
        found, missing = actions(data)
        return Figures(found, missing)

    def html(self, figures: Figures, data: ReportData, charts: Charts) -> str:
        """The actions as a table, or one line saying there is nothing to do and why."""
        f, cur = figures, data.currency
        missing = (
            '<p class="note">Not looked for: ' + escape("; ".join(f.missing)) + ".</p>"
            if f.missing
            else ""
        )
        if not f.actions:
            return (
                '<p class="note">Nothing to do found this month: no scenario saves money on '
                "this data.</p>" + missing
            )
        rows = [
            {
                "what": escape(a.what),
                "amount": a.amount,
                "effect": "saves" if a.effect == "saves" else "places (unallocated)",
                "command": f"<code>{escape(a.command)}</code>",
            }
            for a in f.actions
        ]
        return (
            "<p>The largest savings the scenario engine finds this month, each on its own (some "
            "exclude each other), and the unallocated cost tagging would place; each figure is "
            "reproduced by its command.</p>" + table(rows, _columns(cur)) + missing
        )

    def excel(self, figures: Figures, data: ReportData, book: Book) -> None:
        """The Actions sheet: the same actions, their money a month and their commands."""
        f, sheet, cur = figures, self.sheet_in(book), data.currency
        sheet.title(
            0,
            f"What to do, {data.month:%B %Y}",
            f"The largest savings the scenario engine finds, a month in {cur}, each on its own; "
            "each command reproduces its figure.",
        )
        rows = [
            {
                "what": a.what,
                "amount": a.amount,
                "effect": "saves" if a.effect == "saves" else "places (unallocated)",
                "command": a.command,
            }
            for a in f.actions
        ]
        columns = [
            Column("what", "What to do", "wrap", width=70),
            Column("amount", f"A month ({cur})", "money"),
            Column("effect", "Effect"),
            Column("command", "Reproduce with", "wrap", width=70),
        ]
        sheet.table(3, 0, "Actions", columns, rows)
        line = 5 + max(len(rows), 1)
        if not rows:
            sheet.text(4, 0, "Nothing to do found this month.")
        for i, missing in enumerate(f.missing):
            sheet.text(line + i, 0, f"Not looked for: {missing}", "note")
