"""The Claret HTTP client: one shared async connection pool, bearer auth with re-minting, retries, downloads.

It raises the errors of claret_errors.errors (with the URL concerned) and returns typed values; it never
prints, never exits, never follows a redirect, and never puts the token into a message, a log or a file.
"""

from __future__ import annotations

import asyncio
import email.utils
import hashlib
import logging
import os
import ssl
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar
from urllib.parse import quote, urlsplit

import httpx
import stamina

from claret_errors import __version__
from claret_errors.claret.models import JobStatus, ManifestEntry, load_json, parse_status
from claret_errors.claret.urls import resolve_source
from claret_errors.config import MIB, Limits, Settings
from claret_errors.errors import (
    ArtifactError,
    AuthError,
    ClaretUnavailableError,
    ClaretUnreachableError,
    ConfigError,
    JobNotFoundError,
    UploadUnknownError,
    UsageError,
)
from claret_errors.files.atomic import FILE_MODE, fsync_dir
from claret_errors.redact import RedactingFilter, StreamRedactor, printable, redact, register_secret

log = logging.getLogger("claret_errors.claret")
T = TypeVar("T")

USER_AGENT = f"claret-errors/{__version__} (httpx/{httpx.__version__})"
TIMEOUT = httpx.Timeout(connect=10.0, read=60.0, write=60.0, pool=120.0)
RETRY_AFTER_MAX = 300.0  # a longer Retry-After is answered by giving up, not by sleeping for an hour
_MAX_MINTS = 10  # re-mint when a token that worked expires; never loop on a refusing server
# Nothing listening (connection refused, no route, no such host) is rarely cured by waiting a minute:
# a few quick tries, then the error naming the URL, instead of the full backoff.
CONNECT_TRIES = 3
CONNECT_WAIT = 0.25  # seconds between those tries


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


def shown_url(url: str) -> str:
    """A URL for messages: scheme, host, port and path, never user info or a query (secrets go there)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"


def claret_message(response: httpx.Response) -> str:
    """Claret's own explanation from an error body, flattened, bounded and with no control characters."""
    try:
        body = load_json(response.content)
    except (ValueError, ClaretUnavailableError):
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
    return printable(text, 400)


# Headers about the body as it came over the wire, wrong for the unpacked copy `_buffered` makes.
_BODY_HEADERS = frozenset({"content-encoding", "content-length", "transfer-encoding"})


def _encoding(response: httpx.Response) -> str:
    """How the body came packed (what we asked for: identity)."""
    return str(response.headers.get("Content-Encoding", "identity")).strip().lower() or "identity"


def _too_large(url: str, size: int, cap: int) -> ClaretUnavailableError:
    """An answer past the status cap (`[limits] status_mb`)."""
    return ClaretUnavailableError(
        f"Claret's answer is larger than {cap / MIB:g} MiB (at least {size:,} bytes); refused "
        "(limits.status_mb in the config file)",
        url=url,
    )


def _transient_for(response: httpx.Response) -> _Transient | None:
    """5xx and 429 are worth retrying; 429 and 503 carry Retry-After."""
    code = response.status_code
    if code == 429 or code >= 500:
        wait = _retry_after(response.headers.get("Retry-After")) if code in (429, 503) else None
        return _Transient(f"HTTP {code}", wait)
    return None


class _TempFile:
    """A download's body on its way to disk: a temp file beside its final name, hashed as it is written.

    Writes go straight to the page cache from the event loop (a night's files are tens of KB); only the
    fsync, which waits for the disk, leaves the loop.
    """

    def __init__(self, dest: Path) -> None:
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
        self.path = Path(name)
        try:
            os.fchmod(fd, FILE_MODE)  # mkstemp's owner-only mode would hide the files from the team
        except BaseException:
            os.close(fd)
            self.path.unlink(missing_ok=True)
            raise
        self.file = os.fdopen(fd, "wb")
        self.digest = hashlib.sha256()
        self.size = 0

    def write(self, chunk: bytes) -> None:
        self.file.write(chunk)
        self.digest.update(chunk)
        self.size += len(chunk)

    def settle(self) -> None:
        """Every byte on disk, then the file closed: run in a thread, since the fsync waits for the disk."""
        try:
            self.file.flush()
            os.fsync(self.file.fileno())
        finally:
            self.file.close()

    def discard(self) -> None:
        self.file.close()
        self.path.unlink(missing_ok=True)


