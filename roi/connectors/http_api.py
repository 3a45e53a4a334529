"""One HTTP client for the SaaS usage and cost APIs: JSON GETs, page cursors, retries, timeouts.

The OpenAI and Anthropic admin APIs and OpenCost are read the same way: a GET with query
parameters returns a JSON page; `next_page` (with `has_more`) names the next one. Transient
answers (HTTP 429 and 5xx, a refused or dropped connection, a timeout) are retried with
exponential backoff, honouring a `Retry-After` header; the last failure becomes one
`SourceError` naming the URL (never the key: it travels in a header and is masked out of any
text the server echoes) and what to check. Standard library only (urllib).
"""

from __future__ import annotations

import email.utils
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from roi.config import redact_url
from roi.errors import SourceError

Params = Sequence[tuple[str, str]]
_TRANSIENT = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True)
class Retry:
    """How hard to try: attempts per request, the first backoff (doubled each time), the
    longest wait (also caps `Retry-After`) and the timeout of one request, in seconds."""

    attempts: int = 5
    backoff: float = 1.0
    max_wait: float = 60.0
    timeout: float = 60.0


def parse_json(data: bytes, where: str, hint: str) -> Any:
    """A JSON document with exact decimals (money never passes through a float).

    Raises:
        SourceError: not JSON; the message names `where`, the line, column and character.
    """
    try:
        return json.loads(data.decode("utf-8"), parse_float=Decimal)
    except UnicodeDecodeError as exc:
        raise SourceError(f"{where}: not UTF-8 text at byte {exc.start}; {hint}") from None
    except json.JSONDecodeError as exc:
        raise SourceError(
            f"{where}: not valid JSON at line {exc.lineno} column {exc.colno} (character "
            f"{exc.pos}): {exc.msg}; {hint}"
        ) from None


def _retry_after(value: str | None) -> float | None:
    """Seconds a `Retry-After` header asks to wait (a number or an HTTP date)."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


class HttpApi:
    """GET calls to one API; `name` and `check` say whose it is and what to check on failure."""

    def __init__(
        self,
        base_url: str,
        headers: Mapping[str, str],
        *,
        name: str,
        check: str,
        retry: Retry = Retry(),
        secrets: Sequence[str] = (),
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.headers = dict(headers)
        self.name = name
        self.check = check
        self.retry = retry
        self.secrets = [s for s in secrets if s]
        self.requests = 0  # requests sent, retries included

    def shown(self, path: str) -> str:
        """The URL of `path` as messages and lineage show it (no credentials, no query)."""
        return redact_url(f"{self.base_url}{path}")

    def _mask(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "***")
        return text

    def get(self, path: str, params: Params = ()) -> Any:
        """GET `path` with `params` and return its JSON body, retrying transient failures.

        Raises:
            SourceError: an HTTP error that is not transient, or a transient one still failing
                after the last attempt, or a body that is not JSON.
        """
        url = f"{self.base_url}{path}"
        if params:
            url += "?" + urllib.parse.urlencode(list(params))
        shown, retry = self.shown(path), self.retry
        for attempt in range(1, retry.attempts + 1):
            wait = min(retry.backoff * 2 ** (attempt - 1), retry.max_wait)
            request = urllib.request.Request(url, headers=self.headers)
            self.requests += 1
            try:
                with urllib.request.urlopen(request, timeout=retry.timeout) as response:
                    body = response.read()
                return parse_json(body, shown, f"{self.name} did not answer with JSON")
            except urllib.error.HTTPError as exc:
                detail = self._detail(exc)
                if exc.code not in _TRANSIENT:
                    raise SourceError(
                        f"{self.name} at {shown} answered HTTP {exc.code}{detail}; {self.check}"
                    ) from None
                asked = _retry_after(exc.headers.get("Retry-After"))
                wait = min(asked, retry.max_wait) if asked is not None else wait
                failure = f"answered HTTP {exc.code}{detail}"
            except TimeoutError:
                failure = f"did not answer within {retry.timeout:g} s"
            except (urllib.error.URLError, ConnectionError, OSError) as exc:
                reason = getattr(exc, "reason", exc)
                if isinstance(reason, TimeoutError):
                    failure = f"did not answer within {retry.timeout:g} s"
                else:
                    failure = f"cannot be reached ({self._mask(str(reason))})"
            if attempt == retry.attempts:
                tries = f"{retry.attempts} attempt(s)"
                raise SourceError(
                    f"{self.name} at {shown} {failure} after {tries}; {self.check}"
                ) from None
            time.sleep(wait)
        raise AssertionError("unreachable")  # pragma: no cover

    def _detail(self, exc: urllib.error.HTTPError) -> str:
        """The error message an API put in its body (`error.message` or `error`), if any."""
        try:
            body = json.loads(exc.read().decode("utf-8"))
        except (ValueError, OSError):
            return ""
        error = body.get("error") if isinstance(body, dict) else None
        message = error.get("message") if isinstance(error, dict) else error
        return f" ({self._mask(str(message))[:200]})" if message else ""

    def pages(self, path: str, params: Params, page_param: str = "page") -> Iterator[Any]:
        """Every page of a paged list: the next page's cursor is the body's `next_page`, until
        `has_more` is false or no cursor is given."""
        cursor: str | None = None
        while True:
            body = self.get(path, [*params, *([(page_param, cursor)] if cursor else [])])
            yield body
            cursor = body.get("next_page") if isinstance(body, dict) else None
            if not cursor or (isinstance(body, dict) and body.get("has_more") is False):
                return
