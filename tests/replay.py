"""A local HTTP server that replays API responses, for connectors of SaaS APIs.

Each route (a path) answers from a list of scripted replies, in turn; the last one repeats. A
reply is a status, a JSON body (or raw bytes), headers, and an optional delay (to time out a
client). A reply may also be chosen by the `page` query parameter. Every request is recorded
with its query, headers (names lower-cased) and arrival time.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Reply:
    """One scripted answer."""

    body: Any = None
    status: int = 200
    headers: tuple[tuple[str, str], ...] = ()
    delay: float = 0.0
    raw: bytes | None = None


@dataclass
class Seen:
    """One request the server received."""

    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    at: float


@dataclass
class Replay:
    """Routes (path → replies, or path → {page cursor → reply}) and the requests seen."""

    routes: dict[str, list[Reply] | dict[str | None, Reply]] = field(default_factory=dict)
    seen: list[Seen] = field(default_factory=list)
    url: str = ""

    def reply(self, path: str, query: dict[str, list[str]]) -> Reply:
        route = self.routes.get(path)
        if route is None:
            return Reply({"error": {"message": f"no route {path}"}}, status=404)
        if isinstance(route, dict):
            page = query.get("page", [None])[0]
            return route.get(page, Reply({"error": {"message": "bad page"}}, status=400))
        count = sum(1 for s in self.seen if s.path == path)
        return route[min(count - 1, len(route) - 1)]


def _handler(replay: Replay) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parts = urllib.parse.urlsplit(self.path)
            query = urllib.parse.parse_qs(parts.query)
            headers = {k.lower(): v for k, v in self.headers.items()}
            replay.seen.append(Seen(parts.path, query, headers, time.monotonic()))
            reply = replay.reply(parts.path, query)
            if reply.delay:
                time.sleep(reply.delay)
            data = reply.raw if reply.raw is not None else json.dumps(reply.body).encode()
            try:
                self.send_response(reply.status)
                for name, value in reply.headers:
                    self.send_header(name, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):  # the client timed out and left
                pass

        def log_message(self, *args: Any) -> None:
            return None

    return Handler


@contextmanager
def serving(replay: Replay) -> Iterator[Replay]:
    """Serve `replay` on a free local port (its `url`) while the block runs."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(replay))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    replay.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield replay
    finally:
        server.shutdown()
        server.server_close()


def free_port() -> int:
    """A local port nothing listens on (for a refused connection)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
