"""The Claret client over a real loopback socket: headers, token minting, retries, atomic downloads."""

from __future__ import annotations

import asyncio
import hashlib
import json
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import stamina
from scripted import TOKEN, Reply, Scripted, scripted_server, status_body

from claret_errors import __version__
from claret_errors.claret import client as client_module
from claret_errors.claret.client import ClaretClient, _Transient, backoff_hook
from claret_errors.claret.models import ManifestEntry
from claret_errors.config import Settings
from claret_errors.errors import (
    ArtifactError,
    AuthError,
    ClaretUnavailableError,
    ConfigError,
    ExitCode,
    JobNotFoundError,
)
from claret_errors.files.atomic import FILE_MODE

STATUS = "/demo/api/v1/imports/status/12"
MINT = "/demo/api/v1/tokens/create"


# Every test here retries without sleeping (conftest's `no_backoff`); `server` is conftest's too.
pytestmark = pytest.mark.usefixtures("no_backoff")


def settings_for(server: Scripted, **overrides: object) -> Settings:
    values: dict[str, object] = {"tenant": "demo", "base_url": server.base_url, "token": TOKEN}
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


def status_of(settings: Settings, job: int = 12) -> object:
    async def go() -> object:
        async with ClaretClient(settings) as client:
            return await client.status(job)

    return asyncio.run(go())


def test_every_call_carries_auth_ajax_json_and_user_agent_headers(server: Scripted) -> None:
    """Without X-Requested-With Claret answers an expired token with an HTML login page instead of a 401."""
    server.on("GET", STATUS, Reply(body=status_body(12, "pending", {})))
    status_of(settings_for(server))
    headers = server.requests(STATUS)[0].headers
    assert headers["authorization"] == f"Bearer {TOKEN}"
    assert headers["x-requested-with"] == "XMLHttpRequest"
    assert headers["accept"] == "application/json"
    assert headers["user-agent"].startswith(f"claret-errors/{__version__}")


def test_token_is_minted_from_email_and_password_when_none_is_given(server: Scripted) -> None:
    """CLARET_EMAIL + CLARET_PASSWORD is the documented way to get a token; it is minted once and reused."""
    server.on("POST", MINT, Reply(body={"token": TOKEN}))
    server.on("GET", STATUS, Reply(body=status_body(12, "pending", {})))
    settings = settings_for(server, token=None, email="ops@example.com", password="s3cret-pass")

    async def go() -> None:
        async with ClaretClient(settings) as client:
            await client.status(12)
            await client.status(12)

    asyncio.run(go())
    mint = server.requests(MINT)
    assert len(mint) == 1 and mint[0].query == {"email": ["ops@example.com"], "password": ["s3cret-pass"]}
    assert all(s.headers["authorization"] == f"Bearer {TOKEN}" for s in server.requests(STATUS))


def test_expired_token_is_minted_again_once_then_the_call_succeeds(server: Scripted) -> None:
    """A token that worked and then expires must not kill a long wait: mint a new one and carry on."""
    fresh = "8|NewTokenNewTokenNewToken0123456789"
    server.on("POST", MINT, Reply(body={"token": TOKEN}), Reply(body={"token": fresh}))
    ok = Reply(body=status_body(12, "pending", {}))
    server.dynamic(
        "GET",
        STATUS,
        lambda seen: (
            ok
            if seen.headers["authorization"].endswith(fresh) or len(server.requests(STATUS)) == 1
            else Reply(401, {"message": "Unauthenticated."})
        ),
    )
    settings = settings_for(server, token=None, email="ops@example.com", password="pw-pw-pw")

    async def go() -> None:
        async with ClaretClient(settings) as client:
            await client.status(12)
            await client.status(12)

    asyncio.run(go())
    assert len(server.requests(MINT)) == 2
    assert server.requests(STATUS)[-1].headers["authorization"] == f"Bearer {fresh}"


def test_refused_fresh_token_gives_up_with_exit_six_and_no_token_in_message(server: Scripted) -> None:
    """Minting again once is the contract; a second refusal is an auth error, not a retry loop."""
    server.on("POST", MINT, Reply(body={"token": TOKEN}))
    server.on("GET", STATUS, Reply(401, {"message": "Unauthenticated."}))
    settings = settings_for(server, token=None, email="ops@example.com", password="pw-pw-pw")
    with pytest.raises(AuthError) as info:
        status_of(settings)
    assert info.value.exit_code == ExitCode.AUTH
    assert TOKEN not in str(info.value) and "pw-pw-pw" not in str(info.value)
    assert len(server.requests(MINT)) == 1 and len(server.requests(STATUS)) == 1


