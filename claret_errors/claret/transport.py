"""An httpx transport whose connections pass each socket read up whole instead of in 64 KiB pieces.

httpcore asks its network stream for 64 KiB at a time, and anyio cuts what one socket read gave (up to
256 KiB on asyncio) into pieces of that size. Every piece then goes through anyio, httpcore, h11 and httpx
in Python: on a fast link that overhead, not the bytes, is most of a download's time on the event loop.
Asking for READ_BYTES hands each socket read on in one piece; h11 takes any amount. Measured with
bench/bench_fetch.py: see the commit that brought this in.
"""

from __future__ import annotations

import select
import socket
import ssl
from collections.abc import Iterable
from typing import Any

import httpcore
import httpx

READ_BYTES = 1 << 20  # more than one socket read ever returns, so each read is handed on whole


def _readable(sock: socket.socket | None) -> bool:
    """httpcore's test of an idle connection: readable means the server closed it (or it is gone)."""
    if sock is None or sock.fileno() < 0:
        return True
    poller = select.poll()
    poller.register(sock, select.POLLIN)
    return bool(poller.poll(0))


class _WholeReads(httpcore.AsyncNetworkStream):
    """A connection's stream that asks for READ_BYTES whenever httpcore asks for less.

    It also keeps its socket: httpcore asks every idle connection whether it is readable each time the
    pool hands out a connection, and anyio answers by building all of the socket's attributes anew, a
    getpeername() call included. With 200 jobs polling, that was about a sixth of the event loop's time
    (py-spy, 200-job fetch against the simulator); see the commit for the per-call cost.
    """

    def __init__(self, stream: httpcore.AsyncNetworkStream) -> None:
        self._stream = stream
        self._socket: socket.socket | None = stream.get_extra_info("socket")

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return await self._stream.read(max(max_bytes, READ_BYTES), timeout)

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        await self._stream.write(buffer, timeout)

    async def aclose(self) -> None:
        await self._stream.aclose()

    async def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.AsyncNetworkStream:
        return _WholeReads(await self._stream.start_tls(ssl_context, server_hostname, timeout))

    def get_extra_info(self, info: str) -> Any:
        if info == "is_readable":
            return _readable(self._socket)
        return self._stream.get_extra_info(info)


class _WholeReadsBackend(httpcore.AsyncNetworkBackend):
    """httpcore's asyncio backend (anyio), with every stream it opens wrapped in _WholeReads."""

    def __init__(self) -> None:
        self._backend = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        stream = await self._backend.connect_tcp(host, port, timeout, local_address, socket_options)
        return _WholeReads(stream)

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.AsyncNetworkStream:
        return _WholeReads(await self._backend.connect_unix_socket(path, timeout, socket_options))

    async def sleep(self, seconds: float) -> None:
        await self._backend.sleep(seconds)


class WholeReadsTransport(httpx.AsyncHTTPTransport):
    """httpx's own transport (its request mapping, errors and proxies untouched) over a pool of _WholeReads.

    httpx takes no network backend, so the pool it made is replaced by the same pool with ours; a test
    downloads a large file over real sockets and checks that chunks bigger than 64 KiB arrive, so an
    httpx that stops reading `_pool` fails there instead of quietly losing the speed.
    """

    def __init__(self, limits: httpx.Limits) -> None:
        context = httpx.create_ssl_context()  # one for both pools: loading the CA bundle takes ~45 ms
        super().__init__(verify=context, limits=limits)
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=context,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=_WholeReadsBackend(),
        )
