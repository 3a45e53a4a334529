"""The report's renderer: two worker processes that draw the charts (vl-convert) and lay out
the PDF (WeasyPrint) while the report's own process reads the figures and builds the pages.

Both renderers hold the interpreter lock of the process they run in for long stretches:
vl-convert while it starts its JavaScript engine (half a second, on the first chart of a
process) and draws, WeasyPrint (pure Python) while it is imported (half a second) and while it
lays out the pages (more than a second for the sample's eleven). The workers start when a
report begins, below the report's process in priority, and each starts the engine and imports
WeasyPrint while roi reads; they take turns drawing the charts as their sections build them;
a page given in two parts (`roi.reporting.html.print_parts`: split where a new page starts
anyway) is laid out one part in each, then the first worker puts the pages together (pypdf)
and numbers them across with the page's own @page rules. A worker imports `roi.charting`,
WeasyPrint and pypdf only (not the rest of roi); it draws each chart with `roi.charting` (the
bytes drawing in-process gives) and reads nothing but the chart PNG files a page names
(`file:` URLs only; one that cannot be read fails the PDF). The workers start without the
current folder on their module path. Jobs and their files pass through a scratch folder; a
failed job is one `Error:` with the renderer's first line of error, and the worker goes on with
the next job; a worker that ends ends the renderer. One renderer serves every report of a
command.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any, NoReturn

from roi.errors import RoiError

WORKER = """
import io, json, os, sys, threading
from pathlib import Path
# Below the report's own process: until it waits for the workers, its work is what they wait
# for (the first chart comes after roi's imports and the figures).
os.nice(10)
from roi.charting import svg_to_png, to_svg
to_svg({"data": {"values": [{"x": 1}]}, "mark": "point", "encoding": {"x": {"field": "x"}}})
loaded = {}
def load():
    try:
        from weasyprint import HTML
        from weasyprint.urls import URLFetcher
        import pypdf
        loaded["HTML"] = HTML
        # The charts' PNG files only; a picture that cannot be read fails the PDF.
        loaded["fetcher"] = URLFetcher(allowed_protocols={"file"}, fail_on_errors=True)
    except BaseException as exc:  # a WeasyPrint that cannot load fails each PDF, said once each
        loaded["error"] = exc
loading = threading.Thread(target=load)
loading.start()
def html(**where):
    loading.join()
    if "error" in loaded:
        raise loaded["error"]
    return loaded["HTML"](encoding="utf-8", url_fetcher=loaded["fetcher"], **where)
def charts(job):
    folder = Path(job["folder"])
    specs = json.loads((folder / "specs.json").read_text(encoding="utf-8"))
    svgs = [to_svg(spec) for spec in specs]
    pngs = [svg_to_png(svg) for svg in svgs]
    for i, (svg, png) in enumerate(zip(svgs, pngs)):
        (folder / f"{i}.svg").write_text(svg, encoding="utf-8")
        (folder / f"{i}.png").write_bytes(png)
def pdf(job):
    document = html(filename=job["source"]).render()
    document.write_pdf(job["target"])
    if "bookmarks" in job:  # a part: its headings, for the outline of the whole
        marks = [(page.height, page.bookmarks) for page in document.pages]
        Path(job["bookmarks"]).write_text(json.dumps(marks), encoding="utf-8")
def outline(out, marked):
    # The outline WeasyPrint gives one document: each heading under the last one above it.
    from pypdf.generic import Fit
    above = []  # (level, item) from the top
    for number, (height, marks) in enumerate(marked):
        for level, label, (x, y), state in marks:
            while above and above[-1][0] >= level:
                above.pop()
            parent = above[-1][1] if above else None
            item = out.add_outline_item(
                title=label, page_number=number, parent=parent, is_open=state != "closed",
                fit=Fit.xyz(left=x * 0.75, top=(height - y) * 0.75),
            )
            above.append((level, item))
def merge(job):
    from pypdf import PdfReader, PdfWriter
    from pypdf.generic import NameObject
    parts = [PdfReader(part) for part in job["parts"]]
    pages = [page for part in parts for page in part.pages]
    # The page numbers, drawn by the page's own @page rules on pages of each page's size.
    sizes = [(float(p.mediabox.width), float(p.mediabox.height)) for p in pages]
    named = {size: f"roi-{n}" for n, size in enumerate(dict.fromkeys(sizes))}
    rules = "".join(f"@page {name} {{ size: {w}pt {h}pt }}" for (w, h), name in named.items())
    blank = "".join(
        f'<div style="page: {named[size]}; height: 1px; break-after: page"></div>'
        for size in sizes
    )
    head = Path(job["head"]).read_text(encoding="utf-8")
    page = f"{head}<style>{rules}</style></head><body>{blank}</body></html>"
    numbers = PdfReader(io.BytesIO(html(string=page).write_pdf()))
    if len(numbers.pages) != len(pages):
        raise RuntimeError(f"{len(numbers.pages)} page numbers for {len(pages)} pages")
    out = PdfWriter()
    for part in parts:
        out.append(part, import_outline=False)
    for page, number in zip(out.pages, numbers.pages):
        page.merge_page(number)
        page.compress_content_streams()
    out.compress_identical_objects()
    marked = [m for path in job["bookmarks"] for m in json.loads(Path(path).read_text())]
    outline(out, marked)
    if parts[0].metadata:
        out.add_metadata(parts[0].metadata)
    if "/Lang" in parts[0].trailer["/Root"]:
        out.root_object[NameObject("/Lang")] = parts[0].trailer["/Root"]["/Lang"]
    out.write(job["target"])
