"""What the two OpenCost connectors share: an endpoint read live (`url`: one GET over the window
since the last load, with the token from the environment) or as saved responses (`path`: the
changed files only)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

from roi.connectors.base import FileConnector
from roi.connectors.http_api import HttpApi, Retry, parse_json
from roi.connectors.prometheus import parse_instant
from roi.loading.csv_text import read_bytes
from roi.loading.protocol import Batch, Extracted
from roi.progress import Progress


class OpenCostApi(FileConnector):
    """An OpenCost endpoint. A type names its path, what to check when the server does not
    answer, how to save a response, the query for a window and how a response becomes rows;
    its options hold `start`, `until`, `timeout`, `retries` and `backoff`."""

    suffixes = (".json", ".json.gz")
    reads_urls = True
    key_secret = "token"
    api_path: ClassVar[str]
    api_check: ClassVar[str] = "and that it is running"
    saved_hint: ClassVar[str]

    def query(self, start: datetime, end: datetime) -> list[tuple[str, str]]:
        """The query parameters for the window [start, end)."""
        raise NotImplementedError

    def response_batch(self, body: Any, where: str) -> Batch:
        """The rows of one response (`where` names it in errors and lineage)."""
        raise NotImplementedError

    def read_file(self, path: Path, relative: str) -> Batch:
        """One saved response."""
        return self.response_batch(
            parse_json(read_bytes(path, relative), relative, self.saved_hint), relative
        )

    def extract(self, state: Mapping[str, Any] | None, progress: Progress) -> Extracted:
        """Query the endpoint (`url`) or read changed saved responses (`path`)."""
        if not self.config.url:
            return super().extract(state, progress)  # saved responses: changed files only
        start, end = self._window(state)
        if start >= end:  # the last load reached the end of the window: nothing new yet
            return Extracted(batches=iter(()), files=[], cursor=dict(state or {}))
        options = self.options
        token = self.config.secret("token") if "token" in self.config.secret_env else None
        api = HttpApi(
            self.config.url,
            {"Authorization": f"Bearer {token}"} if token else {},
            name="OpenCost",
            check=f"check the connector's url (OpenCost's API, port 9003) {self.api_check}",
            retry=Retry(options.retries, options.backoff, 60.0, options.timeout),
            secrets=(token or "",),
        )
        body = api.get(self.api_path, self.query(start, end))
        where = f"{api.shown(self.api_path)}#{self.config.name}"
        return Extracted(
            batches=iter([self.response_batch(body, where)]),
            files=[where],
            cursor={"until": end.isoformat()},
        )

    def _window(self, state: Mapping[str, Any] | None) -> tuple[datetime, datetime]:
        options = self.options
        today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        end = parse_instant(options.until, "options.until") if options.until else today
        if state and state.get("until"):
            start = datetime.fromisoformat(str(state["until"]))
        elif options.start:
            start = parse_instant(options.start, "options.start")
        else:
            start = end - timedelta(days=7)
        return start, end


def window_text(start: datetime, end: datetime) -> str:
    """OpenCost's `window` parameter for [start, end)."""
    return f"{start:%Y-%m-%dT%H:%M:%SZ},{end:%Y-%m-%dT%H:%M:%SZ}"
