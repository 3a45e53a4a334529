"""The report's renderer process: the charts it draws are the bytes drawing here gives, the PDF
it writes holds the page's text, and a renderer that fails is one error that leaves the files
there were."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from pypdf import PdfReader

from roi.charting import svg_to_png, to_svg
from roi.errors import RoiError
from roi.reporting import renderer as renderer_module
from roi.reporting.renderer import Renderer


@pytest.fixture(scope="module")
def renderer() -> Iterator[Renderer]:
    """One renderer for the tests that leave it working (starting one takes a second)."""
    with Renderer() as shared:
        yield shared


SPECS = [
    {
        "data": {"values": [{"month": f"2026-{m:02d}", "cost": 1000.0 * m} for m in range(1, 7)]},
        "mark": "line",
        "encoding": {
            "x": {"field": "month", "type": "ordinal"},
            "y": {"field": "cost", "type": "quantitative", "axis": {"format": ",.0f"}},
        },
        "config": {"font": "DejaVu Sans"},
    },
    {
        "data": {"values": [{"model": "Fraud", "cost": 2.5}, {"model": "Churn", "cost": 1.25}]},
        "mark": "bar",
        "encoding": {"y": {"field": "model", "type": "nominal"}, "x": {"field": "cost"}},
    },
]


def test_charts_drawn_by_the_renderer_are_those_drawn_here(renderer: Renderer) -> None:
    svgs, pngs = renderer.charts(SPECS)
    here = [to_svg(spec) for spec in SPECS]
    assert svgs == here
    assert pngs == [svg_to_png(svg) for svg in here]
    assert all(png.startswith(b"\x89PNG") for png in pngs)


def test_the_renderer_writes_the_pdf_and_leaves_no_scratch_files(tmp_path: Path) -> None:
    target = tmp_path / "report.pdf"
    with Renderer() as renderer:
        scratch = renderer.scratch
        renderer.pdf(
            "<html><body><h1>Monthly report</h1><p>Café 1,234.50</p></body></html>", target
        )
    text = " ".join(page.extract_text() for page in PdfReader(target).pages)
    assert "Monthly report" in text and "Café 1,234.50" in text
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.pdf"]
    assert not scratch.exists()


def test_a_failing_renderer_is_one_error_and_keeps_the_pdf_there_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "report.pdf"
    target.write_bytes(b"%PDF- the one before")
    monkeypatch.setattr(renderer_module, "WORKER", "raise SystemExit('no usable font found')")
    with Renderer() as renderer:
        for worker in renderer.workers:  # dead before a job is sent: it cannot be written
            assert worker.process is not None
            worker.process.wait()
        with pytest.raises(RoiError) as raised:
            renderer.pdf("<p>x</p>", target)
    assert str(raised.value) == (
        f"could not write the PDF {target} (WeasyPrint): the renderer ended: no usable font found"
    )
    assert target.read_bytes() == b"%PDF- the one before"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.pdf"]
    with pytest.raises(RoiError, match="the renderer has ended"):
        renderer.charts(SPECS)


def test_a_chart_it_cannot_draw_is_one_error_and_the_renderer_goes_on(renderer: Renderer) -> None:
    with pytest.raises(RoiError) as raised:
        renderer.charts([{"mark": "no-such-mark", "data": {"values": []}}])
    assert str(raised.value).startswith("could not draw the report's charts: ")
    assert "\n" not in str(raised.value)
    svgs, _ = renderer.charts(SPECS)  # the next job is drawn
    assert svgs == [to_svg(spec) for spec in SPECS]


def test_the_pdf_reads_local_files_only_and_fails_on_a_missing_picture(
    renderer: Renderer, tmp_path: Path
) -> None:
    target = tmp_path / "report.pdf"
    for source in ((tmp_path / "gone.png").as_uri(), "http://127.0.0.1:9/chart.png"):
        with pytest.raises(RoiError, match="could not write the PDF"):
            renderer.pdf(f'<p>chart</p><img src="{source}">', target)
    assert not target.exists()
    renderer.pdf("<p>no pictures</p>", target)  # the renderer goes on
    assert target.exists()


def test_modules_in_the_current_folder_are_not_imported_by_the_renderer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "vl_convert.py").write_text("raise SystemExit('a stranger module')\n")
    monkeypatch.chdir(tmp_path)
    with Renderer() as renderer:
        svgs, _ = renderer.charts(SPECS[:1])
    assert svgs == [to_svg(SPECS[0])]


def test_charts_drawn_by_both_workers_come_back_in_order(renderer: Renderer) -> None:
    started = [renderer.start_charts([spec]) for spec in [*SPECS, *SPECS]]
    drawn = [waiting() for waiting in started]
    assert [svgs for svgs, _ in drawn] == [[to_svg(spec)] for spec in [*SPECS, *SPECS]]


def test_a_pdf_is_laid_out_while_the_report_goes_on(renderer: Renderer, tmp_path: Path) -> None:
    first, second = tmp_path / "first.pdf", tmp_path / "second.pdf"
    writing = [
        renderer.start_pdf([f"<h1>{path.stem} report</h1>"], path) for path in (first, second)
    ]
    # Written whole when waited for: the finished file takes its name then, not before.
    assert not first.exists() and not second.exists()
    svgs, _ = renderer.charts(SPECS[:1])  # a drawing meanwhile
    for written in writing:
        written()
    assert svgs == [to_svg(SPECS[0])]
    for path in (first, second):
        assert f"{path.stem} report" in PdfReader(path).pages[0].extract_text()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["first.pdf", "second.pdf"]


def test_a_pdf_no_one_waited_for_leaves_no_file(tmp_path: Path) -> None:
    target = tmp_path / "report.pdf"
    tmp = target.with_name(target.name + ".tmp")
    with pytest.raises(KeyboardInterrupt), Renderer() as renderer:
        renderer.start_pdf(["<h1>Monthly report</h1>"], target)
        deadline = time.monotonic() + 30
        while not tmp.exists() and time.monotonic() < deadline:
            time.sleep(0.01)
        assert tmp.exists()  # written by the worker, not yet named
        raise KeyboardInterrupt  # the report stops before it waits for its PDF
    assert list(tmp_path.iterdir()) == []
    assert not renderer.scratch.exists()


HEAD = """<html><head><title>Two parts</title><style>
@page { size: A4; margin: 12mm; @bottom-right { content: counter(page) " / " counter(pages) } }
@page wide { size: A4 landscape; } section.wide { page: wide; }
</style></head>"""


def test_a_page_in_two_parts_is_one_pdf_numbered_across(renderer: Renderer, tmp_path: Path) -> None:
    target = tmp_path / "report.pdf"
    parts = [
        HEAD + '<body><h1>Summary</h1><p style="break-after: page">first</p><p>second</p>'
        "</body></html>",
        HEAD + '<body><section class="wide"><h1>Costs</h1><p>third</p></section></body></html>',
    ]
    renderer.start_pdf(parts, target)()
    pdf = PdfReader(target)
    texts = [page.extract_text() for page in pdf.pages]
    assert [t.split()[0] for t in texts] == ["Summary", "second", "Costs"]
    # Numbered once, across the parts (a part numbers none of its own pages).
    assert [re.findall(r"\d / \d", t) for t in texts] == [["1 / 3"], ["2 / 3"], ["3 / 3"]]
    sizes = [(float(p.mediabox.width), float(p.mediabox.height)) for p in pdf.pages]
    assert sizes[0] == sizes[1] and sizes[2] == sizes[0][::-1]  # the last one landscape
    assert pdf.metadata is not None and pdf.metadata.title == "Two parts"
    assert [item.title for item in pdf.outline] == ["Summary", "Costs"]  # type: ignore[union-attr]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.pdf"]


def test_each_wait_gets_its_own_jobs_answer(renderer: Renderer) -> None:
    # The workers take turns: the first and the third drawing go to the same worker.
    bad = [{"mark": "no-such-mark", "data": {"values": []}}]
    started = [renderer.start_charts(specs) for specs in (bad, SPECS[:1], SPECS[:1])]
    assert started[2]()[0] == [to_svg(SPECS[0])]  # not the failure before it
    assert started[1]()[0] == [to_svg(SPECS[0])]
    with pytest.raises(RoiError, match="could not draw the report's charts"):
        started[0]()
