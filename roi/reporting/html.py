"""The HTML page of a report: one self-contained file (no scripts, fonts or images from
elsewhere; charts inline as SVG), and the tables, tiles and badges sections build it from.

Everything shown that comes from data goes through `escape`: cleaned of control and direction
characters (`roi.text`) and HTML-escaped, so billing text such as `<script>` or a U+202E override
is text on the page; long ids are shortened in table cells (the full text in a tooltip), which
also keeps the PDF's line breaking fast.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from decimal import Decimal
from html import escape as html_escape
from itertools import pairwise
from typing import Any

import polars as pl

from roi.reporting.columns import Column
from roi.reporting.numbers import is_over
from roi.text import clean, shorten

# A table of this many columns or more is wide: smaller type, and a landscape page in the PDF.
WIDE_COLUMNS = 9
# Longest text a table cell shows (longer ids are cut in the middle; WeasyPrint takes minutes
# to break a single 40,000-character word across lines).
CELL_CHARACTERS = 96
TEXT_CHARACTERS = 600


def escape(value: object, limit: int = TEXT_CHARACTERS) -> str:
    """Data as HTML text: control and direction characters made visible, `<>&"'` escaped, and
    shortened past `limit` characters."""
    return html_escape(shorten(clean("" if value is None else str(value)), limit))


def _text_cell(css: str, text: str, negative: bool) -> str:
    """A table cell of data text; a long one shows its ends and carries the rest as a tooltip."""
    full = clean(text)
    title = (
        f' title="{html_escape(shorten(full, 4 * TEXT_CHARACTERS))}"'
        if len(full) > CELL_CHARACTERS
        else ""
    )
    return (
        f'<td class="{css}{" neg" if negative else ""}"{title}>'
        f"{html_escape(shorten(full, CELL_CHARACTERS))}</td>"
    )


CSS = """
:root { --ink: #1f2933; --muted: #5b6475; --line: #d9dee7; --accent: #3056d3;
        --warn: #b42318; --warn-fill: #fde8e6; }
* { box-sizing: border-box; }
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif;
       color: var(--ink); margin: 2rem auto; max-width: 1240px; padding: 0 1.2rem;
       line-height: 1.45; }
h1 { font-size: 1.55rem; margin: 0 0 .2rem; }
h2 { font-size: 1.2rem; margin: 2.2rem 0 .6rem; border-bottom: 2px solid var(--line);
     padding-bottom: .2rem; }
h3 { font-size: 1rem; margin: 1.2rem 0 .4rem; }
h1, h2, h3 { break-after: avoid; }
.meta, .note { color: var(--muted); font-size: .85rem; }
.story { font-size: 1.05rem; max-width: 60rem; }
.tiles { display: grid; grid-template-columns: repeat(3, minmax(0, 1fr)); gap: .8rem;
         margin: 1rem 0; }
@media screen and (max-width: 700px) { .tiles { grid-template-columns: 1fr; } }
.tile { border: 1px solid var(--line); border-radius: 8px; padding: .7rem .9rem;
        break-inside: avoid; }
.tile .label { color: var(--muted); font-size: .8rem; text-transform: uppercase;
               letter-spacing: .04em; }
.tile .value { font-size: 1.35rem; font-weight: 650; margin: .15rem 0; white-space: nowrap; }
.tile .sub { color: var(--muted); font-size: .82rem; }
table { border-collapse: collapse; width: 100%; font-size: .84rem; margin: .4rem 0 1rem; }
table.wide { font-size: .76rem; }
thead { display: table-header-group; }
tr { break-inside: avoid; }
th, td { padding: .32rem .5rem; border-bottom: 1px solid var(--line); text-align: left;
         vertical-align: top; overflow-wrap: break-word; }
