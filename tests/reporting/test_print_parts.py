"""The print page split for two processes: only where the PDF starts a new page anyway, near
the middle, with nothing lost or repeated."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from pypdf import PdfReader

from roi.reporting.html import page, print_parts
from roi.reporting.renderer import Renderer


def _sections(html: str) -> list[str]:
    return re.findall(r'<section id="([a-z_]+)"', html)


def _unlinked(html: str) -> str:
    return re.sub(r'<a href="#[^"]+">(.*?)</a>', r"\1", html).replace("\n", "")


def _page(wide: set[str]) -> str:
    words = {"quality": 1200}  # the last section is the longest
    parts = [
        (
            name,
            name.title(),
            ('<table class="wide"></table>' if name in wide else "")
            + "<p>"
            + "text " * words.get(name, 400)
            + "</p>",
        )
        for name in ("summary", "actions", "portfolio", "costs", "risk", "quality")
    ]
    return page("Report", "meta", parts, "roi", front={"summary", "actions"})


def test_the_page_splits_where_a_new_page_starts_anyway_near_the_middle() -> None:
    whole = _page(wide={"portfolio", "costs"})
    first, second = print_parts(whole)
    # New pages start before portfolio (after the front) and before risk (portrait again);
    # risk is nearer the middle.
    assert _sections(first) == ["summary", "actions", "portfolio", "costs"]
    assert _sections(second) == ["risk", "quality"]
    head = whole[: whole.index("<body>")]
    assert first.startswith(head) and second.startswith(head)
    body = whole[whole.index("<body>") + len("<body>") : whole.rindex("</body>")]
    again = [p[p.index("<body>") + len("<body>") : p.rindex("</body>")] for p in (first, second)]
    # Nothing lost or repeated; links into the other part are their text.
    assert _unlinked("".join(again)) == _unlinked(body)
    assert '<a href="#costs">' in first and '<a href="#risk">' not in first


def test_a_page_with_no_such_place_stays_whole() -> None:
    whole = page("Report", "meta", [("summary", "Summary", "<p>x</p>")], "roi")
    assert print_parts(whole) == [whole]


def _titles(outline: list[Any]) -> list[Any]:
    return [_titles(item) if isinstance(item, list) else item.title for item in outline]


def test_the_two_parts_lay_out_as_the_whole_page(tmp_path: Path) -> None:
    text = "Spend rose on the inference endpoints. " * 60
    wide = '<table class="wide"><tr>' + "<td>1,234.50</td>" * 9 + "</tr></table>"
    sections = [
        ("summary", "Summary", f'<p>{text}</p><p><a href="#quality">Data quality</a></p>'),
        ("actions", "What to do", f"<p>{text}</p>"),
        ("portfolio", "Portfolio", wide + f"<h3>By owner</h3><p>{text * 2}</p>"),
        ("costs", "Costs", wide + f"<p>{text}</p>"),
        ("risk", "Risk", f"<h3>Exposure</h3><p>{text}</p>"),
        ("quality", "Data quality", f"<p>{text * 3}</p>"),
    ]
    whole = page("Report: October 2026", "meta", sections, "roi", front={"summary", "actions"})
    parts = print_parts(whole)
    assert len(parts) == 2
    with Renderer() as renderer:
        renderer.pdf(whole, tmp_path / "whole.pdf")
        renderer.start_pdf(parts, tmp_path / "split.pdf")()
    one, two = PdfReader(tmp_path / "whole.pdf"), PdfReader(tmp_path / "split.pdf")
    assert len(two.pages) == len(one.pages) >= 5
    for a, b in zip(one.pages, two.pages, strict=True):
        assert b.extract_text() == a.extract_text()  # the same text, page numbers included
        assert b.mediabox == a.mediabox  # landscape where the whole is
    assert _titles(two.outline) == _titles(one.outline)
    assert two.metadata is not None and one.metadata is not None
    assert two.metadata.title == one.metadata.title == "Report: October 2026"
    assert str(two.root_object["/Lang"]) == str(one.root_object["/Lang"]) == "en"
