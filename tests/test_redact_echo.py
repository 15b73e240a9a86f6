"""A token that Claret echoes back, inside a status answer or an artifact's rows, in any shape, reaches no
file (downloads included), report, CSV, JSON, ledger or line printed: every file passes redaction where
it is written."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import quote

import pytest

from claret_errors.cli import main
from claret_errors.errors import ExitCode
from claret_errors.files.atomic import atomic_write_text
from claret_errors.redact import MASK, redact_bytes, register_secret
from claret_errors.simulator import FaultRule, Scenario, Simulator, make_nightly_csv

ECHO = Scenario(
    name="echo",
    faults=(
        FaultRule(endpoint="status", kind="echo_token", probability=1.0),
        FaultRule(endpoint="download", kind="echo_token", match="errors", probability=1.0),
    ),
)


pytestmark = pytest.mark.usefixtures("no_claret_env")


def test_an_echoed_token_reaches_no_file_and_no_output(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The minted token, echoed in every shape into the errors file and the status, is masked everywhere."""
    with Simulator(ECHO, seed=3, speed=0.0) as sim:
        monkeypatch.setenv("CLARET_EMAIL", sim.email)
        monkeypatch.setenv("CLARET_PASSWORD", sim.password)
        job = str(sim.submit_csv(make_nightly_csv(30, seed=3, error_share=0.5)))
        argv = ["run", job, "--tenant", sim.tenant, "--base-url", sim.base_url, "--poll-interval", "0.02"]
        code = main([*argv, "--out", str(tmp_path / "out"), "--max-wait", "5"])
        [token] = sim.state.tokens
        password = sim.password
    printed = capsys.readouterr()
    secret = token.partition("|")[2]
    assert code == ExitCode.RECORDS_FAILED
    folder = tmp_path / "out" / "demo" / job
    reports = [p for p in (tmp_path / "out").rglob("*") if p.is_file()]
    names = {p.name for p in reports}
    assert {"report.html", "report.md", "summary.json", "messages.csv", "failed_records.csv"} <= names
    assert {"needs_attention.csv", "status.json", "index.html"} <= names
    for path in reports:
        data = path.read_bytes()
        for leak in (secret[:12], quote(token, safe=""), password):
            assert leak.encode() not in data, f"{path.name} holds a secret"
    # The echo did reach the tool: the downloaded errors file, the messages and the status carry it, masked.
    [errors] = (folder / "artifacts" / "errors").iterdir()
    assert MASK in errors.read_text() and MASK in (folder / "messages.csv").read_text()
    assert MASK in (folder / "status.json").read_text()
    assert "Bearer ***" in (folder / "report.html").read_text()
    assert secret not in printed.out + printed.err and password not in printed.out + printed.err


def test_a_secret_is_masked_in_the_shapes_the_writers_give_it(tmp_path: Path) -> None:
    """A password with characters each format escapes is masked as HTML, JSON, CSV, Markdown and URL text."""
    password = 'p&ss"w/rd<*>'
    register_secret(password)
    shapes = [
        "p&amp;ss&#34;w/rd&lt;*&gt;",
        "p&amp;ss&quot;w/rd&lt;*&gt;",
        json.dumps(password)[1:-1],
        json.dumps(password)[1:-1].replace("/", "\\/"),
        'p&ss""w/rd<*>',
        'p&ss"w/rd\\<\\*>',
        quote(password, safe=""),
    ]
    for shape in shapes:
        path = tmp_path / "out.txt"
        atomic_write_text(path, f"before {shape} after")
        assert path.read_text() == f"before {MASK} after", shape


def test_with_no_secret_registered_bytes_pass_unchanged() -> None:
    """Redaction of a file's bytes is the identity when nothing matches (no copy, no pattern rewrites)."""
    data = b"lot 12|ABCDEFGHIJKLMNOPQRSTUVWX, token: fine"
    assert redact_bytes(data) is data
