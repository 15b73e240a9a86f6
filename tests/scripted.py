"""A scripted HTTP server on a real loopback socket, for the cases the simulator cannot produce on purpose
(hostile artifact paths, a second origin that must never be contacted, exact header checks).

A helper module, not a test file: the `server` fixture of conftest.py serves one, and tests that script
their own import `Reply`, `Scripted`, `scripted_server`, `status_body` and `TOKEN` from here.
"""

from __future__ import annotations

import json
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

# A well-formed Sanctum token, for the tests that give one instead of a login.
TOKEN = "7|Zq3kXv9TtLmN0pQrStUvWxYz0123456789abcdEF"


@dataclass
class Reply:
    """One canned answer; `length` overrides Content-Length to play a connection cut mid-body."""

    status: int = 200
    body: bytes | dict[str, Any] = b""
    headers: dict[str, str] = field(default_factory=dict)
    length: int | None = None
    delay: float = 0.0  # seconds before answering, to play a read timeout


@dataclass
class Seen:
    """One request as the server saw it."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]


class Scripted:
    """Routes (method, path) to a queue of replies; the last reply of a queue repeats."""

    def __init__(self) -> None:
        self.routes: dict[tuple[str, str], list[Reply] | Callable[[Seen], Reply]] = {}
        self.seen: list[Seen] = []
        self.base_url = ""
        self._lock = threading.RLock()

    def on(self, method: str, path: str, *replies: Reply) -> None:
        self.routes[(method, path)] = list(replies)

    def dynamic(self, method: str, path: str, make: Callable[[Seen], Reply]) -> None:
        self.routes[(method, path)] = make

    def answer(self, seen: Seen) -> Reply:
        with self._lock:
            self.seen.append(seen)
            route = self.routes.get((seen.method, seen.path))
            if route is None:
                return Reply(404, {"message": "Not Found"})
            if callable(route):
                return route(seen)
            return route.pop(0) if len(route) > 1 else route[0]

    def requests(self, path_part: str = "") -> list[Seen]:
        with self._lock:
            return [s for s in self.seen if path_part in s.path]


def _handler(script: Scripted) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _serve(self) -> None:
            parts = urlsplit(self.path)
            size = int(self.headers.get("Content-Length") or 0)
            if size:
                self.rfile.read(size)
            reply = script.answer(
                Seen(
                    self.command,
                    parts.path,
                    parse_qs(parts.query),
                    {k.lower(): v for k, v in self.headers.items()},
                )
            )
            if reply.delay:
                time.sleep(reply.delay)
            body = reply.body if isinstance(reply.body, bytes) else json.dumps(reply.body).encode()
            self.send_response(reply.status)
            if not isinstance(reply.body, bytes):
                self.send_header("Content-Type", "application/json")
            for key, value in reply.headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(reply.length if reply.length is not None else len(body)))
            if reply.length is not None:
                self.send_header("Connection", "close")
                self.close_connection = True
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = _serve

        def log_message(self, format: str, *args: Any) -> None:
            return None

    return Handler


class _QuietServer(ThreadingHTTPServer):
    """A client that gave up (a timeout test) breaks the pipe; that is the point, not an error to print."""

    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        return None


@contextmanager
def scripted_server(tls: ssl.SSLContext | None = None) -> Iterator[Scripted]:
    """A Scripted server on 127.0.0.1 with a free port (over HTTPS with `tls`), shut down afterwards."""
    script = Scripted()
    server = _QuietServer(("127.0.0.1", 0), _handler(script))
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    scheme = "http" if tls is None else "https"
    script.base_url = f"{scheme}://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield script
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def status_body(job_log_id: int, status: str, files: dict[str, list[str]], **extra: Any) -> dict[str, Any]:
    """A documented status answer."""
    done = status in ("completed", "failed")
    content: dict[str, Any] = {
        "job_log_id": job_log_id,
        "status": status,
        "type": "inventory-import",
        "description": "Inventory Import",
        "progress": {
            "completed_steps": 4 if done else 1,
            "total_steps": 4,
            "current_step": None if done else "x",
        },
        "files": files,
        "job_status_link": f"https://plan.claret.app/demo/job-logs/{job_log_id}",
        "timestamps": {"started_at": "2024-01-01T00:00:00Z", "completed_at": None},
        "user_id": 1,
    }
    content.update(extra)
    return {"message": "Job status retrieved successfully", "content": content}
