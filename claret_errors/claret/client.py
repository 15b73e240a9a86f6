"""The Claret HTTP client: one shared async connection pool, bearer auth with re-minting, retries, downloads.

It raises the errors of claret_errors.errors (with the URL concerned) and returns typed values; it never
prints, never exits, never follows a redirect, and never puts the token into a message, a log or a file.
"""

from __future__ import annotations

import asyncio
import ctypes
import email.utils
import hashlib
import json
import logging
import os
import re
import tempfile
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar
from urllib.parse import quote

import httpx
import stamina

from claret_errors import __version__
from claret_errors.claret.models import JobStatus, ManifestEntry, parse_status
from claret_errors.claret.transport import WholeReadsTransport
from claret_errors.claret.urls import resolve_source
from claret_errors.config import Settings
from claret_errors.errors import (
    ArtifactError,
    AuthError,
    ClaretUnavailableError,
    ConfigError,
    JobNotFoundError,
    UploadUnknownError,
    UsageError,
)
from claret_errors.files.atomic import FILE_MODE
from claret_errors.redact import RedactingFilter, redact, register_secret

log = logging.getLogger("claret_errors.claret")
T = TypeVar("T")

USER_AGENT = f"claret-errors/{__version__} (httpx/{httpx.__version__})"
TIMEOUT = httpx.Timeout(connect=10.0, read=60.0, write=60.0, pool=120.0)
RETRY_AFTER_MAX = 300.0  # a longer Retry-After is answered by giving up, not by sleeping for an hour
_MAX_MINTS = 10  # re-mint when a token that worked expires; never loop on a refusing server
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]+")


class _Transient(Exception):
    """A failure worth another attempt: 5xx, 429, a short body. `retry_after` is Claret's own wish."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


def _retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or HTTP date); None if absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def backoff_hook(exc: Exception) -> bool | float:
    """stamina's verdict: retry with backoff (True), after Claret's Retry-After (seconds), or not (False)."""
    if isinstance(exc, _Transient):
        if exc.retry_after is not None:
            return exc.retry_after if exc.retry_after <= RETRY_AFTER_MAX else False
        return True
    return isinstance(exc, httpx.TimeoutException | httpx.NetworkError | httpx.RemoteProtocolError)


def _connect_only_hook(exc: Exception) -> bool | float:
    """For calls that must not run twice (uploads): retry only what certainly never reached Claret."""
    if isinstance(exc, _Transient) and exc.retry_after is not None:
        return exc.retry_after if exc.retry_after <= RETRY_AFTER_MAX else False
    return isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout)


def claret_message(response: httpx.Response) -> str:
    """Claret's own explanation from an error body, flattened, bounded and with no control characters."""
    try:
        body = response.json()
    except (ValueError, UnicodeDecodeError):
        body = None
    parts: list[str] = []
    if isinstance(body, dict):
        for key in ("message", "error", "errors"):
            value = body.get(key)
            if isinstance(value, str):
                parts.append(value)
            elif isinstance(value, dict):
                for inner in value.values():
                    items = inner if isinstance(inner, list) else [inner]
                    parts.extend(str(i) for i in items if isinstance(i, str | int | float))
    text = " ".join(p.strip() for p in parts if p.strip()) or f"HTTP {response.status_code}"
    return redact(_CONTROL.sub(" ", text))[:400]


def _transient_for(response: httpx.Response) -> _Transient | None:
    """5xx and 429 are worth retrying; 429 and 503 carry Retry-After."""
    code = response.status_code
    if code == 429 or code >= 500:
        wait = _retry_after(response.headers.get("Retry-After")) if code in (429, 503) else None
        return _Transient(f"HTTP {code}", wait)
    return None


async def _done(job: Future[None]) -> None:
    """Wait for a disk job; a cancel stops the waiting, never the job (which owns the file meanwhile)."""
    await asyncio.shield(asyncio.wrap_future(job))


BATCH = 1 << 20  # bytes of a download handed to a disk thread at a time, once the thread is free
BATCH_MAX = 4 << 20  # bytes waiting for a busy disk thread before the loop stops reading to wait for it
_datasync: Callable[[int], None] = getattr(os, "fdatasync", os.fsync)  # macOS has no fdatasync


