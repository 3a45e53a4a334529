"""The Prometheus HTTP API as the DCGM connector queries it: `query_range`, instants, steps."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from datetime import UTC, datetime
from typing import Any

from roi.config import redact_url
from roi.errors import ConfigError, SourceError


def floor_to_step(when: datetime, step: int) -> datetime:
    """`when` rounded down to a whole number of `step` seconds since the epoch."""
    seconds = int(when.timestamp()) // step * step
    return datetime.fromtimestamp(seconds, UTC)


def parse_instant(text: str, key: str) -> datetime:
    """An ISO date or date-time option as a UTC instant."""
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ConfigError(
            f"connector {key} = {text!r} is not an ISO date, e.g. 2026-10-01"
        ) from exc
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def query_range(
    url: str, query: str, start: datetime, end: datetime, step: int, token: str | None = None
) -> Any:
    """GET /api/v1/query_range from Prometheus; errors name the server and what to check."""
    params = urllib.parse.urlencode(
        {"query": query, "start": start.timestamp(), "end": end.timestamp(), "step": step}
    )
    request = urllib.request.Request(f"{url}/api/v1/query_range?{params}")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.loads(response.read().decode("utf-8"))
    except urllib.error.HTTPError as exc:
        try:
            detail = json.loads(exc.read().decode("utf-8")).get("error", "")
        except (ValueError, OSError):
            detail = ""
        raise SourceError(
            f"Prometheus at {redact_url(url)} answered HTTP {exc.code} for {query!r}: "
            f"{detail or exc.reason}; "
            "check the metric name and the connector's options"
        ) from exc
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise SourceError(
            f"cannot reach Prometheus at {redact_url(url)} ({reason}); check the connector's url "
            "and that "
            "Prometheus is running"
        ) from exc
