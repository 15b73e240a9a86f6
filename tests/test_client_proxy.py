"""The client on a company network: a real forwarding proxy on loopback (proxy.py) and a company CA bundle
(a throwaway CA from trustme, a TLS server on loopback), through the environment and the config key."""

from __future__ import annotations

import asyncio
import re
import shutil
import ssl
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import stamina
import trustme
from scripted import Reply, Scripted, scripted_server, status_body

from claret_errors.claret.client import ClaretClient
from claret_errors.claret.models import JobStatus
from claret_errors.config import Settings, load_settings
from claret_errors.errors import ClaretUnavailableError, ConfigError
from claret_errors.fetch import fetch
from claret_errors.simulator import Simulator, make_nightly_csv

PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")
PROXY_COMMAND = (sys.executable, "-m", "proxy", "--hostname", "127.0.0.1", "--port", "0")
STATUS = "/demo/api/v1/imports/status/12"
OPENSSL = shutil.which("openssl")  # hashes a CA folder as SSL_CERT_DIR wants it


@pytest.fixture(autouse=True)
def clean_network_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test sets the variables it is about; none leaks in from the machine running the suite."""
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


class ForwardProxy:
    """proxy.py in a process of its own; its log lines are collected as they come, one per connection it
    closed (its access log: `client - METHOD host:port/path - status`)."""

    def __init__(self) -> None:
        self._process = subprocess.Popen(
            [*PROXY_COMMAND, "--num-workers", "1", "--num-acceptors", "1", "--log-level", "DEBUG"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self._lines: list[str] = []
        self._changed = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        listening = self.wait_for(lambda line: "Listening on 127.0.0.1:" in line)
        self.url = "http://" + listening.rsplit("Listening on ", 1)[1].strip()

    def _read(self) -> None:
        assert self._process.stderr is not None
        for line in self._process.stderr:
            with self._changed:
                self._lines.append(line)
                self._changed.notify_all()
        with self._changed:
            self._lines.append("")  # the end: no more lines will come
            self._changed.notify_all()

    def wait_for(self, wanted: object) -> str:
        """The first line `wanted` accepts, once it has been logged; fails if the proxy ends first."""
        assert callable(wanted)
        with self._changed:
            found = self._changed.wait_for(
                lambda: next((x for x in self._lines if x == "" or wanted(x)), None), timeout=60
            )
        assert found, f"proxy.py never logged the line waited for; it said: {''.join(self._lines)[-2000:]}"
        return str(found)

    @staticmethod
    def is_access_to(line: str, host_port: str) -> bool:
        """Whether `line` is the access-log line of a request forwarded to `host_port`."""
        return re.search(rf" - [A-Z]+ {re.escape(host_port)}/\S* - \d+", line) is not None

    def forwarded(self, host_port: str) -> list[str]:
        """The access-log lines of requests forwarded to `host_port`."""
        with self._changed:
            return [line for line in self._lines if self.is_access_to(line, host_port)]

    def close(self) -> None:
        self._process.terminate()
        self._process.wait(timeout=30)
        self._reader.join(timeout=30)


@pytest.fixture
def forward_proxy() -> Iterator[ForwardProxy]:
    proxy = ForwardProxy()
    try:
        yield proxy
    finally:
        proxy.close()


def fetch_one(sim: Simulator, out: Path) -> int:
    """Submit a small job and fetch it as the CLI does; the fetch's exit code."""
    job = str(sim.submit_csv(make_nightly_csv(20, seed=1)))
    settings = Settings(
        tenant=sim.tenant, base_url=sim.base_url, email=sim.email, password=sim.password, out=out,
        poll_interval=0.01, max_wait=30.0,
    )  # fmt: skip
    [outcome] = fetch([job], settings)
    assert outcome.exit_code == 0, outcome.error
    return len(outcome.files)


