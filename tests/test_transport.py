"""The transport under the client: idle connections the server closed are noticed, over real sockets."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator

import pytest
import stamina

from claret_errors.claret.client import ClaretClient
from claret_errors.claret.transport import _readable
from claret_errors.config import Settings

BODY = b'{"content": {"job_log_id": 12, "status": "pending", "files": {}}}'


def test_an_idle_socket_is_readable_only_once_its_peer_closed_it() -> None:
    """The pool's test before it reuses a kept-alive connection: readable means the server hung up."""
    ours, theirs = socket.socketpair()
    try:
        assert not _readable(ours)
        theirs.close()
        assert _readable(ours)
    finally:
        ours.close()
    assert _readable(ours)  # closed on our side: gone, so not to be reused
    assert _readable(None)


@pytest.fixture
def closing_server() -> Iterator[tuple[str, list[int]]]:
    """Answers one request per connection with keep-alive promised, then hangs up while the client idles,
    as a proxy with a short idle timeout does. Yields the base URL and the requests served per connection."""
    listener = socket.create_server(("127.0.0.1", 0))
    served: list[int] = []

    def serve() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            with conn:
                request = b""
                while b"\r\n\r\n" not in request:
                    request += conn.recv(65536)
                head = f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {len(BODY)}"
                conn.sendall(head.encode() + b"\r\n\r\n" + BODY)
                served.append(1)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}", served
    finally:
        listener.close()


def test_a_connection_the_server_closed_while_idle_is_not_reused(
    closing_server: tuple[str, list[int]],
) -> None:
    """Without retries, the second request succeeds only if the pool saw the first connection was closed."""
    base_url, served = closing_server

    async def go() -> None:
        async with ClaretClient(
            Settings(tenant="demo", base_url=base_url, token="tok-abcdefgh1234")
        ) as client:
            await client.status(12)
            await asyncio.sleep(0.1)  # the server hangs up meanwhile
            await client.status(12)

    with stamina.set_testing(True, attempts=1):
        asyncio.run(go())
    assert len(served) == 2
