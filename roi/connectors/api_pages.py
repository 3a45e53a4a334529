"""Connectors over a paged JSON API: fetched with a key from the environment, or saved pages.

The OpenAI and Anthropic usage and cost reports answer with the same page shape: `data` is a
list of time buckets, each with its `results`, and `next_page` / `has_more` lead on. A
connector of this kind reads either
- `url` (the API's base, e.g. `https://api.openai.com`): fetched with the admin key from the
  environment variable `admin_key_env` names, from the last load's cursor (or `[options] start`)
  to `[options] until` (or now), through `roi.connectors.http_api` (retries, timeouts); or
- `path`: the same pages saved as files (`.json` or `.json.gz`, one page per file or a JSON
  list of pages), read when new or changed.

Both give the same rows: every row's key is made of what it counts (bucket, project, model, ...),
never of where it was read from, so a saved page and a fetched one merge onto the same rows.
`source_row` is the result's position in its file (or fetch), counted through the buckets.
"""

from __future__ import annotations

import re
from abc import abstractmethod
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

import polars as pl

from roi.config import load_project
from roi.config.project import PROJECT_FILE
from roi.config.settings import ProjectSettings
from roi.connectors.base import Connector, UrlMatch, changed_files, url_path_match
from roi.connectors.http_api import HttpApi, Params, Retry, parse_json
from roi.connectors.prometheus import parse_instant
from roi.errors import ConfigError, SourceError
from roi.loading.csv_text import read_bytes
from roi.loading.protocol import Batch, Extracted
from roi.progress import Progress

NULL_KEY = "-"  # a key part the API left null (not grouped by it)


@dataclass(frozen=True)
class ApiOptions:
    """Options every paged-API connector takes (the key comes from `admin_key_env`)."""

    start: str | None = None  # first load: ISO date to fetch from (default: 30 days ago)
    until: str | None = None  # fetch up to this ISO date (default: now)
    timeout: float = 60.0  # seconds one request may take
    retries: int = 5  # attempts per request (429, 5xx, timeouts and refused connections)
    backoff: float = 1.0  # seconds before the first retry, doubled each time
    max_wait: float = 60.0  # the longest wait between attempts (caps Retry-After)


@dataclass(frozen=True)
class Window:
    """The time range one fetch asks for."""

    start: datetime
    end: datetime


def key(*parts: Any) -> str:
    """A row key from what the row counts: its parts joined by `/`, null as `-`."""
    return "/".join(NULL_KEY if p is None or p == "" else str(text(p)) for p in parts)


def text(value: Any) -> str | None:
    """A JSON value as text for the typed parsers (numbers exactly as written)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def project_currency(root: Path) -> str:
    """The project's currency (`[project] currency` of roi.toml; USD without a project)."""
    if not (root / PROJECT_FILE).exists():
        return ProjectSettings().currency
    return load_project(root).project.currency


def read_pages(path: Path, relative: str) -> list[Any]:
    """The page bodies a saved file holds: one page, or a JSON list of pages.

    Raises:
        SourceError: the file is not JSON (naming the line, column and character) or holds
            something other than pages.
    """
    body = parse_json(
        read_bytes(path, relative), relative, "save the API's response body as it came"
    )
    pages = body if isinstance(body, list) else [body]
    for number, page in enumerate(pages, 1):
        if not isinstance(page, dict) or not isinstance(page.get("data"), list):
            raise SourceError(
                f"{relative}: page {number} has no `data` list of buckets; save the body the "
                "API returned (an object with data, has_more, next_page)"
            )
    return pages