def _writeback_starter() -> Callable[[int, int, int], object] | None:
    """Linux's sync_file_range(SYNC_FILE_RANGE_WRITE), which Python's os lacks; None where there is none."""
    try:
        call = ctypes.CDLL(None).sync_file_range
    except (OSError, AttributeError, TypeError):  # no libc by that name, no such call, or Windows
        return None
    call.argtypes = [ctypes.c_int, ctypes.c_int64, ctypes.c_int64, ctypes.c_uint]
    call.restype = ctypes.c_int
    return lambda fd, offset, count: call(fd, offset, count, 2)  # 2: SYNC_FILE_RANGE_WRITE


_start_writeback = _writeback_starter()


class _DurableFile:
    """A download's temp file: made, written, hashed and synced in disk threads while the loop reads.

    Chunks are collected on the event loop and handed over in BATCH-sized batches, one batch in a thread
    while the next arrives (one hand-over per chunk cost more in thread switches than it saved). The temp
    file beside `dest` is made by the first disk job, so a body that fits in one batch (most of a night's
    files) costs a single hand-over, after its connection was given back. On Linux each batch's writeback
    starts as soon as it is written, without waiting for it and without a disk cache flush, so the one
    fdatasync at the end waits only for the tail. Periodic fdatasyncs in the background did the same at a
    cache flush (and, on a journalling file system, a commit) each: 2-5 ms more per 10.5 MB download in
    interleaved runs of bench/bench_fetch.py's download. Elsewhere the final fdatasync does it all.

    Disk jobs run in `pool` in submission order; a job that waits for an earlier one (`finish`, `abandon`)
    can always be served, since that one was taken by a worker before it and waits for nothing. A job once
    submitted always runs (awaits are shielded), so the file is closed and, unless it was finished, removed
    exactly once: after the job that last used it.
    """

    def __init__(self, dest: Path, pool: ThreadPoolExecutor) -> None:
        self._dest = dest
        self._pool = pool
        self._fd = -1
        self._temp: Path | None = None  # set by the disk job that makes it
        self.digest = hashlib.sha256()
        self.size = 0  # bytes received so far
        self._stored = 0  # bytes written to the file, by the disk jobs (one at a time, in order)
        self._batch: list[bytes] = []
        self._batched = 0
        self._store_job: Future[None] | None = None
        self._closing = False  # a job that ends the file has been submitted, or it has ended

    async def write(self, chunk: bytes) -> None:
        self._batch.append(chunk)
        self._batched += len(chunk)
        self.size += len(chunk)
        if self._batched >= BATCH:
            job = self._store_job
            if job is not None and not job.done():
                if self._batched < BATCH_MAX:
                    return  # the thread is still busy: the batch grows, the loop keeps reading
                await _done(job)  # a slow disk holds back the socket reads
            if job is not None:
                job.result()  # a failed write fails the download
            batch, self._batch, self._batched = self._batch, [], 0
            self._store_job = self._pool.submit(self._store, batch)

    def _store(self, batch: list[bytes]) -> None:
        """In a disk thread: write and hash a batch as one piece (a thread switch per chunk is dearer)."""
        if self._fd < 0:
            self._fd, self._temp = _open_temp(self._dest)
        data = batch[0] if len(batch) == 1 else b"".join(batch)
        view = memoryview(data)
        while view:
            view = view[os.write(self._fd, view) :]
        if _start_writeback is not None:
            _start_writeback(self._fd, self._stored, len(data))  # a hint: the final fdatasync still checks
        self._stored += len(data)
        self.digest.update(data)

    async def finish(self) -> Path:
        """Every byte written, hashed and fsynced, the file closed; its temp path, for the caller to rename.
        When this fails or is cancelled, the temp file goes as soon as the disk job has ended."""
        self._closing = True
        batch, self._batch = self._batch, []
        job = self._pool.submit(self._finish, self._store_job, batch)
        try:
            await _done(job)
        except BaseException:
            job.add_done_callback(lambda _: self._remove())
            raise
        if self._temp is None:  # pragma: no cover - _finish makes the file or raises
            raise RuntimeError("a finished download has no file")
        return self._temp

    def _finish(self, earlier: Future[None] | None, batch: list[bytes]) -> None:
        try:
            if earlier is not None:
                earlier.result()
            if batch or self._fd < 0:  # an empty body still makes its (empty) file
                self._store(batch or [b""])
            _datasync(self._fd)  # data and size, all a new file needs; the timestamps can wait (~1 ms less)
        finally:
            self._close()

    def abandon(self) -> None:
        """After an error or a cancel before `finish`: the temp file goes once no disk job uses it."""
        if self._closing:
            return
        self._closing = True
        job = self._store_job
        if job is not None and not job.done():
            self._pool.submit(self._remove_after, job)
        else:
            self._remove()

    def _remove_after(self, earlier: Future[None]) -> None:
        wait([earlier])
        self._remove()

    def _close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def _remove(self) -> None:
        self._close()
        if self._temp is not None:
            self._temp.unlink(missing_ok=True)


