"""Notification against real servers on loopback: an SMTP server (aiosmtpd) with STARTTLS on a self-signed
certificate and a login, an implicit-TLS one, one that hangs, and a chat webhook receiver."""

from __future__ import annotations

import email
import email.policy
import html
import io
import json
import re
import shutil
import socket
import ssl
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cli_rounds import FIXES, common, csv_rows, edit, fixable
from plain_jobs import plain_job

from claret_errors.cli import main
from claret_errors.config import Settings, load_settings
from claret_errors.demo import demo
from claret_errors.errors import ConfigError, ExitCode
from claret_errors.fix.worksheet import SHEET
from claret_errors.notify.deliver import notify
from claret_errors.pipeline import analyze_job
from claret_errors.reconcile.advice import GUESSED
from claret_errors.simulator import Simulator, make_nightly_csv
from claret_errors.simulator.scenario import FaultRule, Scenario

PASSWORD = "smtp-pass-Zq81xw"  # must never appear in any file or output
USER = "robot"
MESSAGES = 5  # the demo routes rows to four owners (the example owners file), plus the digest


@pytest.fixture(scope="module")
def night(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo's whole night (three imports, their resubmissions), analysed once for the module."""
    out = tmp_path_factory.mktemp("night")
    demo(out)
    return out / "demo"


@pytest.fixture
def run_folder(night: Path, tmp_path: Path) -> Path:
    """A private copy of the night, so each test has its own ledger and messages."""
    copy = tmp_path / "out" / "demo"
    shutil.copytree(night, copy, ignore=shutil.ignore_patterns("notifications*"))
    return copy


pytestmark = pytest.mark.usefixtures("no_backoff")


@pytest.fixture
def trust(ca: trustme.CA, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The client trusts the test CA the way a company CA is trusted: SSL_CERT_FILE."""
    pem = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(pem))
    monkeypatch.setenv("SSL_CERT_FILE", str(pem))


@dataclass
class Mailbox:
    """What the SMTP server received, and how it should misbehave."""

    received: list[tuple[str, list[str], EmailMessage]] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)
    busy_answers: int = 0  # answer DATA with 451 this many times first
    logins: list[tuple[bytes, bytes]] = field(default_factory=list)

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if address in self.refuse:
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.busy_answers:
            self.busy_answers -= 1
            return "451 4.3.0 try again later"
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 OK"

    def authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        ok = (
            isinstance(data, LoginPassword)
            and data.login == USER.encode()
            and data.password == PASSWORD.encode()
        )
        if isinstance(data, LoginPassword):
            self.logins.append((data.login, data.password))
        return AuthResult(success=ok, handled=False)  # handled=False: the server answers 535 itself


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def smtp_server(ca: trustme.CA, trust: None) -> Iterator[tuple[Mailbox, int]]:
    """An SMTP server on loopback that requires STARTTLS (self-signed chain) and a login."""
    box = Mailbox()
    port = _free_port()
    controller = Controller(
        box,
        hostname="127.0.0.1",
        port=port,
        tls_context=_server_tls(ca),
        require_starttls=True,
        authenticator=box.authenticate,
        auth_required=True,
    )
    controller.start()
    try:
        yield box, port
    finally:
        controller.stop()


def _server_tls(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    return context


class _Hook(BaseHTTPRequestHandler):
    bodies: list[Any]
    status: int

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        self.server.bodies.append(json.loads(self.rfile.read(length)))  # type: ignore[attr-defined]
        self.send_response(self.server.status)  # type: ignore[attr-defined]
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def webhook() -> Iterator[ThreadingHTTPServer]:
    """A chat webhook receiver on loopback; set `.status` to make it fail."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hook)
    server.bodies = []  # type: ignore[attr-defined]
    server.status = 200  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def _owners(tmp: Path, extra: str = "", hook_port: int | None = None, hook_format: str = "slack") -> Path:
    hook = (
        f'[[webhook]]\nurl = "http://127.0.0.1:{hook_port}/services/T0/B0/hook-secret-1"\n'
        f'format = "{hook_format}"\n'
        if hook_port
        else ""
    )
    path = tmp / "owners.toml"
    path.write_text(
        'default = "data-team"\n'
        '[[route]]\nowner = "cellar"\nbin_name = "^SS-"\n'
        "[contacts]\n"
        'data-team = "data@winery.example"\n'
        'cellar = ["cellar@winery.example", "anna@winery.example"]\n'
        'planning = "planning@winery.example"\n'
        'bottling = "bottling@winery.example"\n'
        '[digest]\nto = "it@winery.example"\n' + hook + extra,
        encoding="utf-8",
    )
    return path


def _settings(
    tmp: Path, owners: Path, port: int, *, tls: str = "starttls", timeout: float = 10.0
) -> Settings:
    config = tmp / "claret-errors.toml"
    config.write_text(
        f'[smtp]\nhost = "127.0.0.1"\nport = {port}\nfrom = "claret@winery.example"\ntls = "{tls}"\n'
        f'username = "{USER}"\ntimeout = {timeout}\n',
        encoding="utf-8",
    )
    return load_settings({"owners": owners}, env={"CLARET_SMTP_PASSWORD": PASSWORD}, config_file=config)


def _all_bytes(folder: Path) -> bytes:
    return b"".join(p.read_bytes() for p in folder.rglob("*") if p.is_file())


def test_each_owner_gets_one_message_over_starttls_with_login(
    run_folder: Path, smtp_server: tuple[Mailbox, int], tmp_path: Path
) -> None:
    """Every owner with rows hears once, with their count in the subject, an HTML and a text part, and
    their rows attached; the data team gets the digest; the password is in no file."""
    box, port = smtp_server
    result = notify([run_folder], _settings(tmp_path, _owners(tmp_path), port), confirm=True)
    assert result.exit_code == 0, result.summary()
    by_rcpt = {tuple(rcpts): msg for _, rcpts, msg in box.received}
    assert set(by_rcpt) == {
        ("cellar@winery.example", "anna@winery.example"),
        ("data@winery.example",),
        ("planning@winery.example",),
        ("bottling@winery.example",),
        ("it@winery.example",),
    }
    cellar = by_rcpt[("cellar@winery.example", "anna@winery.example")]

    def landed(job: Path) -> set[str]:  # fixed in the demo's worksheet and imported since: nothing to do
        summary = json.loads((job / "summary.json").read_text(encoding="utf-8"))
        return {str(r["input_row"]) for r in summary["landed_on_resubmission"]}

    cellars = {
        job: {
            line.split(",", 1)[0]
            for line in (job / "needs_attention.csv").read_text(encoding="utf-8").splitlines()[1:]
            if ",cellar," in line
        }
        for job in run_folder.iterdir()
        if (job / "needs_attention.csv").is_file()
    }
    expected = sum(len(rows - landed(job)) for job, rows in cellars.items())
    assert expected < sum(len(rows) for rows in cellars.values())  # the demo's worksheet round landed some
    assert cellar["Subject"] == f"Claret imports {result.night} (demo): {expected} rows for cellar to fix"
    html = cellar.get_body(("html",))
    text = cellar.get_body(("plain",))
    assert html is not None and text is not None
    content = html.get_content()
    assert "<img" not in content and "<link" not in content and "src=" not in content  # self-contained
    assert f"{expected} rows for cellar to fix" in text.get_content()
    names = [part.get_filename() for part in cellar.iter_attachments()]
    # Each job's worksheet of the owner's rows (owners/cellar.xlsx), named after its job.
    assert names and all(name and name.endswith("-cellar.xlsx") for name in names)
    attached_rows = sum(
        openpyxl.load_workbook(io.BytesIO(part.get_content()))[SHEET].max_row - 1
        for part in cellar.iter_attachments()
    )
    # The workbooks as written (or as the owner edited them), rows landed since included.
    assert attached_rows == sum(len(rows) for rows in cellars.values())
    assert box.logins == [(USER.encode(), PASSWORD.encode())] * len(box.received)
    assert PASSWORD.encode() not in _all_bytes(run_folder)
    digest = by_rcpt[("it@winery.example",)]
    assert "rows still outstanding" in digest["Subject"]


def test_without_confirm_the_messages_are_written_and_nothing_is_sent(
    run_folder: Path, smtp_server: tuple[Mailbox, int], tmp_path: Path
) -> None:
    """A dry run writes one .eml per message into the run folder and sends nothing."""
    box, port = smtp_server
    result = notify([run_folder], _settings(tmp_path, _owners(tmp_path), port))
    assert box.received == []
    files = sorted(p.name for p in result.folder.iterdir())
    assert files == [
        "digest.eml",
        "owner-bottling.eml",
        "owner-cellar.eml",
        "owner-data-team.eml",
        "owner-planning.eml",
    ]
    assert result.folder == run_folder / "notifications" / result.night
    assert {o.state for o in result.outcomes} == {"written"}


def test_the_same_night_is_not_sent_twice_unless_forced(
    run_folder: Path, smtp_server: tuple[Mailbox, int], tmp_path: Path
) -> None:
    """The ledger keeps a second run from mailing anyone again; --force sends again."""
    box, port = smtp_server
    settings = _settings(tmp_path, _owners(tmp_path), port)
    notify([run_folder], settings, confirm=True)
    first = len(box.received)
    again = notify([run_folder], settings, confirm=True)
    assert len(box.received) == first
    assert {o.state for o in again.outcomes} == {"already sent"}
    assert again.exit_code == 0
    notify([run_folder], settings, confirm=True, force=True)
    assert len(box.received) == 2 * first


def test_a_refused_recipient_is_reported_and_the_others_are_served(
    run_folder: Path, smtp_server: tuple[Mailbox, int], tmp_path: Path
) -> None:
    """One bad mailbox costs only that recipient; the run exits 9 and says who was refused."""
    box, port = smtp_server
    box.refuse.add("anna@winery.example")
    result = notify([run_folder], _settings(tmp_path, _owners(tmp_path), port), confirm=True)
    assert result.exit_code == 9
    cellar = next(o for o in result.outcomes if o.key == "owner:cellar")
    assert cellar.state == "sent" and "anna@winery.example refused: 550" in cellar.detail
    assert cellar.recipients == ("cellar@winery.example",)
    assert len(box.received) == MESSAGES  # cellar's still goes out, to its other recipient


def test_a_busy_answer_is_retried(run_folder: Path, smtp_server: tuple[Mailbox, int], tmp_path: Path) -> None:
    """A 451 is transient: the message goes through on a later try."""
    box, port = smtp_server
    box.busy_answers = 2
    result = notify([run_folder], _settings(tmp_path, _owners(tmp_path), port), confirm=True)
    assert result.exit_code == 0
    assert len(box.received) == MESSAGES


def test_a_wrong_password_is_a_delivery_failure_without_the_password(
    run_folder: Path,
    smtp_server: tuple[Mailbox, int],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A refused login fails every message with a plain reason and exit 9, never echoing the password."""
    _, port = smtp_server
    monkeypatch.setenv("CLARET_SMTP_PASSWORD", "wrong-pass-4411")
    config = tmp_path / "claret-errors.toml"
    _settings(tmp_path, _owners(tmp_path), port)  # writes the config file
    code = main(
        ["notify", str(run_folder), "--owners", str(_owners(tmp_path)), "--config", str(config), "--confirm"]
    )
    out = capsys.readouterr()
    assert code == 9
    assert "refused the login" in out.out
    assert "wrong-pass-4411" not in out.out + out.err
    assert b"wrong-pass-4411" not in _all_bytes(run_folder)


def test_a_hanging_smtp_server_times_out(run_folder: Path, tmp_path: Path) -> None:
    """A server that accepts and never answers costs the timeout, then the message is reported failed."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = listener.getsockname()[1]
    try:
        settings = _settings(tmp_path, _owners(tmp_path), port, tls="none", timeout=0.5)
        result = notify([run_folder], settings, confirm=True)
    finally:
        listener.close()
    assert result.exit_code == 9
    assert all(o.state == "failed" for o in result.outcomes)
    assert "gave up after 3 tries" in result.outcomes[0].detail
    assert all(o.detail.startswith("not tried: the SMTP server failed") for o in result.outcomes[1:])
    assert not (run_folder / "notifications.json").exists() or all(
        entry["state"] == "failed"
        for entry in json.loads((run_folder / "notifications.json").read_text())["entries"]
    )


def test_implicit_tls_with_the_configs_ca_bundle(run_folder: Path, ca: trustme.CA, tmp_path: Path) -> None:
    """SMTPS (TLS from the first byte, as on port 465) works as well as STARTTLS, trusting the company CA
    named by the config's `ca_bundle` (no SSL_CERT_FILE here)."""
    box = Mailbox()
    port = _free_port()
    controller = Controller(
        box,
        hostname="127.0.0.1",
        port=port,
        ssl_context=_server_tls(ca),
        authenticator=box.authenticate,
        auth_require_tls=False,  # TLS from the first byte: aiosmtpd cannot tell, the socket is encrypted
    )
    controller.start()
    try:
        pem = tmp_path / "company-ca.pem"
        ca.cert_pem.write_to_path(str(pem))
        settings = replace(_settings(tmp_path, _owners(tmp_path), port, tls="implicit"), ca_bundle=pem)
        result = notify([run_folder], settings, confirm=True)
    finally:
        controller.stop()
    assert result.exit_code == 0, result.summary()
    assert len(box.received) == MESSAGES


@pytest.mark.parametrize("hook_format", ["slack", "teams"])
def test_the_chat_webhook_gets_the_run_summary(
    run_folder: Path,
    smtp_server: tuple[Mailbox, int],
    webhook: ThreadingHTTPServer,
    tmp_path: Path,
    hook_format: str,
) -> None:
    """Slack gets `{"text": ...}`, Teams an Adaptive Card; the webhook URL is in no file written."""
    _, port = smtp_server
    owners = _owners(tmp_path, hook_port=webhook.server_address[1], hook_format=hook_format)
    result = notify([run_folder], _settings(tmp_path, owners, port), confirm=True)
    assert result.exit_code == 0, result.summary()
    (body,) = webhook.bodies  # type: ignore[attr-defined]
    if hook_format == "slack":
        assert body["text"].startswith(f"Claret imports {result.night} (demo):")
    else:
        card = body["attachments"][0]["content"]
        assert card["type"] == "AdaptiveCard"
        assert card["body"][0]["text"].startswith(f"Claret imports {result.night} (demo):")
    assert b"hook-secret-1" not in _all_bytes(run_folder)


def test_a_webhook_that_answers_500_is_reported(
    run_folder: Path, smtp_server: tuple[Mailbox, int], webhook: ThreadingHTTPServer, tmp_path: Path
) -> None:
    """A chat service that keeps failing is retried, then reported with exit 9; e-mail still goes out."""
    box, port = smtp_server
    webhook.status = 500  # type: ignore[attr-defined]
    owners = _owners(tmp_path, hook_port=webhook.server_address[1])
    result = notify([run_folder], _settings(tmp_path, owners, port), confirm=True)
    assert result.exit_code == 9
    hook = next(o for o in result.outcomes if o.key == "webhook[0]")
    assert hook.state == "failed" and "HTTP 500" in hook.detail
    assert "hook-secret-1" not in json.dumps(result.summary())
    assert len(webhook.bodies) == 3  # type: ignore[attr-defined]
    assert len(box.received) == MESSAGES


def test_values_from_outside_cannot_inject_headers_or_markup(run_folder: Path, tmp_path: Path) -> None:
    """A tenant name with a line break cannot add a header, and its markup arrives escaped."""
    for sub in run_folder.iterdir():
        if sub.is_dir() and sub.name.isdigit():
            path = sub / "summary.json"
            summary = json.loads(path.read_text(encoding="utf-8"))
            summary["tenant"] = "<b>demo</b>\r\nBcc: thief@evil.example"
            path.write_text(json.dumps(summary), encoding="utf-8")
    result = notify([run_folder], load_settings({"owners": _owners(tmp_path)}, env={}))
    for path in result.folder.glob("*.eml"):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        assert message["Bcc"] is None
        assert message["To"] and "thief@evil.example" not in message["To"]
        html = message.get_body(("html",))
        assert html is not None
        assert "<b>demo</b>" not in html.get_content() and "&lt;b&gt;demo&lt;/b&gt;" in html.get_content()


def test_an_invalid_address_is_a_config_error_naming_file_and_key(run_folder: Path, tmp_path: Path) -> None:
    """A typo in an address stops before anything is written, naming where it is."""
    owners = tmp_path / "owners.toml"
    owners.write_text('[contacts]\ncellar = ["ok@winery.example", "bad address@x"]\n', encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        notify([run_folder], load_settings({"owners": owners}, env={}))
    assert str(owners) in str(caught.value) and "contacts.cellar[1]" in str(caught.value)
    assert not (run_folder / "notifications").exists()


def test_an_attachment_above_the_cap_becomes_a_path(run_folder: Path, tmp_path: Path) -> None:
    """Above the size cap the message names the file's path instead of carrying it."""
    config = tmp_path / "claret-errors.toml"
    config.write_text("[notify]\nattachment_limit_mb = 0.0001\n", encoding="utf-8")
    settings = load_settings({"owners": _owners(tmp_path)}, env={}, config_file=config)
    result = notify([run_folder], settings)
    message = email.message_from_bytes(
        (result.folder / "owner-cellar.eml").read_bytes(), policy=email.policy.default
    )
    assert list(message.iter_attachments()) == []
    text = message.get_body(("plain",))
    assert text is not None and "above the attachment limit" in text.get_content()
    assert str(run_folder / "1" / "owners" / "cellar.xlsx") in text.get_content()


def test_owners_without_an_address_are_reported(run_folder: Path, tmp_path: Path) -> None:
    """An owner with rows but no address is named, and the run says not everyone was told (exit 9)."""
    owners = tmp_path / "owners.toml"
    owners.write_text('[contacts]\ncellar = "cellar@winery.example"\n', encoding="utf-8")
    result = notify([run_folder], load_settings({"owners": owners}, env={}))
    missing = {o.key for o in result.outcomes if o.state == "no address"}
    assert "owner:data-team" in missing
    assert result.exit_code == 9


def test_run_with_notify_sends_the_nights_mail(
    smtp_server: tuple[Mailbox, int],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`run --notify --confirm` analyses the jobs, then mails the owners; the worse code wins."""
    from claret_errors.simulator import Simulator, make_nightly_csv

    box, port = smtp_server
    monkeypatch.chdir(tmp_path)
    _settings(tmp_path, _owners(tmp_path), port)  # claret-errors.toml in the working directory
    monkeypatch.setenv("CLARET_SMTP_PASSWORD", PASSWORD)
    with Simulator(seed=3, speed=0.0) as sim:
        monkeypatch.setenv("CLARET_EMAIL", sim.email)
        monkeypatch.setenv("CLARET_PASSWORD", sim.password)
        job = str(sim.submit_csv(make_nightly_csv(200, seed=3, error_share=0.2)))
        where = ["--tenant", sim.tenant, "--base-url", sim.base_url, "--out", str(tmp_path / "out")]
        wait = ["--poll-interval", "0.02", "--max-wait", "5"]
        code = main(["run", job, *where, *wait, "--owners", str(_owners(tmp_path)), "--notify", "--confirm"])
    out = capsys.readouterr().out
    assert code == 3, out
    assert "digest to it@winery.example: sent" in out
    subjects = [msg["Subject"] for _, _, msg in box.received]
    assert any("rows for data-team to fix" in s for s in subjects), subjects
    assert PASSWORD not in out


def test_the_owner_email_carries_the_same_to_do_lines_as_the_owner_report(
    run_folder: Path, tmp_path: Path
) -> None:
    """The e-mail's to-do list is the reports' own (summary.json's `todo`), summed over the night's jobs."""
    result = notify([run_folder], load_settings({"owners": _owners(tmp_path)}, env={}))
    message = email.message_from_bytes(
        (result.folder / "owner-cellar.eml").read_bytes(), policy=email.policy.default
    )
    text = message.get_body(("plain",))
    assert text is not None
    expected: dict[str, int] = {}
    for job in run_folder.iterdir():
        if (job / "summary.json").is_file():
            for item in json.loads((job / "summary.json").read_text(encoding="utf-8"))["todo"]:
                if item["owner"] == "cellar":
                    expected[item["action"]] = expected.get(item["action"], 0) + item["rows"]
    assert expected
    for action, rows in expected.items():
        assert f"{rows:5d} {'row ' if rows == 1 else 'rows'}  {action}" in text.get_content()


def _parts(message: EmailMessage) -> tuple[str, str]:
    """A message's words: its plain-text part, and its HTML part without tags and entities."""
    text = message.get_body(("plain",))
    markup = message.get_body(("html",))
    assert text is not None and markup is not None
    words = html.unescape(re.sub(r"<[^>]+>", " ", markup.get_content()))
    return " ".join(text.get_content().split()), " ".join(words.split())


def _guessed_job(tmp_path: Path, owners: Path) -> Path:
    """A job analysed by the pipeline whose three failed rows are read by a rule, by a guess at the
    wording, and not at all; its run folder (the tenant's folder)."""
    rows = [
        "122-16,SS-01,L1,2023-08-01,10,Gallon",
        "124,ss-01,L2,2023-08-02,5,Gallon",
        "125,T-01,L3,2023-08-03,3,Gallon",
        "126,T-04,L4,2023-08-04,3,Gallon",
    ]
    said = ("The selected bin name is invalid.", "The bin name does not exist in the system.", "Rejected.")
    folder = plain_job(tmp_path / "plain", rows, rows[:1], zip(rows[1:], said, strict=True))
    result = analyze_job(folder, Settings(out=tmp_path / "out", owners=owners), use_history=False)
    return result.folder.parent


def test_an_owners_to_do_line_resting_on_a_guess_says_so_in_the_reports_words(
    smtp_server: tuple[Mailbox, int], tmp_path: Path
) -> None:
    """The owner whose row's message was only guessed from its wording reads the reports' own words after
    that line, in the text and the HTML part; the lines read by a rule carry no such mark."""
    box, port = smtp_server
    owners = _owners(tmp_path)
    run = _guessed_job(tmp_path, owners)
    [job] = [p for p in run.iterdir() if (p / "summary.json").is_file()]
    todo = json.loads((job / "summary.json").read_text(encoding="utf-8"))["todo"]
    [guessed] = [i for i in todo if i["guessed"]]
    assert guessed["guessed"] == guessed["rows"] == 1
    result = notify([run], _settings(tmp_path, owners, port), confirm=True)
    assert result.exit_code == 0, result.summary()
    mail = {msg["To"]: msg for _, _, msg in box.received}
    address = {"cellar": "cellar@winery.example, anna@winery.example", "data-team": "data@winery.example"}
    text, words = _parts(mail[address[guessed["owner"]]])
    for part in (text, words):
        assert f"{guessed['action']} ({GUESSED})" in part
    unmarked = [i for i in todo if not i["guessed"] and i["owner"]]
    assert unmarked  # the rule's row and the unread one
    for item in unmarked:
        text, words = _parts(mail[address[item["owner"]]])
        for part in (text, words):
            assert item["action"] in part and f"{item['action']} ({GUESSED})" not in part
    markup = mail[address[guessed["owner"]]].get_body(("html",))
    assert markup is not None and f'<em style="color:#8a4b00;">({GUESSED})</em>' in markup.get_content()


ADDRESS = {
    "cellar": "cellar@winery.example, anna@winery.example",
    "data-team": "data@winery.example",
    "planning": "planning@winery.example",
    "bottling": "bottling@winery.example",
}


def _lost_resend(
    sim: Simulator, tmp_path: Path, capsys: pytest.CaptureFixture[str], *, worksheet: bool
) -> tuple[Path, dict[str, Any]]:
    """A nightly import run with the owners file, then a resend with Claret's answer dropped: of the job's
    corrected file, or of rows one owner fixed in the worksheet; the job folder and summary.json's record
    of the resend."""
    owners = _owners(tmp_path)
    job = str(sim.submit_csv(make_nightly_csv(300, seed=8, error_share=0.3)))
    where = [*common(sim, tmp_path), "--owners", str(owners)]
    assert main(["run", job, "--tenant", "demo", *where]) == ExitCode.RECORDS_FAILED
    folder = tmp_path / "out" / "demo" / job
    send = folder
    if worksheet:
        owner_of = {int(r["input_row"]): r["owner"] for r in csv_rows(folder / "failed_records.csv")}
        rows = fixable(folder)
        first = owner_of[next(iter(rows))]
        edit(
            folder / "needs_attention.xlsx",
            {(r, rows[r]): FIXES[rows[r]] for r in rows if owner_of[r] == first},
        )
        send = folder / "needs_attention.xlsx"
    sim.set_scenario(Scenario(faults=(FaultRule("upload", "drop", first=1),)))
    assert main(["resubmit", str(send), "--confirm", "--json", *where]) == ExitCode.UNAVAILABLE
    capsys.readouterr()
    [unsure] = json.loads((folder / "summary.json").read_text(encoding="utf-8"))["outcome_unknown"]
    return folder, unsure


def _night_mail(
    folder: Path, box: Mailbox, port: int, hook: ThreadingHTTPServer, tmp_path: Path
) -> tuple[dict[str, EmailMessage], str]:
    """The night of the job's tenant folder sent over SMTP: the messages by recipients, and the chat text."""
    (tmp_path / "mail").mkdir()
    owners = _owners(tmp_path / "mail", hook_port=hook.server_address[1])
    result = notify([folder.parent], _settings(tmp_path / "mail", owners, port), confirm=True)
    assert result.exit_code == 0, result.summary()
    (body,) = hook.bodies  # type: ignore[attr-defined]
    return {msg["To"]: msg for _, _, msg in box.received}, str(body["text"])


def test_a_lost_resend_of_the_corrected_file_is_in_the_digest_and_the_chat(
    sim: Simulator,
    smtp_server: tuple[Mailbox, int],
    webhook: ThreadingHTTPServer,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The data team's digest (subject, text and HTML) and the chat's line of trouble say the resend may
    or may not have reached Claret and what the operator does, in the reports' words; no owner is told,
    since no record says whose rows a corrected file holds."""
    folder, unsure = _lost_resend(sim, tmp_path, capsys, worksheet=False)
    assert unsure["input_rows"] is None
    mail, chat = _night_mail(folder, *smtp_server, webhook, tmp_path)
    said = f"A resend of {unsure['rows']:,} rows from {unsure['file']}, started"
    advice = unsure["check"][:1].upper() + unsure["check"][1:]
    digest = mail["it@winery.example"]
    assert "1 resend with an unknown outcome" in digest["Subject"]
    for part in _parts(digest):
        assert said in part and "may or may not have reached Claret" in part and advice in part
    markup = digest.get_body(("html",))
    assert markup is not None  # the advice's apostrophe arrives escaped: no text is taken as markup
    assert "Claret&#39;s import list" in markup.get_content() and "Claret's" not in markup.get_content()
    owners = [mail[a] for a in ADDRESS.values() if a in mail]
    assert owners
    for message in owners:
        assert "may or may not have reached Claret" not in " ".join(_parts(message))
    first, trouble = chat.splitlines()[:2]
    assert first.endswith("; 1 resend with an unknown outcome")
    assert f"a resend of {unsure['rows']:,} rows from {unsure['file']} may or may not have reached" in trouble
    assert "--sent-as" in trouble and "--confirm --force" in trouble


def test_a_lost_worksheet_resend_is_in_the_mail_of_the_owners_whose_rows_it_holds(
    sim: Simulator,
    smtp_server: tuple[Mailbox, int],
    webhook: ThreadingHTTPServer,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """summary.json names the rows of a worksheet's edited file: the owner whose rows it holds is told how
    many, that they may be in Claret already and what the operator does; the other owners are not told."""
    folder, unsure = _lost_resend(sim, tmp_path, capsys, worksheet=True)
    owner_of = {int(r["input_row"]): r["owner"] for r in csv_rows(folder / "failed_records.csv")}
    held = Counter(owner_of[n] for n in unsure["input_rows"])
    assert len(held) == 1 and set(owner_of.values()) - set(held)  # someone's rows are not in the file
    mail, _ = _night_mail(folder, *smtp_server, webhook, tmp_path)
    said = f"A resend of {unsure['rows']:,} rows from {unsure['file']}, started"
    advice = unsure["check"][:1].upper() + unsure["check"][1:]
    [(owner, count)] = held.items()
    for part in _parts(mail[ADDRESS[owner]]):
        assert f"{said}" in part and advice in part
        assert f"{count:,} of its rows {'is' if count == 1 else 'are'} yours" in part
    others = [mail[ADDRESS[o]] for o in ADDRESS if o != owner and ADDRESS[o] in mail]
    assert others
    for message in others:
        assert "may or may not have reached Claret" not in " ".join(_parts(message))
    for part in _parts(mail["it@winery.example"]):
        assert said in part and advice in part
