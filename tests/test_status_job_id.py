"""A status answer about another job than the one asked for, from a real server on loopback: an error of
the job asked for (exit 7, listed under its own id), never a job silently dropped with exit 0."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import stamina
from scripted import Reply, Scripted, scripted_server, status_body

from claret_errors.cli import main
from claret_errors.errors import ExitCode

INPUT = "/demo/download/demo/user-uploads/inventory-import/2024-01-01/6/inventory_input.csv"


@pytest.fixture
def server(token_env: str) -> Iterator[Scripted]:
    with stamina.set_testing(True, attempts=2), scripted_server() as script:
        # Asked for job 5, the server answers with job 6's document (a proxy cache or a server bug).
        answer = status_body(6, "completed", {"input": [INPUT]})
        script.on("GET", "/demo/api/v1/imports/status/5", Reply(body=answer))
        script.on("GET", INPUT, Reply(body=b"item_name,bin_name\n124,SS-01\n"))
        yield script


def test_an_answer_about_another_job_is_an_error_of_the_job_asked_for(
    server: Scripted, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`--json` lists job 5 with exit 7 and a message naming job 6; nothing of job 6 lands in 5's folder."""
    argv = ["run", "5", "--tenant", "demo", "--base-url", server.base_url, "--out", str(tmp_path / "out")]
    code = main([*argv, "--poll-interval", "0.01", "--json"])
    doc = json.loads(capsys.readouterr().out)
    [job] = doc["jobs"]
    assert code == ExitCode.UNAVAILABLE == doc["exit_code"] == job["exit_code"]
    assert job["job_log_id"] == "5" and "status answer is about job 6" in job["error"]
    folder = tmp_path / "out" / "demo" / "5"
    assert not (folder / "status.json").exists() and not (folder / "artifacts").exists()
    assert server.requests("/download/") == []


def test_the_job_line_names_the_job_asked_for(
    server: Scripted, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without --json, the terminal line for job 5 says what went wrong; fetch alone fails the same way."""
    argv = ["--tenant", "demo", "--base-url", server.base_url, "--out", str(tmp_path / "out")]
    assert main(["run", "5", *argv, "--poll-interval", "0.01"]) == ExitCode.UNAVAILABLE
    assert "job 5 (demo): " in capsys.readouterr().out
    assert main(["fetch", "5", *argv, "--poll-interval", "0.01"]) == ExitCode.UNAVAILABLE
    captured = capsys.readouterr()
    assert "about job 6" in captured.out + captured.err