def test_given_token_refused_without_password_is_exit_six(server: Scripted) -> None:
    """With only CLARET_TOKEN there is nothing to mint from: say so instead of retrying."""
    server.on("GET", STATUS, Reply(401, {"message": "Unauthenticated."}))
    with pytest.raises(AuthError, match="CLARET_EMAIL"):
        status_of(settings_for(server))


def test_wrong_password_is_exit_six_with_claret_message(server: Scripted) -> None:
    """A refused login is a configuration problem for the user, reported once, never retried."""
    server.on("POST", MINT, Reply(401, {"message": "Invalid credentials."}))
    with pytest.raises(AuthError, match="Invalid credentials"):
        status_of(settings_for(server, token=None, email="a@b.c", password="wrong-pass"))
    assert len(server.requests(MINT)) == 1


def test_refused_password_is_tried_once_for_many_jobs(server: Scripted) -> None:
    """Two hundred jobs must not mean two hundred login attempts with a wrong password (account lockout)."""
    server.on("POST", MINT, Reply(401, {"message": "Invalid credentials."}))
    settings = settings_for(server, token=None, email="a@b.c", password="wrong-pass")

    async def go() -> list[BaseException | object]:
        async with ClaretClient(settings) as client:
            return await asyncio.gather(*(client.status(12) for _ in range(20)), return_exceptions=True)

    results = asyncio.run(go())
    assert all(isinstance(r, AuthError) for r in results)
    assert len(server.requests(MINT)) == 1


def test_job_not_found_is_final_at_once_with_claret_message(server: Scripted) -> None:
    """A 422 'job not found' will not change by retrying: exit 7 with Claret's own words, one request."""
    server.on(
        "GET",
        "/demo/api/v1/imports/status/99",
        Reply(
            422,
            {
                "message": "Job not found or you do not have access to this job.",
                "error": {"error": "Job log ID does not exist"},
            },
        ),
    )
    with pytest.raises(JobNotFoundError) as info:
        status_of(settings_for(server), 99)
    assert info.value.exit_code == ExitCode.UNAVAILABLE
    assert "Job not found or you do not have access to this job." in str(info.value)
    assert "Job log ID does not exist" in str(info.value)
    assert len(server.requests("/status/99")) == 1


def test_server_errors_are_retried_then_succeed(server: Scripted) -> None:
    """A 500 or a 503 is Claret having a bad moment; the next attempt usually works."""
    server.on(
        "GET",
        STATUS,
        Reply(500, {"message": "Server Error"}),
        Reply(503, {"message": "busy"}, headers={"Retry-After": "0"}),
        Reply(body=status_body(12, "completed", {})),
    )
    status = status_of(settings_for(server))
    assert getattr(status, "status", None) == "completed"
    assert len(server.requests(STATUS)) == 3


def test_read_timeout_is_retried(server: Scripted) -> None:
    """A Claret that hangs once must cost one timeout, not the job."""
    server.on(
        "GET",
        STATUS,
        Reply(body=status_body(12, "pending", {}), delay=1.0),
        Reply(body=status_body(12, "failed", {})),
    )

    async def go() -> object:
        timeout = httpx.Timeout(connect=1.0, read=0.2, write=1.0, pool=1.0)
        async with ClaretClient(settings_for(server), timeout=timeout) as client:
            return await client.status(12)

    assert getattr(asyncio.run(go()), "status", None) == "failed"
    assert len(server.requests(STATUS)) == 2


def test_server_errors_that_persist_become_exit_seven_naming_the_url(server: Scripted) -> None:
    """After the retries run out the user needs the URL and the last problem, not a traceback."""
    server.on("GET", STATUS, Reply(502, b"bad gateway"))
    with pytest.raises(ClaretUnavailableError) as info:
        status_of(settings_for(server))
    assert info.value.exit_code == ExitCode.UNAVAILABLE
    assert "HTTP 502" in str(info.value) and info.value.url == server.base_url + STATUS
    assert len(server.requests(STATUS)) == 3