def trusted_cas(ca_bundle: Path | None) -> ssl.SSLContext:
    """The certificates that HTTPS answers must chain to, loaded once for the client and its proxies.

    The `ca_bundle` setting wins over SSL_CERT_FILE and SSL_CERT_DIR (those may be set for other programs);
    without it httpx decides: SSL_CERT_FILE, else SSL_CERT_DIR, else certifi's bundle.
    """
    if ca_bundle is not None:
        try:
            return ssl.create_default_context(cafile=str(ca_bundle))
        except (OSError, ssl.SSLError) as exc:
            reason = getattr(exc, "strerror", None) or str(exc)
            raise ConfigError(
                f"cannot load the CA bundle: {reason}", file=str(ca_bundle), key="ca_bundle"
            ) from None
    try:
        return httpx.create_ssl_context()
    except (OSError, ssl.SSLError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        where = "SSL_CERT_FILE" if os.environ.get("SSL_CERT_FILE") else "SSL_CERT_DIR"
        raise ConfigError(f"cannot load the CA certificates: {reason}", key=where) from None


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
        self._ca_bundle = settings.ca_bundle
        self._caps: Limits = settings.limits
        self._http: httpx.AsyncClient | None = None
        self._slots: asyncio.Semaphore | None = None  # made in the event loop that uses it
        register_secret(self._token)
        register_secret(self._password)
        _redact_library_logs()

    async def __aenter__(self) -> ClaretClient:
        self._http = httpx.AsyncClient(
            headers={
                "Accept": "application/json",
                # Unpacked bytes only: a small gzip body can unpack to gigabytes. A server that compresses
                # anyway is unpacked within the size caps (see `_buffered` and `download`).
                "Accept-Encoding": "identity",
                "X-Requested-With": "XMLHttpRequest",
                "User-Agent": USER_AGENT,
            },
            timeout=self._timeout,
            limits=self._limits,
            follow_redirects=False,
            verify=trusted_cas(self._ca_bundle),
            trust_env=True,  # HTTP_PROXY, HTTPS_PROXY and NO_PROXY, as every other tool on the machine
            transport=self._transport,
        )
        self._slots = asyncio.Semaphore(self._concurrency)
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._http is not None:
            await self._http.aclose()
            self._http, self._slots = None, None

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
            if response.status_code == 404:
                raise AuthError(
                    f"Claret has no token endpoint for tenant {self.tenant!r} at {shown_url(url)} "
                    "(HTTP 404): the tenant is probably wrong; check --tenant or CLARET_TENANT"
                )
            if response.status_code != 200:
                raise ClaretUnavailableError(f"minting a token failed: {claret_message(response)}", url=url)
            try:
                body = load_json(response.content, url=url)
            except ValueError:
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
        buffer: bool = True,
        **kwargs: Any,
    ) -> T:
        """One attempt: send (re-authenticating once on a 401), classify the answer, let `handle` read it.

        With `buffer` (all but downloads) `handle` gets the answer read whole, within the status cap."""
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
                        return await self._answer(response, url, token, handle, buffer=buffer)
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
        *,
        buffer: bool,
    ) -> T:
        """Classify an answer other than a 401: transient, a redirect (a login page), or for `handle`."""
        if token is not None and token == self._token:
            self._token_proven = True
        if buffer or response.status_code != 200:
            response = await self._buffered(response, url)
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

    async def _buffered(self, response: httpx.Response, url: str) -> httpx.Response:
        """The answer read whole into a new response, unpacked if it came compressed, and refused
        (exit 7) once it passes the status cap: a status answer is a few KB, a gzip bomb gigabytes."""
        cap = self._caps.status_bytes
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > cap:
            raise _too_large(url, int(declared), cap)
        parts: list[bytes] = []
        size = 0
        try:
            async for part in response.aiter_bytes():  # unpacked a network read at a time
                size += len(part)
                if size > cap:
                    raise _too_large(url, size, cap)
                parts.append(part)
        except httpx.DecodingError as exc:
            raise _Transient(f"the answer's {_encoding(response)} encoding is broken: {exc}") from None
        headers = [(k, v) for k, v in response.headers.multi_items() if k.lower() not in _BODY_HEADERS]
        return httpx.Response(
            response.status_code, headers=headers, content=b"".join(parts), request=response.request
        )

    async def _retrying(
        self,
        what: str,
        url: str,
        attempt: Callable[[], Awaitable[T]],
        *,
        hook: Callable[[Exception], bool | float] = backoff_hook,
    ) -> T:
        """Run `attempt` with stamina's exponential backoff and jitter; Claret's Retry-After wins. A host
        that cannot be connected to gets CONNECT_TRIES quick tries."""
        refused = 0

        def verdict(exc: Exception) -> bool | float:
            nonlocal refused
            if isinstance(exc, httpx.ConnectError):
                refused += 1
                return CONNECT_WAIT if refused < CONNECT_TRIES and hook(exc) else False
            return hook(exc)

        try:
            async for retry in stamina.retry_context(
                on=verdict, attempts=self._attempts, timeout=None, wait_initial=0.5, wait_max=30.0
            ):
                with retry:
                    return await attempt()
        except _Transient as exc:
            raise ClaretUnavailableError(f"{what} kept failing: {exc.reason}", url=url) from None
        except httpx.TransportError as exc:
            reason = redact(str(exc) or type(exc).__name__)
            where = redact(shown_url(url))
            kind = ClaretUnreachableError if isinstance(exc, httpx.ConnectError) else ClaretUnavailableError
            raise kind(f"{what} failed at {where}: {type(exc).__name__}: {reason}", url=url) from None
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
                body = load_json(response.content, url=url)
            except ValueError:
                kind = response.headers.get("content-type", "no content type")
                raise _Transient(f"the answer is not JSON ({kind})") from None
            return parse_status(body, url=url)

        return await self._retrying(f"job {job_log_id} status", url, lambda: self._send("GET", url, handle))

    async def download(
        self, source: str, dest: Path, *, on_bytes: Callable[[int], None] | None = None
    ) -> ManifestEntry:
        """Stream one artifact to a temp file beside `dest`, hashing it; check its length, fsync, rename,
        and fsync the folder so that the name is as durable as the bytes. Registered secrets are masked
        on the way (Claret may echo the token into a file), so the hash is of the file as kept.

        Bounded by `[limits]`: more than `file_bytes` (after unpacking, if Claret compressed it anyway)
        is refused with ArtifactError (exit 8); a download that passes `download_seconds`, retries
        included, or gets fewer than `min_rate` bytes a second over a `rate_window`, gives up with
        ClaretUnavailableError (exit 7) naming the URL.

        No file ever exists under `dest` unless it is complete. The rename happens after the last await,
        so a caller that records the entry right away (no await between) never loses track of a file
        even when cancelled. The entry's `path` is `dest`'s name and its category is empty: the caller
        knows the job folder and the category.
        """
        url = resolve_source(self.base_url, source)

        def uncount(temp: _TempFile) -> None:
            if on_bytes is not None and temp.size:
                on_bytes(-temp.size)

        cap = self._caps.file_bytes

        def too_large(size: int) -> ArtifactError:
            return ArtifactError(
                f"downloading {url}: larger than {cap / MIB:g} MiB (at least {size:,} bytes); refused "
                "(limits.file_mb in the config file)"
            )

        async def handle(response: httpx.Response) -> _TempFile:
            """The body into a temp file; its fsync comes after, once the connection is free for others."""
            code = response.status_code
            if code != 200:
                error = ArtifactError if code in (404, 410) else ClaretUnavailableError
                raise error(f"downloading {source!r} failed: HTTP {code}: {claret_message(response)}")
            expected = response.headers.get("Content-Length", "")
            if _encoding(response) == "identity" and expected.isdigit() and int(expected) > cap:
                raise too_large(int(expected))
            temp = _TempFile(dest)
            masked = StreamRedactor()
            try:
                async for chunk in self._paced(response.aiter_bytes(), url):
                    if temp.size + len(chunk) > cap:
                        raise too_large(temp.size + len(chunk))
                    temp.write(masked.feed(chunk))
                    if on_bytes is not None:
                        on_bytes(len(chunk))
                temp.write(masked.flush())
                received = response.num_bytes_downloaded
                if expected.isdigit() and received != int(expected):
                    raise _Transient(f"got {received} of {expected} bytes of {source!r}")
            except httpx.DecodingError as exc:
                temp.discard()
                uncount(temp)
                raise _Transient(f"{source!r}: its {_encoding(response)} encoding is broken: {exc}") from None
            except BaseException:
                temp.discard()
                uncount(temp)
                raise
            return temp

        seconds = self._caps.download_seconds
        try:
            try:
                async with asyncio.timeout(seconds):  # every attempt and wait, headers included
                    temp = await self._retrying(
                        f"downloading {source!r}",
                        url,
                        lambda: self._send("GET", url, handle, buffer=False, headers={"Accept": "*/*"}),
                    )
            except TimeoutError:
                raise ClaretUnavailableError(
                    f"downloading {url} took longer than {seconds:g} s; gave up "
                    "(limits.download_seconds in the config file)",
                    url=url,
                ) from None
            try:
                # A cancel leaves the thread to finish its fsync and close; the name goes at once.
                await asyncio.to_thread(temp.settle)
                temp.path.replace(dest)
            except BaseException:
                temp.path.unlink(missing_ok=True)
                uncount(temp)
                raise
            fsync_dir(dest.parent)
        except OSError as exc:
            raise ArtifactError(f"cannot write {dest}: {exc.strerror or exc}", file=str(dest)) from exc
        return ManifestEntry("", source, dest.name, temp.size, temp.digest.hexdigest())

    async def _paced(self, chunks: AsyncIterator[bytes], url: str) -> AsyncIterator[bytes]:
        """The body's pieces, as long as each `rate_window` brings `min_rate` bytes a second: a body that
        trickles (a byte every 2 s keeps every read timeout happy) gives up at the end of its window."""
        loop = asyncio.get_running_loop()
        window, wanted = self._caps.rate_window, self._caps.min_rate * self._caps.rate_window
        window_end, got = loop.time() + window, 0
        pieces = aiter(chunks)
        while True:
            try:
                # Interrupted only when the window would fail: a read cut short cannot be resumed.
                async with asyncio.timeout_at(window_end if got < wanted else None):
                    chunk = await anext(pieces)
            except StopAsyncIteration:
                return
            except TimeoutError:
                rate = self._caps.min_rate
                raise ClaretUnavailableError(
                    f"downloading {url}: {got:,} bytes in {window:g} s, below {rate:,} bytes a second; "
                    "gave up (limits.min_rate_kb in the config file)",
                    url=url,
                ) from None
            got += len(chunk)
            if loop.time() >= window_end:
                window_end, got = loop.time() + window, 0
            yield chunk

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
                body = load_json(response.content, url=url)
            except (ValueError, ClaretUnavailableError):  # not JSON, or nested too deep: no id to read
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