for line in sys.stdin:
    job = json.loads(line)
    try:
        {"charts": charts, "pdf": pdf, "merge": merge}[job["kind"]](job)
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # WeasyPrint's fatal fetch error is a BaseException
        said = []
        for part in (exc, exc.__cause__):
            if part is not None:
                lines = [l.strip() for l in str(part).splitlines() if l.strip()] or [""]
                said.append(f"{type(part).__name__}: {lines[0]}".rstrip(": "))
        print("error", " (".join(said) + ")" * (len(said) - 1), flush=True)
        continue
    print("done", flush=True)
loading.join()
os._exit(0)
"""
# The page numbers of a page laid out in parts are added when the parts are put together.
NO_PAGE_NUMBERS = "<style>@page { @bottom-right { content: none } }</style></head>"


# Waits for drawings started: (each chart as SVG, each SVG as PNG).
Drawn = Callable[[], tuple[list[str], list[bytes]]]


class _Ended(Exception):
    """A worker ended; the last line it wrote to stderr (how Python ended)."""


class _Worker:
    """One worker process, doing the jobs it is sent in order."""

    def __init__(self, number: int, scratch: Path) -> None:
        self._errors = (scratch / f"errors-{number}.txt").open("w+", encoding="utf-8")
        self.process: subprocess.Popen[str] | None = subprocess.Popen(
            # -P: the current folder is not put on the worker's module path.
            [sys.executable, "-P", "-c", WORKER],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._errors,
            text=True,
        )
        self.number = number
        self.sent = self._done = 0  # jobs sent, and jobs done (in order)
        self._errors_of: dict[int, str | None] = {}  # answers read before their job's wait

    def send(self, job: dict[str, object]) -> int:
        """Queue a job; its number."""
        assert self.process is not None and self.process.stdin is not None  # piped, running
        try:
            self.process.stdin.write(json.dumps(job) + "\n")
            self.process.stdin.flush()
        except OSError:
            raise _Ended from None
        self.sent += 1
        return self.sent - 1

    def wait(self, number: int) -> str | None:
        """Wait until job `number` is done (and those before it, whose answers are kept for
        their own waits); its error, if it failed (the worker goes on)."""
        assert self.process is not None and self.process.stdout is not None  # piped, running
        while self._done <= number:
            try:
                answer = self.process.stdout.readline()
            except OSError:
                answer = ""
            if answer.strip() != "done" and not answer.startswith("error "):
                raise _Ended
            self._errors_of[self._done] = (
                answer[6:].strip() if answer.startswith("error ") else None
            )
            self._done += 1
        return self._errors_of.pop(number, None)

    def close(self, kill: bool) -> str:
        """End the worker (it ends with its input; `kill`: at once); what it wrote to stderr."""
        process, self.process = self.process, None
        if process is not None:
            if kill:
                process.kill()
            with contextlib.suppress(OSError):  # a worker that died cannot read its input
                if process.stdin is not None:
                    process.stdin.close()
            process.wait()
            if process.stdout is not None:
                process.stdout.close()
        if self._errors.closed:
            return ""
        self._errors.seek(0)
        said = self._errors.read()
        self._errors.close()
        return said


class Renderer:
    """Two worker processes, started now, that draw charts (`charts`) and write PDFs (`pdf`).

    A WeasyPrint that cannot load (no Pango) fails each PDF, not the charts."""

    def __init__(self) -> None:
        self.scratch = Path(tempfile.mkdtemp(prefix="roi-render-"))
        self.workers = (_Worker(0, self.scratch), _Worker(1, self.scratch))
        self._stderr: dict[int, str] = {}  # what each worker wrote to stderr, once ended
        self._unfinished: set[Path] = set()  # PDFs being written (removed if never waited for)
        self._ended = False
        self._jobs = 0  # jobs started (their files' names)

    def _running(self, what: str) -> None:
        if self._ended:
            raise RoiError(f"could not {what}: the renderer has ended")

    def _job(self, worker: _Worker, job: dict[str, object], what: str) -> Callable[[], None]:
        """Send `job` to `worker`; the function returned waits until it is done."""
        try:
            number = worker.send(job)
        except _Ended:
            self._fail(what, worker)

        def done() -> None:
            self._running(what)
            try:
                error = worker.wait(number)
            except _Ended:
                self._fail(what, worker)
            if error is not None:
                raise RoiError(f"could not {what}: {error}")

        return done

    def _fail(self, what: str, worker: _Worker) -> NoReturn:
        """`worker` ended: the error names the last line it wrote (how Python ended)."""
        self.close(kill=True)
        said = self._stderr[worker.number]
        last = (said.strip().splitlines() or ["it ended without a message"])[-1]
        raise RoiError(f"could not {what}: the renderer ended: {last}")

    def start_charts(self, specs: list[dict[str, Any]]) -> Drawn:
        """Start drawing each Vega-Lite spec as SVG, and that SVG as PNG (scale 2); the
        function returned waits for the drawings."""
        what = "draw the report's charts"
        self._running(what)
        folder = self.scratch / f"charts-{self._jobs}"
        folder.mkdir()
        (folder / "specs.json").write_text(json.dumps(specs), encoding="utf-8")
        # The workers take turns (vl-convert draws one chart at a time in a process).
        worker = self.workers[self._jobs % 2]
        self._jobs += 1
        done = self._job(worker, {"kind": "charts", "folder": str(folder)}, what)

        def drawn() -> tuple[list[str], list[bytes]]:
            done()
            svgs = [(folder / f"{i}.svg").read_text(encoding="utf-8") for i in range(len(specs))]
            pngs = [(folder / f"{i}.png").read_bytes() for i in range(len(specs))]
            shutil.rmtree(folder)
            return svgs, pngs

        return drawn

    def charts(self, specs: list[dict[str, Any]]) -> tuple[list[str], list[bytes]]:
        """Each Vega-Lite spec drawn as SVG, and that SVG as PNG (scale 2)."""
        return self.start_charts(specs)()

    def start_pdf(self, parts: list[str], path: Path) -> Callable[[], None]:
        """Start laying out the PDF `path` of a page given as `parts` (HTML documents whose
        pages follow each other: each worker lays one out, then their pages are put together
        and numbered across as the first part's @page rules number them); the function
        returned waits until it is written (whole or not at all)."""
        what = f"write the PDF {path} (WeasyPrint)"
        self._running(what)
        folder = self.scratch / f"pdf-{self._jobs}"
        self._jobs += 1
        folder.mkdir()
        tmp = path.with_name(path.name + ".tmp")
        if len(parts) == 1:
            (folder / "page.html").write_text(parts[0], encoding="utf-8")
            job: dict[str, object] = {
                "kind": "pdf",
                "source": str(folder / "page.html"),
                "target": str(tmp),
            }
            laid_out = [self._job(self.workers[0], job, what)]
        else:
            head = parts[0][: parts[0].index("</head>")]
            (folder / "head.html").write_text(head, encoding="utf-8")
            laid_out = []
            for n, part in enumerate(parts):
                source = folder / f"part-{n}.html"
                source.write_text(part.replace("</head>", NO_PAGE_NUMBERS, 1), encoding="utf-8")
                job = {
                    "kind": "pdf",
                    "source": str(source),
                    "target": f"{source}.pdf",
                    "bookmarks": f"{source}.json",
                }
                laid_out.append(self._job(self.workers[n % 2], job, what))
        self._unfinished.add(tmp)

        def written() -> None:
            try:
                for done in laid_out:
                    done()
                if len(parts) > 1:
                    merging: dict[str, object] = {
                        "kind": "merge",
                        "parts": [f"{folder}/part-{n}.html.pdf" for n in range(len(parts))],
                        "bookmarks": [f"{folder}/part-{n}.html.json" for n in range(len(parts))],
                        "head": str(folder / "head.html"),
                        "target": str(tmp),
                    }
                    self._job(self.workers[0], merging, what)()
                tmp.replace(path)
            except RoiError:
                raise
            except BaseException:  # interrupted: stop the workers before removing what they write
                self.close(kill=True)
                raise
            finally:
                self._unfinished.discard(tmp)
                tmp.unlink(missing_ok=True)
                shutil.rmtree(folder, ignore_errors=True)

        return written

    def pdf(self, html: str, path: Path) -> None:
        """Lay `html` out as the PDF `path` (written whole or not at all)."""
        self.start_pdf([html], path)()

    def close(self, kill: bool = False) -> None:
        """End the workers (they end with their input; `kill`: at once) and remove the
        scratch folder and the part-written PDFs no one waited for."""
        if not self._ended:
            self._ended = True
            for worker in self.workers:
                self._stderr[worker.number] = worker.close(kill)
        for tmp in self._unfinished:
            tmp.unlink(missing_ok=True)
        self._unfinished.clear()
        shutil.rmtree(self.scratch, ignore_errors=True)

    def __enter__(self) -> Renderer:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close(kill=kind is not None)  # on an error (or Ctrl-C) its work is not wanted


__all__ = ["Renderer"]