def test_unreachable_claret_is_exit_seven() -> None:
    """A closed port is 'Claret unreachable', exit 7, with the URL."""
    settings = Settings(tenant="demo", base_url="http://127.0.0.1:9", token=TOKEN)
    with pytest.raises(ClaretUnavailableError) as info:
        status_of(settings)
    assert "ConnectError" in str(info.value) and info.value.url is not None


def test_nothing_listening_gets_a_few_quick_tries_and_an_error_naming_the_url() -> None:
    """A port where nothing listens is not retried with the full backoff (a minute on main); the error
    names the URL it could not reach, without the token."""
    from stamina.instrumentation import RetryDetails, get_on_retry_hooks, set_on_retry_hooks

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again at once: nothing listens there
    retries: list[RetryDetails] = []
    before = get_on_retry_hooks()
    set_on_retry_hooks([retries.append])
    try:
        with stamina.set_testing(True, attempts=10), pytest.raises(ClaretUnavailableError) as info:
            status_of(Settings(tenant="demo", base_url=f"http://127.0.0.1:{port}", token=TOKEN))
    finally:
        set_on_retry_hooks(before)
    assert len(retries) == client_module.CONNECT_TRIES - 1
    assert f"http://127.0.0.1:{port}/demo/api/v1/imports/status/12" in str(info.value)
    assert TOKEN not in str(info.value)


def test_a_404_on_minting_a_token_says_the_tenant_is_probably_wrong(server: Scripted) -> None:
    """Claret answers 404 for a tenant it does not have: a configuration problem, said once, not retried."""
    settings = settings_for(server, tenant="nosuch", token=None, email="a@b.c", password="pw-pw-pw")
    with pytest.raises(AuthError, match="tenant is probably wrong") as info:
        status_of(settings)
    assert "'nosuch'" in str(info.value) and "pw-pw-pw" not in str(info.value)
    assert len(server.requests("/nosuch/api/v1/tokens/create")) == 1


def test_retry_after_is_what_the_retry_waits_on_429_and_503() -> None:
    """Claret says how long to back off; waiting less gets us throttled again, waiting far more gives up."""
    assert backoff_hook(_Transient("HTTP 429", 7.0)) == 7.0
    assert backoff_hook(_Transient("HTTP 500")) is True
    assert backoff_hook(_Transient("HTTP 429", 3600.0)) is False
    assert backoff_hook(httpx.ReadTimeout("slow")) is True
    assert backoff_hook(ValueError("bug")) is False


def test_rate_limit_is_retried_and_obeyed(server: Scripted) -> None:
    """A 429 with Retry-After is not an error: the call succeeds after Claret's pause."""
    server.on(
        "GET",
        STATUS,
        Reply(429, {"message": "Too Many Attempts."}, headers={"Retry-After": "0"}),
        Reply(body=status_body(12, "in_progress", {})),
    )
    assert getattr(status_of(settings_for(server)), "status", None) == "in_progress"


def test_html_login_page_instead_of_json_is_named_not_crashed(server: Scripted) -> None:
    """A proxy or a missing header can turn JSON into HTML; the error must say what came back."""
    server.on("GET", STATUS, Reply(200, b"<html>login</html>", headers={"Content-Type": "text/html"}))
    with pytest.raises(ClaretUnavailableError, match="not JSON"):
        status_of(settings_for(server))


def test_missing_tenant_or_credentials_is_a_config_error() -> None:
    """Exit 2 with a clear message beats a 404 from a URL with an empty tenant."""
    with pytest.raises(ConfigError, match="tenant"):
        ClaretClient(Settings(token=TOKEN))
    with pytest.raises(ConfigError, match="CLARET_TOKEN"):
        ClaretClient(Settings(tenant="demo"))


def download(settings: Settings, source: str, dest: Path) -> ManifestEntry:
    async def go() -> ManifestEntry:
        async with ClaretClient(settings) as client:
            return await client.download(source, dest)

    return asyncio.run(go())


def test_download_lands_complete_with_size_and_sha256(server: Scripted, tmp_path: Path) -> None:
    """The manifest entry must describe exactly the bytes on disk."""
    data = b"item_name,bin_name\n" * 5000
    server.on("GET", "/demo/download/e.csv", Reply(body=data, headers={"Content-Type": "text/csv"}))
    dest = tmp_path / "a" / "e.csv"
    entry = download(settings_for(server), "/demo/download/e.csv", dest)
    assert dest.read_bytes() == data
    assert getattr(entry, "bytes", None) == len(data)
    assert getattr(entry, "sha256", None) == hashlib.sha256(data).hexdigest()
    assert server.requests("/download/")[0].headers["authorization"] == f"Bearer {TOKEN}"
    assert sorted(p.name for p in dest.parent.iterdir()) == ["e.csv"]
    assert dest.stat().st_mode & 0o777 == FILE_MODE  # the umask's mode, not mkstemp's owner-only one