table.wide th, table.wide td { padding: .28rem .35rem; }
th { background: #f3f5f9; font-weight: 600; overflow-wrap: normal; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td.num { white-space: nowrap; overflow-wrap: normal; }
td.id { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: .78rem;
        word-break: break-all; }
td .note { font-size: .92em; overflow-wrap: anywhere; }
tr.total td { font-weight: 650; border-top: 2px solid var(--ink); }
.neg { color: var(--warn); } .ok { color: #1a7f37; font-weight: 600; }
.over-budget { color: var(--warn); background: var(--warn-fill); font-weight: 650; }
.bad { color: var(--warn); font-weight: 600; }
.flag { display: inline-block; background: #fff1f0; color: var(--warn); border-radius: 4px;
        padding: 0 .3rem; margin: 0 .2rem .2rem 0; font-size: .72rem; }
.warn { border: 1px solid #f0b4ae; background: #fff6f5; border-radius: 8px; padding: .2rem 1rem; }
figure.chart { margin: .8rem 0 1.2rem; overflow-x: auto; }
nav.toc { font-size: .85rem; margin: .6rem 0 1rem; }
nav.toc a { color: var(--accent); margin-right: .9rem; text-decoration: none; }
details summary { cursor: pointer; color: var(--accent); }
footer { margin-top: 3rem; color: var(--muted); font-size: .8rem; }
@page { size: A4; margin: 12mm 11mm 14mm;
        @bottom-right { content: counter(page) " / " counter(pages); font-size: 8pt;
                        color: #5b6475; } }
@page wide { size: A4 landscape; }
@page tall { size: A4; }
@media print {
  html { font-size: 9pt; }
  body { margin: 0; max-width: none; padding: 0; line-height: 1.35; }
  h2 { margin-top: 1.2rem; }
  body > * { page: tall; }  /* named, so that portrait after landscape starts a new page */
  body > section.wide { page: wide; }
  section.after-front { break-before: page; }
  .tiles { gap: .5rem; margin: .6rem 0; }
  .tile { padding: .4rem .6rem; }
  th, td { padding: .22rem .3rem; }
  figure.chart { break-inside: avoid; overflow: visible; }
  figure.chart img { max-height: 88mm; width: auto; }
  h2 + p.note, h3 + p.note { break-after: avoid; }
  nav.toc { display: none; }
}
"""


def _cell(column: Column, value: Any) -> str:
    """One data cell: the value as the column's kind reads; HTML columns as built.

    A negative number is red (its shown text: a rounded zero is not); against a budget, an
    amount over it carries the warning class `over-budget` and one under it no colour.
    """
    if column.kind == "html":
        return f"<td>{value or ''}</td>"
    fmt = column.format
    shown = fmt.text(value) if fmt.text else ("" if value is None else str(value))
    number = isinstance(value, int | float | Decimal)
    if fmt.over is not None:
        over = number and is_over(value, fmt.over)
        return _text_cell(fmt.css + (" over-budget" if over else ""), shown, False)
    negative = fmt.css == "num" and number and shown.startswith("−")
    return _text_cell(fmt.css, shown, negative)


def table(
    frame: pl.DataFrame | list[dict[str, Any]],
    columns: Sequence[Column],
    total: Mapping[str, str] | None = None,
    empty: str = "None.",
) -> str:
    """An HTML table of the columns the page shows; numbers right-aligned. `total` is the text
    of a total row under it, by column key; `empty` the one line shown instead of a table with
    no rows (what is missing and how to add it)."""
    rows = frame.to_dicts() if isinstance(frame, pl.DataFrame) else frame
    if not rows:
        return f'<p class="note">{escape(empty)}</p>'
    shown = [c for c in columns if c.in_html]
    aligned = ["num" if c.format.css == "num" else "" for c in shown]
    head = "".join(
        f'<th class="{css}">{escape(c.header)}</th>' for c, css in zip(shown, aligned, strict=True)
    )
    body = ["<tr>" + "".join(_cell(c, row.get(c.key)) for c in shown) + "</tr>" for row in rows]
    if total:
        body.append(
            '<tr class="total">'
            + "".join(
                f'<td class="{css}">{escape(total.get(c.key, ""))}</td>'
                for c, css in zip(shown, aligned, strict=True)
            )
            + "</tr>"
        )
    wide = ' class="wide"' if len(shown) >= WIDE_COLUMNS else ""
    return f"<table{wide}><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def tiles(items: Sequence[tuple[str, str, str]]) -> str:
    """Summary tiles: (label, value, line under it), all escaped."""
    return (
        '<div class="tiles">'
        + "".join(
            f'<div class="tile"><div class="label">{escape(label)}</div>'
            f'<div class="value">{escape(value)}</div><div class="sub">{escape(sub)}</div></div>'
            for label, value, sub in items
        )
        + "</div>"
    )


def flags(text: str | None) -> str:
    """A model's flags as small badges (escaped)."""
    return "".join(f'<span class="flag">{escape(f)}</span>' for f in (text or "").split(", ") if f)


def _section_class(html: str, first_after: bool) -> str:
    """A section's classes for print: `wide` (a landscape page) where it holds a wide table,
    `after-front` on the first section after page one's."""
    classes = ["wide"] if '<table class="wide"' in html else []
    if first_after:
        classes.append("after-front")
    return f' class="{" ".join(classes)}"' if classes else ""


def page(
    title: str,
    meta: str,
    sections: Sequence[tuple[str, str, str]],
    footer: str,
    front: Collection[str] = (),
) -> str:
    """The whole page: (anchor, heading, body HTML) per section. The `front` sections (the
    summary) fill page one of the PDF; the next section starts page two."""
    toc = "".join(f'<a href="#{escape(a)}">{escape(h)}</a>' for a, h, _ in sections)
    after = next((a for a, _, _ in sections if a not in front), None) if front else None
    body = "\n".join(
        f'<section id="{escape(a)}"{_section_class(html, a == after)}>'
        f"<h2>{escape(h)}</h2>\n{html}\n</section>"
        for a, h, html in sections
    )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)}</title>
<style>{CSS}</style></head>
<body>
<h1>{escape(title)}</h1>
<p class="meta">{escape(meta)}</p>
<nav class="toc">{toc}</nav>
{body}
<footer>{escape(footer)}</footer>
</body></html>
"""


def _starts_a_page(previous: str, section: str) -> bool:
    """Whether the PDF starts a new page before `section` (its opening tag) whatever the
    content: it says so (`after-front`), or its page orientation differs from the section
    before's."""
    return "after-front" in section or ("wide" in section) != ("wide" in previous)


def print_parts(page: str) -> list[str]:
    """The print page as two documents, split where the PDF starts a new page anyway (see
    `_starts_a_page`) as near the middle of its text as there is such a place, so that two
    processes can lay them out side by side and their pages follow each other as one
    document's would; the whole page when there is no such place."""
    opened = list(re.finditer(r'\n<section id="[^"]*"[^>]*>', page))
    breaks = [
        later.start()
        for earlier, later in pairwise(opened)
        if _starts_a_page(earlier.group(0), later.group(0))
    ]
    body, end = page.find("<body>"), page.rfind("</body>")
    if not breaks or body < 0 or end < 0:
        return [page]
    start = body + len("<body>")
    cut = min(breaks, key=lambda at: abs(at - (start + end) / 2))
    parts = [page[:cut] + "\n</body></html>\n", page[:start] + page[cut:]]
    return [_local_links(part) for part in parts]


def _local_links(part: str) -> str:
    """Links to a place in the other part as their text (a PDF part cannot point into
    another)."""

    def unlinked(link: re.Match[str]) -> str:
        return link.group(0) if f'id="{link.group(1)}"' in part else link.group(2)

    return re.sub(r'<a href="#([^"]+)">(.*?)</a>', unlinked, part, flags=re.S)
