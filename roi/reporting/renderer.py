"""The report's renderer: a worker process that draws the charts (vl-convert) and lays out the
PDF (WeasyPrint) while the report's own process reads the figures.

Both renderers hold the interpreter lock of the process they run in for long stretches:
vl-convert while it starts its JavaScript engine (half a second, on the first chart of a
process), WeasyPrint (pure Python) while it is imported (half a second) and while it lays out
the pages (more than a second for the sample's eleven). In a worker started when a report
begins, the engine starts and WeasyPrint is imported on the other core meanwhile. The worker
imports `roi.charting` and WeasyPrint only (not the rest of roi); it draws the charts it is
given (specs as JSON, each with `roi.charting`, so the bytes drawing in-process gives) and
renders one HTML file to a PDF, reading nothing but the chart PNG files its page names
(`file:` URLs only; one that cannot be read fails the PDF). The worker starts without the
current folder on its module path. Jobs and their files pass through a scratch folder; a
failed job is one `Error:` with the renderer's first line of error, and the worker goes on
with the next job. One renderer serves every report of a command.
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
import json, os, sys, threading
from pathlib import Path
from roi.charting import svg_to_png, to_svg
to_svg({"data": {"values": [{"x": 1}]}, "mark": "point", "encoding": {"x": {"field": "x"}}})
loaded = {}
def load():
    try:
        from weasyprint import HTML
        from weasyprint.urls import URLFetcher
        loaded["HTML"] = HTML
        # The charts' PNG files only; a picture that cannot be read fails the PDF.
        loaded["fetcher"] = URLFetcher(allowed_protocols={"file"}, fail_on_errors=True)
    except BaseException as exc:
        loaded["error"] = exc
loading = threading.Thread(target=load)
loading.start()
def charts(job):
    folder = Path(job["folder"])
    specs = json.loads((folder / "specs.json").read_text(encoding="utf-8"))
    svgs = [to_svg(spec) for spec in specs]
    pngs = [svg_to_png(svg) for svg in svgs]
    for i, (svg, png) in enumerate(zip(svgs, pngs)):
        (folder / f"{i}.svg").write_text(svg, encoding="utf-8")
        (folder / f"{i}.png").write_bytes(png)
def pdf(job):
    loading.join()
    if "error" in loaded:
        raise loaded["error"]
    page = loaded["HTML"](filename=job["source"], encoding="utf-8", url_fetcher=loaded["fetcher"])
    page.write_pdf(job["target"])
for line in sys.stdin:
    job = json.loads(line)
    try:
        (charts if job["kind"] == "charts" else pdf)(job)
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


# Waits for drawings started: (each chart as SVG, each SVG as PNG).
Drawn = Callable[[], tuple[list[str], list[bytes]]]


class Renderer:
    """A worker process, started now, that draws charts (`charts`) and writes PDFs (`pdf`).

    WeasyPrint is imported in the worker's background: a WeasyPrint that cannot load (no Pango)
    fails the first PDF, not the charts."""

    def __init__(self) -> None:
        self.scratch = Path(tempfile.mkdtemp(prefix="roi-render-"))
        self._errors = (self.scratch / "errors.txt").open("w+", encoding="utf-8")
        self.process: subprocess.Popen[str] | None = subprocess.Popen(
            # -P: the current folder is not put on the worker's module path.
            [sys.executable, "-P", "-c", WORKER],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._errors,
            text=True,
        )
        self._sent = self._done = 0  # jobs sent, and jobs done (in order)
        self._stderr = ""  # what the worker wrote to stderr, once it has ended

    def _alive(self, what: str) -> subprocess.Popen[str]:
        if self.process is None:
            raise RoiError(f"could not {what}: the renderer has ended")
        return self.process

    def _send(self, job: dict[str, str], what: str) -> int:
        """Queue a job (the worker does them in order); its number."""
        process = self._alive(what)
        assert process.stdin is not None  # piped
        try:
            process.stdin.write(json.dumps(job) + "\n")
            process.stdin.flush()
        except OSError:
            self._fail(what)
        self._sent += 1
        return self._sent - 1

    def _wait(self, number: int, what: str) -> None:
        """Wait until job `number` is done (and those before it)."""
        process = self._alive(what)
        assert process.stdout is not None  # piped
        while self._done <= number:
            try:
                answer = process.stdout.readline()
            except OSError:
                answer = ""
            self._done += 1
            if answer.startswith("error "):  # the job failed; the worker goes on
                raise RoiError(f"could not {what}: {answer[6:].strip()}")
            if answer.strip() != "done":
                self._fail(what)

    def _fail(self, what: str) -> NoReturn:
        """The worker ended: the error names the last line it wrote (how Python ended)."""
        self.close(kill=True)
        last = (self._stderr.strip().splitlines() or ["it ended without a message"])[-1]
        raise RoiError(f"could not {what}: the renderer ended: {last}")

    def start_charts(self, specs: list[dict[str, Any]]) -> Drawn:
        """Start drawing each Vega-Lite spec as SVG, and that SVG as PNG (scale 2); the
        function returned waits for the drawings."""
        what = "draw the report's charts"
        self._alive(what)
        folder = self.scratch / f"charts-{self._sent}"
        folder.mkdir()
        (folder / "specs.json").write_text(json.dumps(specs), encoding="utf-8")
        number = self._send({"kind": "charts", "folder": str(folder)}, what)

        def drawn() -> tuple[list[str], list[bytes]]:
            self._wait(number, what)
            svgs = [(folder / f"{i}.svg").read_text(encoding="utf-8") for i in range(len(specs))]
            pngs = [(folder / f"{i}.png").read_bytes() for i in range(len(specs))]
            shutil.rmtree(folder)
            return svgs, pngs

        return drawn

    def charts(self, specs: list[dict[str, Any]]) -> tuple[list[str], list[bytes]]:
        """Each Vega-Lite spec drawn as SVG, and that SVG as PNG (scale 2)."""
        return self.start_charts(specs)()

    def pdf(self, html: str, path: Path) -> None:
        """Lay `html` out as the PDF `path` (written whole or not at all)."""
        self._alive(f"write the PDF {path} (WeasyPrint)")
        source = self.scratch / "print.html"
        source.write_text(html, encoding="utf-8")
        tmp = path.with_name(path.name + ".tmp")
        try:
            what = f"write the PDF {path} (WeasyPrint)"
            job = {"kind": "pdf", "source": str(source), "target": str(tmp)}
            self._wait(self._send(job, what), what)
            tmp.replace(path)
        except RoiError:
            raise
        except BaseException:  # interrupted: stop the worker before removing what it writes
            self.close(kill=True)
            raise
        finally:
            tmp.unlink(missing_ok=True)
            source.unlink(missing_ok=True)

    def close(self, kill: bool = False) -> None:
        """End the worker (it ends with its input; `kill`: at once) and remove the scratch
        folder."""
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
        if not self._errors.closed:
            self._errors.seek(0)
            self._stderr = self._errors.read()
            self._errors.close()
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