def test_fetch_goes_through_the_proxy_that_http_proxy_names(
    forward_proxy: ForwardProxy, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A company network lets traffic out only through its proxy: polls and downloads must go there."""
    monkeypatch.setenv("HTTP_PROXY", forward_proxy.url)
    with Simulator() as sim:
        host_port = sim.base_url.removeprefix("http://")
        assert fetch_one(sim, tmp_path) == 4
        forward_proxy.wait_for(lambda line: forward_proxy.is_access_to(line, host_port))
    assert forward_proxy.forwarded(host_port)


def test_fetch_goes_direct_when_no_proxy_covers_claret(
    forward_proxy: ForwardProxy, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """NO_PROXY is how a runner reaches an internal host past the proxy: nothing of the fetch goes there.
    A request of the test's own through the proxy, after the fetch, shows the proxy's log is up to date."""
    monkeypatch.setenv("HTTP_PROXY", forward_proxy.url)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    with Simulator() as sim:
        host_port = sim.base_url.removeprefix("http://")
        assert fetch_one(sim, tmp_path) == 4
        httpx.get(f"{sim.base_url}/marker-after-the-fetch", proxy=forward_proxy.url, trust_env=False)
        forward_proxy.wait_for(
            lambda line: forward_proxy.is_access_to(line, host_port) and "/marker-after-the-fetch" in line
        )
    assert [line for line in forward_proxy.forwarded(host_port) if "/marker-" not in line] == []


@pytest.fixture
def tls_server(ca: trustme.CA) -> Iterator[Scripted]:
    """A scripted Claret over HTTPS on loopback, its certificate signed by the throwaway company CA."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    with scripted_server(tls=context) as script:
        script.on("GET", STATUS, Reply(body=status_body(12, "pending", {})))
        yield script


def poll_once(server: Scripted, ca_bundle: Path | None = None) -> JobStatus:
    async def go() -> JobStatus:
        settings = Settings(
            tenant="demo", base_url=server.base_url, token="tok-abcdefgh1234", ca_bundle=ca_bundle
        )
        async with ClaretClient(settings) as client:
            return await client.status(12)

    with stamina.set_testing(True, attempts=1):
        return asyncio.run(go())


def test_the_ca_bundle_setting_is_trusted_over_ssl_cert_file(
    tls_server: Scripted, ca: trustme.CA, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A company CA in the config file works even where SSL_CERT_FILE names the public bundle alone."""
    bundle = tmp_path / "company-ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    public = tmp_path / "public.pem"
    trustme.CA().cert_pem.write_to_path(str(public))  # a bundle without the company CA
    monkeypatch.setenv("SSL_CERT_FILE", str(public))
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    with pytest.raises(ClaretUnavailableError, match=r"CERTIFICATE_VERIFY_FAILED|certificate verify failed"):
        poll_once(tls_server)
    assert poll_once(tls_server, ca_bundle=bundle).status == "pending"


def test_ssl_cert_file_is_honoured_without_the_setting(
    tls_server: Scripted, ca: trustme.CA, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The standard variable is enough for a runner whose whole machine trusts the company CA."""
    bundle = tmp_path / "company-ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    monkeypatch.setenv("SSL_CERT_FILE", str(bundle))
    assert poll_once(tls_server).status == "pending"


@pytest.mark.skipif(OPENSSL is None, reason="needs the openssl command to hash the folder")
def test_ssl_cert_dir_is_honoured_without_the_setting(
    tls_server: Scripted, ca: trustme.CA, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A machine whose CAs sit in a hashed folder (SSL_CERT_DIR) reaches a server they sign, and only that:
    the same folder without the company CA is refused."""
    folder = tmp_path / "certs"
    folder.mkdir()
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.setenv("SSL_CERT_DIR", str(folder))
    trustme.CA().cert_pem.write_to_path(str(folder / "other.pem"))  # a CA that did not sign the server
    subprocess.run([str(OPENSSL), "rehash", str(folder)], check=True, capture_output=True)
    with pytest.raises(ClaretUnavailableError, match=r"CERTIFICATE_VERIFY_FAILED|certificate verify failed"):
        poll_once(tls_server)
    ca.cert_pem.write_to_path(str(folder / "company-ca.pem"))
    subprocess.run([str(OPENSSL), "rehash", str(folder)], check=True, capture_output=True)
    assert poll_once(tls_server).status == "pending"


def test_a_ca_bundle_that_cannot_be_read_is_a_config_error_naming_it(tmp_path: Path) -> None:
    """A wrong path is the user's to fix (exit 2, the file named), not a failed TLS handshake later."""
    missing = tmp_path / "nowhere.pem"
    with pytest.raises(ConfigError, match=r"nowhere\.pem") as info:
        poll_once(Scripted(), ca_bundle=missing)
    assert info.value.key == "ca_bundle"


def test_the_ca_bundle_key_is_read_from_the_config_file_beside_it(tmp_path: Path) -> None:
    """A relative path in claret-errors.toml means beside that file, as for every other path key."""
    (tmp_path / "claret-errors.toml").write_text('ca_bundle = "certs/company-ca.pem"\n')
    settings = load_settings({}, env={}, cwd=tmp_path)
    assert settings.ca_bundle == tmp_path / "certs" / "company-ca.pem"
    assert load_settings({}, env={"CLARET_CA_BUNDLE": "/etc/ca.pem"}, cwd=tmp_path).ca_bundle == Path(
        "/etc/ca.pem"
    )