class ApiPagesConnector(Connector):
    """A paged report API read live (`url`) or from saved pages (`path`)."""

    suffixes = (".json", ".json.gz")
    reads_urls = True
    key_secret = "admin_key"
    key_required = True
    provider_name: ClassVar[str]  # e.g. "OpenAI", in messages
    key_hint: ClassVar[str]  # what the admin key looks like, in messages
    report: ClassVar[str]  # e.g. "the OpenAI Usage API", in messages
    api_path: ClassVar[str]  # the report's path, a regular expression (`roi connect URL`)
    Options: ClassVar[type[Any]] = ApiOptions

    @classmethod
    def recognises_url(cls, url: str) -> UrlMatch | None:
        """A URL of the report (`https://api.openai.com/v1/organization/costs`): its base."""
        found = url_path_match(url, cls.api_path)
        if found is None:
            return None
        base, match = found
        return UrlMatch(f"{cls.report} ({match.group(0)})", base, cls.url_options(match))

    @classmethod
    def url_options(cls, match: re.Match[str]) -> dict[str, Any]:
        """The options the report's path implies (an endpoint)."""
        return {}

    @abstractmethod
    def requests(self, window: Window) -> list[tuple[str, Params]]:
        """The (path, query parameters) to page through for `window`."""

    @abstractmethod
    def headers(self, secret: str) -> dict[str, str]:
        """The request headers carrying the admin key."""

    @abstractmethod
    def page_rows(self, page: Any, where: str) -> list[dict[str, str | None]]:
        """The rows of one page (text values; `source_row` is added by the caller)."""

    @abstractmethod
    def finish(self, frame: pl.DataFrame) -> Batch:
        """Type the text rows of one file (or fetch) into the target table's rows."""

    @staticmethod
    def bucket_start(page: Any) -> datetime | None:
        """The start of the last bucket of a page (the cursor for the next fetch)."""
        return None

    def batch(self, pages: list[Any], where: str) -> Batch:
        """The rows of pages read from one file or one fetch."""
        rows = [row for page in pages for row in self.page_rows(page, where)]
        frame = pl.DataFrame(
            rows, schema=dict.fromkeys(rows[0] if rows else ("source_file",), pl.String)
        )
        frame = frame.with_columns(
            source_file=pl.lit(where, pl.String),
            source_row=pl.int_range(1, pl.len() + 1, dtype=pl.Int64),
        )
        return self.finish(frame)

    def extract(self, state: Mapping[str, Any] | None, progress: Progress) -> Extracted:
        """Fetch from the API (`url`) or read changed saved pages (`path`)."""
        if self.config.url:
            return self._extract_live(state, progress)
        return self._extract_files(state, progress)

    def _window(self, state: Mapping[str, Any] | None) -> Window:
        options = self.options
        end = (
            parse_instant(str(options.until), "options.until")
            if options.until
            else datetime.now(UTC)
        )
        if state and state.get("start"):
            start = datetime.fromisoformat(str(state["start"]))
        elif options.start:
            start = parse_instant(str(options.start), "options.start")
        else:
            start = end - timedelta(days=30)
        start = start.replace(hour=0, minute=0, second=0, microsecond=0)
        return Window(start, max(end, start + timedelta(days=1)))

    def api(self) -> HttpApi:
        """The client, with the admin key from the environment."""
        assert self.config.url is not None
        options = self.options
        if options.retries < 1 or options.timeout <= 0:
            raise ConfigError(
                f"{self.config.file}: [options] retries must be at least 1 and timeout positive"
            )
        secret = self.config.secret("admin_key")
        return HttpApi(
            self.config.url,
            self.headers(secret),
            name=self.provider_name,
            check=(
                f"check the connector's url, that the host is reachable, and the admin key "
                f"({self.key_hint}) in the environment variable named by admin_key_env"
            ),
            retry=Retry(options.retries, options.backoff, options.max_wait, options.timeout),
            secrets=(secret,),
        )

    def _extract_live(self, state: Mapping[str, Any] | None, progress: Progress) -> Extracted:
        """Fetch every page of the window now (reports are small), so a failing API stops the
        load before anything is staged."""
        api = self.api()
        window = self._window(state)
        calls = self.requests(window)
        fetched: list[tuple[str, list[Any]]] = []
        for path, params in progress.track(calls, f"{self.config.name}: fetching"):
            fetched.append((f"{api.shown(path)}#{self.config.name}", list(api.pages(path, params))))
        starts = [t for _, pages in fetched for t in map(self.bucket_start, pages) if t]
        # The last bucket may still fill up: the next load fetches again from its start.
        cursor = {"start": max(starts, default=window.start).isoformat()}

        def batches() -> Iterator[Batch]:
            for where, pages in fetched:
                yield self.batch(pages, where)

        return Extracted(batches=batches(), files=[w for w, _ in fetched], cursor=cursor)

    def _extract_files(self, state: Mapping[str, Any] | None, progress: Progress) -> Extracted:
        files = self.input_files()
        changed, fingerprints = changed_files(files, state, self.relative)

        def batches() -> Iterator[Batch]:
            for path in progress.track(changed, f"{self.config.name}: reading"):
                relative = self.relative(path)
                yield self.batch(read_pages(path, relative), relative)

        return Extracted(
            batches=batches(),
            files=[self.relative(p) for p in changed],
            cursor={"files": fingerprints},
            skipped_files=len(files) - len(changed),
            replaces_files=True,
        )
