"""The print page split for two processes: only where the PDF starts a new page anyway, near
the middle, with nothing lost or repeated."""

from __future__ import annotations

import re

from roi.reporting.html import page, print_parts


def _sections(html: str) -> list[str]:
    return re.findall(r'<section id="([a-z_]+)"', html)


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
    assert "".join(again).replace("\n", "") == body.replace("\n", "")


def test_a_page_with_no_such_place_stays_whole() -> None:
    whole = page("Report", "meta", [("summary", "Summary", "<p>x</p>")], "roi")
    assert print_parts(whole) == [whole]
