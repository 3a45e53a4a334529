"""The HTML report's tables fit the page: in headless Chromium at 1400 px (and 1280 px) every
table, the wide "By model and cost type" one included, is no wider than its section."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.services import chromium_run

pytestmark = pytest.mark.service

# Writes each table's scroll width against its container's into the page, for --dump-dom.
MEASURE = """<script>
var out = [];
document.querySelectorAll("table").forEach(function (t) {
  var s = t.closest("section"), h = t.querySelector("th");
  out.push([s ? s.id : "", h ? h.textContent : "", t.scrollWidth, t.parentElement.clientWidth]
    .join("\\t"));
});
document.body.setAttribute("data-widths", out.join("\\n"));
</script></body>"""


@pytest.fixture(scope="module")
def measured(loaded_reports: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("layout")
    html = loaded_reports[".html"]
    page = out / "measured.html"
    page.write_text(html.read_text(encoding="utf-8").replace("</body>", MEASURE))
    return page


@pytest.mark.parametrize("width", [1400, 1280])
def test_every_table_fits_the_page(measured: Path, tmp_path: Path, width: int) -> None:
    dom = chromium_run(measured, tmp_path, f"--window-size={width},1000", "--dump-dom").stdout
    found = re.search(r'data-widths="([^"]*)"', dom, flags=re.S)
    assert found is not None
    rows = [line.split("\t") for line in found.group(1).splitlines()]
    assert len(rows) > 10
    headers = {(section, header) for section, header, _, _ in rows}
    assert ("costs", "Model") in headers  # the by-model-and-cost-type table
    wide = [(s, h, int(w), int(c)) for s, h, w, c in rows if int(w) > int(c)]
    assert not wide, f"tables wider than the page at {width} px: {wide}"
