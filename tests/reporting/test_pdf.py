"""The report's PDF, read back with pypdf: nothing printed past a page's edge, every column
header and every model's ROI of the Portfolio table on a page, and page one holding every
summary tile.

pypdf extracts text drawn outside the page too (a table cut at the right edge still has its
text in the content stream), so the text counted here is the text whose position lies on the
page: its start inside the page and its end (estimated from the font size) before the edge.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html import unescape
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

from roi import warehouse
from roi.config import ProjectConfig
from roi.reporting.numbers import ratio
from roi.reporting.sections.portfolio import _columns
from roi.value.portfolio import TOTAL, portfolio

# A generous average glyph width (DejaVu Sans averages about 0.55 em; digits 0.64 em):
# a fragment is only called cut when even this narrow estimate runs past the edge.
GLYPH_EM = 0.45


@dataclass(frozen=True)
class Fragment:
    """A piece of text on a page: where it starts, its size and its text."""

    x: float
    y: float
    size: float
    text: str

    def end(self) -> float:
        """Where its longest line ends, at least."""
        longest = max((len(line) for line in self.text.splitlines()), default=0)
        return self.x + GLYPH_EM * self.size * longest


def _fragments(page: Any) -> list[Fragment]:
    found: list[Fragment] = []

    def visit(text: str, cm: list[float], tm: list[float], font: Any, size: float) -> None:
        if not text.strip():
            return
        a, b, _, _, e, f = tm
        ca, cb, cc, cd, ce, cf = cm
        x, y = e * ca + f * cc + ce, e * cb + f * cd + cf
        found.append(Fragment(x, y, size * abs(a * ca + b * cc), text))

    page.extract_text(visitor_text=visit)
    return found


def _visible(page: Any) -> str:
    """The page's text that lies on the page, whitespace collapsed."""
    width, height = float(page.mediabox.width), float(page.mediabox.height)
    shown = [
        f.text for f in _fragments(page) if f.x >= 0 and f.end() <= width and 0 <= f.y <= height
    ]
    return " ".join(" ".join(shown).split())


@pytest.fixture(scope="module")
def pdf(loaded_reports: dict[str, Path]) -> Path:
    """The PDF `roi run` wrote for the sample's latest month."""
    return loaded_reports[".pdf"]


def test_no_text_runs_past_the_edge_of_any_page(pdf: Path) -> None:
    for number, page in enumerate(PdfReader(pdf).pages, 1):
        width = float(page.mediabox.width)
        cut = [f for f in _fragments(page) if f.x < 0 or f.end() > width]
        assert not cut, f"page {number} ({width:.0f} pt wide) cuts {cut[:3]}"


def test_every_portfolio_header_and_model_roi_is_on_a_page(
    loaded_project: ProjectConfig, pdf: Path
) -> None:
    pages = [_visible(p) for p in PdfReader(pdf).pages]
    start = next(i for i, text in enumerate(pages) if "Portfolio Value by each model" in text)
    # The Portfolio table runs from its heading to the page of the next section's (Costs).
    end = next(i for i, text in enumerate(pages) if i > start and "Costs" in text)
    text = " ".join(pages[start : end + 1])
    headers = [c.header for c in _columns(loaded_project.project.currency, 12) if c.in_html]
    assert len(headers) == 12
    missing = [h for h in headers if h not in text]
    assert not missing, f"Portfolio headers not on the page: {missing}"
    with warehouse.open_warehouse(loaded_project.warehouse_path, read_only=True) as con:
        month = warehouse.fetch_one(con, "SELECT max(month) FROM allocated_costs")[0]
        frame = portfolio(con, month)
    rois = {r["model_id"]: ratio(r["roi"]) for r in frame.iter_rows(named=True) if r["roi"]}
    assert len(rois) == frame.height  # every model and the total have an ROI in the sample
    assert "1590%" in rois.values()
    for model, shown in rois.items():
        assert re.search(rf"(?<![\d−]){re.escape(shown)}", text), (model, shown)
    assert rois[TOTAL] in text


def test_page_one_holds_every_summary_tile(pdf: Path) -> None:
    html = pdf.with_suffix(".html").read_text(encoding="utf-8")
    tiles = re.findall(
        r'<div class="label">(.*?)</div><div class="value">(.*?)</div>'
        r'<div class="sub">(.*?)</div>',
        html,
    )
    assert len(tiles) >= 6
    first = _visible(PdfReader(pdf).pages[0])
    assert "Summary" in first and "What to do" in first  # page one: the summary and actions
    assert "roi scenario whatif --set use_api=support-assistant" in first
    for label, value, sub in tiles:
        assert unescape(label).upper() in first, label
        assert unescape(value) in first, (label, value)
        assert " ".join(unescape(sub).split()) in first, (label, sub)


def test_every_chart_is_drawn_in_the_pdf_as_its_png(pdf: Path) -> None:
    """The PDF's pictures are the chart PNGs written beside the report, each once."""
    from PIL import Image

    folder = pdf.with_name(pdf.stem + "_charts")
    written = sorted(folder.glob("*.png"))
    assert len(written) >= 5
    sizes = sorted(Image.open(p).size for p in written)
    # Pages share one resource dictionary: the same picture is listed on every page (each is
    # read from its dictionary, by object number, without decoding it).
    pictures: dict[int, tuple[int, int]] = {}
    for page in PdfReader(pdf).pages:
        resources: Any = page["/Resources"].get_object()
        for ref in resources.get("/XObject", {}).values():
            found = ref.get_object()
            if found.get("/Subtype") == "/Image":
                pictures[ref.idnum] = (int(found["/Width"]), int(found["/Height"]))
    assert sorted(pictures.values()) == sizes
