"""`claret-errors simulate`: what a new user runs to try the tool without credentials."""

from __future__ import annotations

import re
import subprocess
import sys

import httpx

from claret_errors.cli import main
from claret_errors.simulator import make_nightly_csv

XHR = {"X-Requested-With": "XMLHttpRequest"}


def test_simulate_serves_until_stopped_and_the_printed_credentials_work() -> None:
    """The issue's 'done' walk: run simulate, mint a token, upload, watch the job, download all four files."""
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "claret_errors",
            "simulate",
            "--port",
            "0",
            "--scenario",
            "stepwise",
            "--speed",
            "0",
        ],
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
        files = {"file": ("nightly.csv", make_nightly_csv(40, seed=9), "text/csv")}
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