def _open_temp(dest: Path) -> tuple[int, Path]:
    """In a disk thread: `dest`'s folder, and a temp file beside it with the mode the user's umask gives.

    Off the event loop: while other downloads' fsyncs keep the disk busy, a mkdir or a create can block
    for a millisecond, and 800 of them on the loop held up every other job's requests for about
    a second (a 200-job fetch against the simulator, measured with cProfile).
    """
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    try:
        os.fchmod(fd, FILE_MODE)
    except BaseException:
        os.close(fd)
        Path(name).unlink(missing_ok=True)
        raise
    return fd, Path(name)


def _replace(tmp: Path, dest: Path) -> None:
    """Give a complete, fsynced temp file its final name in one step: a crash leaves old or new, not half.
    A rename that fails (the name is a folder, say) leaves no temp file behind."""
    try:
        tmp.replace(dest)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _redact_library_logs() -> None:
    """httpx logs every request URL at INFO, and the token request carries the password in its query."""
    for name in ("httpx", "httpcore"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactingFilter) for f in logger.filters):
            logger.addFilter(RedactingFilter())


class ClaretClient:
    """One Claret tenant over one shared httpx pool; use as `async with ClaretClient(settings) as c:`."""

    def __init__(
        self,
        settings: Settings,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        attempts: int = 6,
        timeout: httpx.Timeout = TIMEOUT,
    ) -> None:
        if not settings.tenant:
            raise ConfigError("no tenant: give --tenant or set CLARET_TENANT", key="tenant")
        if not settings.token and not (settings.email and settings.password):
            raise ConfigError(
                "no credentials: set CLARET_TOKEN, or CLARET_EMAIL and CLARET_PASSWORD", key="CLARET_TOKEN"
            )
        self.tenant = settings.tenant
        self.base_url = settings.base_url.rstrip("/")
        self.api = f"{self.base_url}/{quote(self.tenant, safe='')}/api/v1"
        self._email = settings.email
        self._password = settings.password
        self._token: str | None = settings.token
        self._token_proven = False
        self._minted_by_us = False
        self._mints = 0
        self._auth_lock = asyncio.Lock()
        self._refused: AuthError | None = None  # once Claret refuses our credentials, ask no more
        self._attempts = attempts
        self._timeout = timeout
        self._transport = transport
        self._concurrency = settings.concurrency
        self._limits = httpx.Limits(
            max_connections=settings.concurrency, max_keepalive_connections=settings.concurrency
        )
        self._http: httpx.AsyncClient | None = None
        self._disk: ThreadPoolExecutor | None = None
        self._slots: asyncio.Semaphore | None = None  # made in the event loop that uses it
        self._disk_threads = 2 * settings.concurrency  # a download's finish waits on its last write
        register_secret(self._token)
        register_secret(self._password)
        _redact_library_logs()

    async def __aenter__(self) -> ClaretClient:
        self._http = httpx.AsyncClient(
            headers={
                "Accept": "application/json",
                "X-Requested-With": "XMLHttpRequest",
                "User-Agent": USER_AGENT,
            },
            timeout=self._timeout,
            limits=self._limits,
            follow_redirects=False,
            transport=self._transport or WholeReadsTransport(self._limits),
        )
        self._disk = ThreadPoolExecutor(self._disk_threads, thread_name_prefix="claret-disk")
        self._slots = asyncio.Semaphore(self._concurrency)
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._http is not None:
            await self._http.aclose()
            self._http, self._slots = None, None
        if self._disk is not None:
            disk, self._disk = self._disk, None
            await asyncio.to_thread(disk.shutdown)  # abandoned files closed before the client is gone

    @property
    def http(self) -> httpx.AsyncClient:
        if self._http is None:
            raise RuntimeError("ClaretClient used outside `async with`")
        return self._http

    @property
    def slots(self) -> asyncio.Semaphore:
        """Requests in flight, at most one per connection. Waiting here rather than in httpx's pool never
        ends in a PoolTimeout however many jobs wait, and a retry's backoff holds no slot."""
        if self._slots is None:
            raise RuntimeError("ClaretClient used outside `async with`")
        return self._slots

    @property
    def disk(self) -> ThreadPoolExecutor:
        """The threads that write, hash and sync downloads while the event loop reads the sockets."""
        if self._disk is None:
            raise RuntimeError("ClaretClient used outside `async with`")
        return self._disk

    # -- auth -------------------------------------------------------------------------------------------

    async def _mint(self) -> str:
        """A fresh token from email and password; AuthError if Claret refuses them."""
        url = f"{self.api}/tokens/create"

        async def handle(response: httpx.Response) -> str:
            await response.aread()
            if response.status_code in (401, 403, 422):
                raise AuthError(
                    f"Claret refused the email and password for tenant {self.tenant!r}: "
                    f"{claret_message(response)}"
                )
            if response.status_code != 200:
                raise ClaretUnavailableError(f"minting a token failed: {claret_message(response)}", url=url)
            try:
                body = response.json()
            except (ValueError, UnicodeDecodeError):
                raise _Transient("the token answer is not JSON") from None
            token = body.get("token") if isinstance(body, dict) else None
            if not isinstance(token, str) or not token.strip():
                raise ClaretUnavailableError("Claret's token answer holds no token", url=url)
            register_secret(token.strip())
            return token.strip()

        params = {"email": self._email or "", "password": self._password or ""}
        self._mints += 1
        return await self._retrying(
            "minting a token", url, lambda: self._send("POST", url, handle, params=params, auth=False)
        )

    async def _mint_once(self) -> str:
        """Mint, unless the credentials were already refused: a wrong password is tried once per run."""
        if self._refused is not None:
            raise self._refused
        try:
            return await self._mint()
        except AuthError as exc:
            self._refused = exc
            raise

    async def _current_token(self) -> str:
        async with self._auth_lock:
            if self._token is None:
                self._token = await self._mint_once()
                self._minted_by_us, self._token_proven = True, False
            return self._token

    async def _refresh(self, rejected: str) -> str:
        """After a 401: mint again, unless another task already did or a fresh token was refused too."""
        async with self._auth_lock:
            if self._token is not None and self._token != rejected:
                return self._token
            can_mint = bool(self._email and self._password) and self._mints < _MAX_MINTS
            fresh_refused = self._minted_by_us and not self._token_proven
            if not can_mint or fresh_refused:
                raise AuthError(
                    f"Claret refused the token for tenant {self.tenant!r} (HTTP 401)"
                    + ("" if can_mint else "; set CLARET_EMAIL and CLARET_PASSWORD to mint a new one"),
                    hint="Check the tenant, the base URL and the credentials in the environment.",
                )
            log.info("token refused (HTTP 401); minting a new one")
            self._token = await self._mint_once()
            self._minted_by_us, self._token_proven = True, False
            return self._token

    # -- the request core ---------------------------------------------------------------------------------

    async def _send(
        self,
        method: str,
        url: str,
        handle: Callable[[httpx.Response], Awaitable[T]],
        *,
        auth: bool = True,
        **kwargs: Any,
    ) -> T:
        """One attempt: send (re-authenticating once on a 401), classify the answer, let `handle` read it."""
        for _ in range(2):
            headers = dict(kwargs.pop("headers", None) or {})
            token = await self._current_token() if auth else None
            if token is not None:
                headers["Authorization"] = f"Bearer {token}"
            request = self.http.build_request(method, url, headers=headers, **kwargs)
            kwargs["headers"] = {k: v for k, v in headers.items() if k != "Authorization"}
            async with self.slots:  # held while the connection is: a download's fsync comes after
                response = await self.http.send(request, stream=True)
                try:
                    if response.status_code != 401 or token is None:
                        return await self._answer(response, url, token, handle)
                finally:
                    await response.aclose()
            await self._refresh(token)  # with the slot given back, since minting is a request too
        raise AuthError(f"Claret refused a freshly minted token for tenant {self.tenant!r} (HTTP 401)")

    async def _answer(
        self,
        response: httpx.Response,
        url: str,
        token: str | None,
        handle: Callable[[httpx.Response], Awaitable[T]],
    ) -> T:
        """Classify an answer other than a 401: transient, a redirect (a login page), or for `handle`."""
        if token is not None and token == self._token:
            self._token_proven = True
        if response.status_code != 200:
            await response.aread()
        transient = _transient_for(response)
        if transient is not None:
            raise transient
        if 300 <= response.status_code < 400:
            raise ClaretUnavailableError(
                f"Claret answered HTTP {response.status_code} with a redirect instead of JSON "
                "(a login page? check --base-url and --tenant)",
                url=url,
            )
        return await handle(response)

    async def _retrying(
        self,
        what: str,
        url: str,
        attempt: Callable[[], Awaitable[T]],
        *,
        hook: Callable[[Exception], bool | float] = backoff_hook,
    ) -> T:
        """Run `attempt` with stamina's exponential backoff and jitter; Claret's Retry-After wins."""
        try:
            async for retry in stamina.retry_context(
                on=hook, attempts=self._attempts, timeout=None, wait_initial=0.5, wait_max=30.0
            ):
                with retry:
                    return await attempt()
        except _Transient as exc:
            raise ClaretUnavailableError(f"{what} kept failing: {exc.reason}", url=url) from None
        except httpx.TransportError as exc:
            reason = redact(str(exc) or type(exc).__name__)
            raise ClaretUnavailableError(f"{what} failed: {type(exc).__name__}: {reason}", url=url) from None
        raise AssertionError("unreachable: stamina either returns or raises")  # pragma: no cover

    # -- the API ------------------------------------------------------------------------------------------

    async def status(self, job_log_id: int) -> JobStatus:
        """The job's current status; JobNotFoundError (exit 7) at once on Claret's 422 'job not found'."""
        url = f"{self.api}/imports/status/{int(job_log_id)}"

        async def handle(response: httpx.Response) -> JobStatus:
            await response.aread()
            code = response.status_code
            if code == 422 or code == 404:
                detail = claret_message(response)
                if code == 404:
                    detail += " (is the tenant right?)"
                raise JobNotFoundError(f"job {job_log_id}: {detail}", url=url)
            if code == 403:
                raise AuthError(f"job {job_log_id}: Claret forbids this token: {claret_message(response)}")
            if code != 200:
                raise ClaretUnavailableError(
                    f"job {job_log_id}: unexpected HTTP {code}: {claret_message(response)}", url=url
                )
            try:
                body = json.loads(response.content)
            except (ValueError, UnicodeDecodeError):
                kind = response.headers.get("content-type", "no content type")
                raise _Transient(f"the answer is not JSON ({kind})") from None
            return parse_status(body, url=url)

        return await self._retrying(f"job {job_log_id} status", url, lambda: self._send("GET", url, handle))

    async def download(
        self, source: str, dest: Path, *, on_bytes: Callable[[int], None] | None = None
    ) -> ManifestEntry:
        """Stream one artifact to a temp file beside `dest`, check its length, fsync, rename.

        No file ever exists under `dest` unless it is complete. The rename happens after the last await,
        so a caller that records the entry right away (no await between) never loses track of a file
        even when cancelled. The entry's `path` is `dest`'s name and its category is empty: the caller
        knows the job folder and the category.
        """
        url = resolve_source(self.base_url, source)

        async def handle(response: httpx.Response) -> _DurableFile:
            """The body into a temp file; its fsync comes after, once the connection is free for others."""
            code = response.status_code
            if code != 200:
                await response.aread()
                error = ArtifactError if code in (404, 410) else ClaretUnavailableError
                raise error(f"downloading {source!r} failed: HTTP {code}: {claret_message(response)}")
            expected = response.headers.get("Content-Length")
            writer = _DurableFile(dest, self.disk)
            try:
                async for chunk in response.aiter_bytes():
                    await writer.write(chunk)
                    if on_bytes is not None:
                        on_bytes(len(chunk))
                received = response.num_bytes_downloaded
                if expected is not None and expected.isdigit() and received != int(expected):
                    raise _Transient(f"got {received} of {expected} bytes of {source!r}")
            except BaseException:
                writer.abandon()
                uncount(writer)
                raise
            return writer

        def uncount(writer: _DurableFile) -> None:
            if on_bytes is not None and writer.size:
                on_bytes(-writer.size)

        try:
            writer = await self._retrying(
                f"downloading {source!r}",
                url,
                lambda: self._send(
                    "GET", url, handle, headers={"Accept": "*/*", "Accept-Encoding": "identity"}
                ),
            )
            try:
                _replace(await writer.finish(), dest)
            except BaseException:
                uncount(writer)
                raise
        except OSError as exc:
            raise ArtifactError(f"cannot write {dest}: {exc.strerror or exc}", file=str(dest)) from exc
        return ManifestEntry("", source, dest.name, writer.size, writer.digest.hexdigest())

    async def upload_csv(
        self, data: bytes, filename: str, *, allow_record_creation: bool, allow_record_update: bool
    ) -> int:
        """Submit a CSV as a new inventory import and return its job_log_id; retried only when never sent."""
        url = f"{self.api}/inventory/import/process"

        async def handle(response: httpx.Response) -> int:
            await response.aread()
            code = response.status_code
            if code == 422:
                raise UsageError(f"Claret rejected {filename!r}: {claret_message(response)}")
            if code not in (200, 201, 202):
                raise ClaretUnavailableError(
                    f"uploading {filename!r}: unexpected HTTP {code}: {claret_message(response)}", url=url
                )
            try:
                body = response.json()
            except (ValueError, UnicodeDecodeError):
                body = None
            candidates = [body, body.get("content") if isinstance(body, dict) else None]
            for holder in candidates:
                if isinstance(holder, dict):
                    value = holder.get("job_log_id")
                    if isinstance(value, int) and not isinstance(value, bool):
                        return value
                    if isinstance(value, str) and value.isdigit():
                        return int(value)
            raise UploadUnknownError(
                f"uploading {filename!r}: Claret took it (HTTP {code}) but its answer holds no job_log_id",
                url=url,
            )

        form = {
            "allow_record_creation": "1" if allow_record_creation else "0",
            "allow_record_update": "1" if allow_record_update else "0",
        }

        async def attempt() -> int:
            """One upload; a failure after the request may have reached Claret is UploadUnknownError,
            which no hook retries: a 5xx without Retry-After (the job may exist), a connection lost."""
            try:
                files = {"file": (filename, data, "text/csv")}
                return await self._send("POST", url, handle, files=files, data=form)
            except _Transient as exc:
                if exc.retry_after is not None:
                    raise  # Claret asks to come back later: it did not take the file
                raise UploadUnknownError(
                    f"uploading {filename!r}: {exc.reason} from Claret", url=url
                ) from None
            except httpx.TransportError as exc:
                if _connect_only_hook(exc):
                    raise  # never reached Claret: retried
                reason = redact(str(exc) or type(exc).__name__)
                raise UploadUnknownError(
                    f"uploading {filename!r}: no answer ({type(exc).__name__}: {reason})", url=url
                ) from None

        return await self._retrying(f"uploading {filename!r}", url, attempt, hook=_connect_only_hook)
