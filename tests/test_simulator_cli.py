"""`claret-errors simulate`: what a new user runs to try the tool without credentials."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
from pathlib import Path

import httpx

from claret_errors.cli import main

XHR = {"X-Requested-With": "XMLHttpRequest"}


def test_simulate_serves_until_stopped_and_the_printed_credentials_work(tmp_path: Path) -> None:
    """The issue's 'done' walk: run simulate, mint a token, upload, watch the job, download all four files."""
    sample = tmp_path / "nightly.csv"
    argv = ["simulate", "--port", "0", "--scenario", "stepwise", "--speed", "0", "--sample", str(sample)]
    process = subprocess.Popen(
        [sys.executable, "-m", "claret_errors", *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline() for _ in range(2)]
        base = re.search(r"serving at (http://127\.0\.0\.1:\d+)", lines[0])
        creds = re.search(r"tenant (\S+): email (\S+)\s+password (\S+)", lines[1])
        assert base and creds, lines
        tenant, email, password = creds.groups()
        root = f"{base.group(1)}/{tenant}/api/v1"
        token = httpx.post(f"{root}/tokens/create", params={"email": email, "password": password}).json()[
            "token"
        ]
        client = httpx.Client(headers={**XHR, "Authorization": f"Bearer {token}"}, timeout=10)
        files = {"file": ("nightly.csv", sample.read_bytes(), "text/csv")}
        job_id = client.post(f"{root}/inventory/import/process", files=files).json()["job_log_id"]
        seen = []
        for _ in range(10):
            content = client.get(f"{root}/imports/status/{job_id}").json()["content"]
            seen.append(content["status"])
            if content["status"] == "completed":
                break
        assert seen == ["pending"] + ["in_progress"] * 5 + ["completed"]
        assert sorted(content["files"]) == ["errors", "input", "output", "staging"]
        for paths in content["files"].values():
            assert client.get(base.group(1) + paths[0]).status_code == 200
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_simulate_with_an_unknown_scenario_exits_two_and_names_the_choices(capsys) -> None:  # type: ignore[no-untyped-def]
    """A typo in --scenario is a usage error (exit 2) that lists what exists, not a traceback."""
    assert main(["simulate", "--scenario", "no-such"]) == 2
    assert "chaos" in capsys.readouterr().err


def test_simulate_is_listed_in_the_top_level_help(capsys) -> None:  # type: ignore[no-untyped-def]
    """Users find the demo tenant from `claret-errors --help`."""
    assert main(["--help"]) == 0
    assert "simulate" in capsys.readouterr().out


def test_simulate_stops_cleanly_on_ctrl_c() -> None:
    """Ctrl-C is how a person ends the demo tenant: exit 0 and a word, not a traceback."""
    process = subprocess.Popen(
        [sys.executable, "-m", "claret_errors", "simulate"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    assert "serving at http://127.0.0.1:" in process.stdout.readline()
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=10)
    assert process.returncode == 0
    assert "Stopped." in err and "Traceback" not in err
