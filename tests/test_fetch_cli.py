"""`claret-errors fetch` in-process and as a real subprocess: one line per job, --json alone on stdout,
the worst exit code of the jobs, and no secret anywhere in what it prints or writes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from claret_errors.cli import main
from claret_errors.errors import ExitCode
from claret_errors.progress import LiveProgress, LogProgress, Progress, make_progress
from claret_errors.simulator import Simulator, make_nightly_csv

pytestmark = pytest.mark.usefixtures("no_backoff")


def args(logged_in_sim: Simulator, tmp_path: Path, *extra: str) -> list[str]:
    return [
        "fetch",
        *extra,
        "--tenant",
        "demo",
        "--base-url",
        logged_in_sim.base_url,
        "--out",
        str(tmp_path / "out"),
        "--poll-interval",
        "0.01",
        "--max-wait",
        "10",
    ]


def test_fetch_prints_one_line_per_job_and_exits_with_the_worst_code(
    logged_in_sim: Simulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A found job and a missing one: two lines, exit 7, and the found job's folder is complete."""
    job = str(logged_in_sim.submit_csv(make_nightly_csv(20, seed=1)))
    code = main(args(logged_in_sim, tmp_path, job, "777"))
    out = capsys.readouterr().out.splitlines()
    assert code == ExitCode.UNAVAILABLE
    assert len(out) == 2
    assert out[0].startswith(f"job {job} (demo): completed, 4 files in ")
    assert out[1].startswith("job 777 (demo): not fetched") and "Job not found" in out[1]
    assert (tmp_path / "out" / "demo" / job / "manifest.json").is_file()


def test_json_output_is_the_only_thing_on_stdout(
    logged_in_sim: Simulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Scripts parse stdout with --json: it must be exactly one JSON document, secrets-free."""
    job = str(logged_in_sim.submit_csv(make_nightly_csv(20, seed=2)))
    code = main(args(logged_in_sim, tmp_path, job, "--json"))
    captured = capsys.readouterr()
    document = json.loads(captured.out)
    assert code == 0 and document["exit_code"] == 0
    [entry] = document["jobs"]
    assert entry["job_log_id"] == job and entry["status"] == "completed" and len(entry["files"]) == 4
    assert logged_in_sim.password not in captured.out + captured.err


def test_missing_tenant_exits_two_with_a_clear_message(
    logged_in_sim: Simulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without a tenant no URL can be built: a usage error, not a 404 from Claret."""
    code = main(["fetch", "1", "--base-url", logged_in_sim.base_url, "--out", str(tmp_path)])
    assert code == ExitCode.USAGE
    assert "tenant" in capsys.readouterr().err


def test_subprocess_fetch_leaves_token_out_of_every_file_and_stream(
    logged_in_sim: Simulator, tmp_path: Path
) -> None:
    """The real entry point: exit 0, and the token we give appears in no output and no written file."""
    token = logged_in_sim.mint_token()
    job = str(logged_in_sim.submit_csv(make_nightly_csv(20, seed=3)))
    env = {**os.environ, "CLARET_TOKEN": token}
    result = subprocess.run(
        [sys.executable, "-m", "claret_errors", *args(logged_in_sim, tmp_path, job)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert f"job {job} (demo): completed" in result.stdout
    assert token not in result.stdout + result.stderr
    for path in (tmp_path / "out").rglob("*"):
        if path.is_file():
            assert token.encode() not in path.read_bytes(), path


def test_display_is_silent_for_json_live_on_a_terminal_and_plain_otherwise(tmp_path: Path) -> None:
    """--json and --quiet show nothing; a TTY gets the live table; a pipe gets log lines."""

    class Tty:
        def isatty(self) -> bool:
            return True

        def write(self, text: str) -> int:
            return len(text)

        def flush(self) -> None:
            return None

    class Pipe(Tty):
        def isatty(self) -> bool:
            return False

    assert type(make_progress(as_json=True, quiet=False)) is Progress
    assert type(make_progress(as_json=False, quiet=True)) is Progress
    assert isinstance(make_progress(as_json=False, quiet=False, stream=Tty()), LiveProgress)  # type: ignore[arg-type]
    assert isinstance(make_progress(as_json=False, quiet=False, stream=Pipe()), LogProgress)  # type: ignore[arg-type]