def test_cut_download_is_retried_and_never_left_under_its_name(server: Scripted, tmp_path: Path) -> None:
    """A connection cut mid-body must not leave a short file that a rerun would trust."""
    data = b"x" * 100_000
    server.on("GET", "/demo/download/e.csv", Reply(body=data[:1000], length=len(data)), Reply(body=data))
    dest = tmp_path / "e.csv"
    download(settings_for(server), "/demo/download/e.csv", dest)
    assert dest.read_bytes() == data
    assert [p.name for p in tmp_path.iterdir()] == ["e.csv"]


def test_download_that_keeps_being_cut_fails_without_any_file(server: Scripted, tmp_path: Path) -> None:
    """When every attempt is short, nothing exists under the final name and no temp file is left."""
    server.on("GET", "/demo/download/e.csv", Reply(body=b"abc", length=5000))
    dest = tmp_path / "e.csv"
    with pytest.raises(ClaretUnavailableError):
        download(settings_for(server), "/demo/download/e.csv", dest)
    assert list(tmp_path.iterdir()) == []


def big_body(size: int) -> bytes:
    """Bytes that differ along the file, so a batch written twice or out of order changes the hash."""
    block = b"".join(i.to_bytes(4, "big") for i in range(1 << 14))
    return (block * (size // len(block) + 1))[:size]


def test_large_download_lands_complete_with_size_and_sha256(server: Scripted, tmp_path: Path) -> None:
    """A file of several MB (far more than one socket read) arrives whole, in order, hashed, under its name
    alone."""
    data = big_body(9 * 1024 * 1024 + 12345)
    server.on("GET", "/demo/download/big.csv", Reply(body=data, headers={"Content-Type": "text/csv"}))
    dest = tmp_path / "big.csv"
    entry = download(settings_for(server), "/demo/download/big.csv", dest)
    assert dest.read_bytes() == data
    assert (entry.bytes, entry.sha256) == (len(data), hashlib.sha256(data).hexdigest())
    assert [p.name for p in tmp_path.iterdir()] == ["big.csv"]


def test_large_download_cut_midway_fails_without_any_file(server: Scripted, tmp_path: Path) -> None:
    """Cut after megabytes were written to the temp file: no temp file and nothing under the name."""
    data = big_body(6 * 1024 * 1024)
    server.on("GET", "/demo/download/big.csv", Reply(body=data[: 4 * 1024 * 1024], length=len(data)))
    with pytest.raises(ClaretUnavailableError):
        download(settings_for(server), "/demo/download/big.csv", tmp_path / "big.csv")
    assert list(tmp_path.iterdir()) == []


def test_cancel_during_a_large_download_leaves_no_file(server: Scripted, tmp_path: Path) -> None:
    """Ctrl-C while the body is being written: the temp file goes, nothing appears under the name."""
    data = big_body(8 * 1024 * 1024)
    server.on("GET", "/demo/download/big.csv", Reply(body=data))

    async def go() -> None:
        task = asyncio.current_task()
        assert task is not None
        seen = [0]

        def on_bytes(count: int) -> None:
            seen[0] += count
            if seen[0] >= 3 * 1024 * 1024:
                task.cancel()

        async with ClaretClient(settings_for(server)) as client:
            await client.download("/demo/download/big.csv", tmp_path / "big.csv", on_bytes=on_bytes)

    with pytest.raises(asyncio.CancelledError):
        asyncio.run(go())
    assert list(tmp_path.iterdir()) == []


def test_a_rename_that_fails_leaves_no_temp_file(server: Scripted, tmp_path: Path) -> None:
    """A folder already holds the name: the download fails as an artifact error, and nothing is left."""
    server.on("GET", "/demo/download/e.csv", Reply(body=b"a,b\n1,2\n"))
    (tmp_path / "e.csv").mkdir()
    with pytest.raises(ArtifactError, match="cannot write"):
        download(settings_for(server), "/demo/download/e.csv", tmp_path / "e.csv")
    assert [p.name for p in tmp_path.iterdir()] == ["e.csv"] and (tmp_path / "e.csv").is_dir()


class SlowDisk:
    """A download's fsync that waits until the test lets it go: a busy disk, played on purpose. Everything
    else (sockets, files, the rename) is real."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.syncing = threading.Event()
        self.release = threading.Event()
        real = client_module._TempFile.settle

        def settle(temp: client_module._TempFile) -> None:
            self.syncing.set()
            self.release.wait(timeout=60)
            real(temp)

        monkeypatch.setattr(client_module._TempFile, "settle", settle)

    async def synced(self) -> None:
        """Until a download is in its fsync."""
        await asyncio.to_thread(self.syncing.wait, 60)


def test_a_downloads_final_fsync_holds_no_request_slot(
    server: Scripted, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With one slot, a status poll is answered while a download waits for a slow disk's fsync: the slot
    goes back once the body is in, not once the file is durable. Were the slot held, the poll would wait
    for the fsync, which waits for the poll, until the minute-long safety valve opens."""
    server.on("GET", "/demo/download/e.csv", Reply(body=b"a,b\n1,2\n"))
    server.on("GET", STATUS, Reply(body=status_body(12, "pending", {})))
    disk = SlowDisk(monkeypatch)
    order: list[str] = []

    async def go() -> None:
        async with ClaretClient(settings_for(server, concurrency=1)) as client:

            async def download() -> None:
                await client.download("/demo/download/e.csv", tmp_path / "e.csv")
                order.append("downloaded")

            async def poll() -> None:
                await disk.synced()
                await client.status(12)
                order.append("polled")
                disk.release.set()

            await asyncio.gather(download(), poll())

    asyncio.run(go())
    assert order == ["polled", "downloaded"]
    assert (tmp_path / "e.csv").read_bytes() == b"a,b\n1,2\n"


def test_cancel_during_the_final_fsync_leaves_no_file(
    server: Scripted, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C while the disk syncs a complete body: the temp file goes and nothing lands under the name,
    even though the fsync itself runs to its end."""
    server.on("GET", "/demo/download/e.csv", Reply(body=b"a,b\n1,2\n"))
    disk = SlowDisk(monkeypatch)

    async def go() -> None:
        async with ClaretClient(settings_for(server)) as client:
            task = asyncio.ensure_future(client.download("/demo/download/e.csv", tmp_path / "e.csv"))
            await disk.synced()
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
        disk.release.set()

    asyncio.run(go())
    assert list(tmp_path.iterdir()) == []


def test_off_origin_download_is_refused_without_contacting_anyone(server: Scripted, tmp_path: Path) -> None:
    """The token must never travel to a host Claret's answer names: refused before a request exists."""
    with scripted_server() as evil:
        evil.on("GET", "/steal.csv", Reply(body=b"gotcha"))
        with pytest.raises(Exception, match="refused") as info:
            download(settings_for(server), evil.base_url + "/steal.csv", tmp_path / "x.csv")
        assert evil.requests() == [] and server.requests() == []
    assert info.value.__class__.__name__ == "UnsafeSourceError"
    assert TOKEN not in str(info.value)
    assert list(tmp_path.iterdir()) == []


@pytest.fixture
def closing_server() -> Iterator[tuple[str, threading.Event]]:
    """Answers one request per connection with keep-alive promised, then hangs up while the client idles,
    as a proxy with a short idle timeout does. Yields the base URL and an event set at each hang-up."""
    listener = socket.create_server(("127.0.0.1", 0))
    hung_up = threading.Event()
    body = json.dumps(status_body(12, "pending", {})).encode()

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
                head = f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {len(body)}"
                conn.sendall(head.encode() + b"\r\n\r\n" + body)
            hung_up.set()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}", hung_up
    finally:
        listener.close()


def test_a_connection_the_server_closed_while_idle_is_not_reused(
    closing_server: tuple[str, threading.Event],
) -> None:
    """Without retries, the second poll succeeds only if the pool saw that the first connection was closed."""
    base_url, hung_up = closing_server

    async def go() -> None:
        async with ClaretClient(Settings(tenant="demo", base_url=base_url, token=TOKEN)) as client:
            await client.status(12)
            await asyncio.to_thread(hung_up.wait, 60)
            await client.status(12)

    with stamina.set_testing(True, attempts=1):
        asyncio.run(go())
