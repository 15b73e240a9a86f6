"""Fetch with hostile or odd status answers, over a real loopback socket: what Claret names is untrusted."""

from __future__ import annotations

import asyncio
import hashlib
import json
from pathlib import Path

import pytest
from scripted import TOKEN, Reply, Scripted, scripted_server, status_body

from claret_errors.claret.client import ClaretClient
from claret_errors.config import Settings
from claret_errors.errors import ExitCode, UsageError
from claret_errors.fetch import FetchOutcome, fetch, fetch_async, job_info, resume_command
from claret_errors.files.lock import job_lock

pytestmark = pytest.mark.usefixtures("no_backoff")


def settings_for(server: Scripted, out: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "tenant": "demo",
        "base_url": server.base_url,
        "token": TOKEN,
        "out": out,
        "poll_interval": 0.01,
        "max_wait": 5.0,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


def run(settings: Settings, *ids: str) -> list[FetchOutcome]:
    async def go() -> list[FetchOutcome]:
        async with ClaretClient(settings) as client:
            return await fetch_async(list(ids), settings, client)

    return asyncio.run(go())


def assert_folder_matches_manifest(folder: Path) -> list[dict[str, object]]:
    """Every file under a final name is in the manifest with its exact size and sha256, and vice versa."""
    manifest = json.loads((folder / "manifest.json").read_text())["files"]
    on_disk = {p.relative_to(folder).as_posix() for p in (folder / "artifacts").rglob("*") if p.is_file()}
    assert on_disk == {f["path"] for f in manifest}
    for f in manifest:
        data = (folder / f["path"]).read_bytes()
        assert len(data) == f["bytes"] and hashlib.sha256(data).hexdigest() == f["sha256"]
    return list(manifest)


def test_traversal_and_odd_names_stay_inside_the_job_folder(server: Scripted, tmp_path: Path) -> None:
    """`..`, hidden names and collisions in Claret's paths must never write outside the job folder."""
    files = {
        "input": ["/demo/download/a/../../../../escape.csv"],
        "errors": ["/demo/download/x/errors.csv", "/demo/download/y/ERRORS.csv", "/demo/download/%2e%2e"],
        "../../evil": ["/demo/download/z/.bashrc"],
    }
    server.on("GET", "/demo/api/v1/imports/status/5", Reply(body=status_body(5, "completed", files)))
    for path in ("/escape.csv", "/demo/download/x/errors.csv", "/demo/download/y/ERRORS.csv"):
        server.on("GET", path, Reply(body=path.encode()))
    server.dynamic("GET", "/demo/download/z/.bashrc", lambda seen: Reply(body=b"rc"))
    server.dynamic("GET", "/demo/download/%2e%2e", lambda seen: Reply(body=b"dots"))
    server.dynamic("GET", "/demo/download/..", lambda seen: Reply(body=b"dots"))
    [outcome] = run(settings_for(server, tmp_path), "5")
    folder = tmp_path / "demo" / "5"
    # Besides the job's own lock file (beside its folder), every file is inside the job folder.
    everything = [p for p in tmp_path.rglob("*") if p.is_file() and p != job_lock(folder).path]
    assert all(p.resolve().is_relative_to(folder.resolve()) for p in everything)
    manifest = assert_folder_matches_manifest(folder)
    paths = sorted(str(f["path"]) for f in manifest)
    assert "artifacts/errors/errors.csv" in paths and "artifacts/errors/ERRORS-2.csv" in paths
    assert "artifacts/evil/bashrc" in paths
    assert outcome.exit_code == 0, outcome.error


def test_off_origin_artifact_is_refused_and_the_rest_still_downloaded(
    server: Scripted, tmp_path: Path
) -> None:
    """One hostile URL must not cost the user the other files, nor send the token to its host."""
    with scripted_server() as evil:
        files = {"input": ["/demo/download/in.csv"], "errors": [evil.base_url + "/steal.csv"]}
        server.on("GET", "/demo/api/v1/imports/status/6", Reply(body=status_body(6, "completed", files)))
        server.on("GET", "/demo/download/in.csv", Reply(body=b"a,b\n1,2\n"))
        [outcome] = run(settings_for(server, tmp_path), "6")
        assert evil.requests() == []
    assert outcome.exit_code == ExitCode.UNREADABLE
    assert outcome.error is not None and "refused" in outcome.error and "steal.csv" in outcome.error
    manifest = assert_folder_matches_manifest(tmp_path / "demo" / "6")
    assert [f["source"] for f in manifest] == ["/demo/download/in.csv"]


def test_failed_job_still_downloads_its_errors_file_and_exits_four(server: Scripted, tmp_path: Path) -> None:
    """For a failed job the errors file is the whole point: fetch it, then report exit 4."""
    files = {"input": ["/demo/download/in.csv"], "errors": ["/demo/download/errors.csv"]}
    server.on("GET", "/demo/api/v1/imports/status/7", Reply(body=status_body(7, "failed", files)))
    server.on("GET", "/demo/download/in.csv", Reply(body=b"in"))
    server.on("GET", "/demo/download/errors.csv", Reply(body=b"row,error\n1,bad\n"))
    [outcome] = run(settings_for(server, tmp_path), "7")
    assert outcome.exit_code == ExitCode.JOB_FAILED
    assert (tmp_path / "demo/7/artifacts/errors/errors.csv").read_bytes() == b"row,error\n1,bad\n"
    assert json.loads((tmp_path / "demo/7/status.json").read_text())["status"] == "failed"
    assert job_info(outcome.status, "demo").status == "failed"  # type: ignore[arg-type]


def test_giving_up_waiting_is_exit_five_with_link_and_resume_command(
    server: Scripted, tmp_path: Path
) -> None:
    """The user must be able to follow the job in Claret and pick up where we stopped."""
    server.on("GET", "/demo/api/v1/imports/status/8", Reply(body=status_body(8, "in_progress", {})))
    settings = settings_for(server, tmp_path, max_wait=0.05)
    [outcome] = run(settings, "8")
    assert outcome.exit_code == ExitCode.WAIT_TIMEOUT
    assert outcome.status is not None and outcome.status.status == "in_progress"
    assert outcome.error is not None
    assert "https://plan.claret.app/demo/job-logs/8" in outcome.error
    assert resume_command(settings, "8") in outcome.error
    assert f"--base-url {server.base_url}" in outcome.error
    assert json.loads((tmp_path / "demo/8/status.json").read_text())["status"] == "in_progress"


def test_one_missing_job_does_not_stop_the_others(server: Scripted, tmp_path: Path) -> None:
    """A per-job failure is an outcome; the other jobs of the night still get fetched."""
    server.on("GET", "/demo/api/v1/imports/status/1", Reply(body=status_body(1, "completed", {})))
    server.on(
        "GET",
        "/demo/api/v1/imports/status/2",
        Reply(422, {"message": "Job not found or you do not have access to this job."}),
    )
    outcomes = run(settings_for(server, tmp_path), "1", "2", "0001")
    assert [(o.job_log_id, o.exit_code) for o in outcomes] == [("1", 0), ("2", ExitCode.UNAVAILABLE)]
    assert "Job not found" in (outcomes[1].error or "")


def test_terminal_escapes_in_claret_text_are_neutralised(server: Scripted, tmp_path: Path) -> None:
    """A job link or status is printed to a terminal; escape sequences in it must not reach the terminal."""
    body = status_body(9, "in_progress", {}, job_status_link="https://x/\x1b]0;pwned\x07")
    server.on("GET", "/demo/api/v1/imports/status/9", Reply(body=body))
    [outcome] = run(settings_for(server, tmp_path, max_wait=0.02), "9")
    assert outcome.error is not None and "\x1b" not in outcome.error and "\x07" not in outcome.error


def test_bad_job_id_is_a_usage_error_before_any_request(server: Scripted, tmp_path: Path) -> None:
    """`../x` or `abc` as a job id must neither reach Claret nor become a folder."""
    with pytest.raises(UsageError, match="not a job id"):
        fetch(["12", "../x"], settings_for(server, tmp_path))
    assert server.requests() == [] and list(tmp_path.iterdir()) == []


def test_short_outage_while_waiting_is_survived(server: Scripted, tmp_path: Path) -> None:
    """A ten-minute wait must not be lost to one poll whose retries all hit a brief outage."""
    outage = [Reply(502, b"bad gateway")] * 4
    server.on("GET", "/demo/api/v1/imports/status/3", *outage, Reply(body=status_body(3, "completed", {})))
    [outcome] = run(settings_for(server, tmp_path), "3")
    assert outcome.exit_code == 0, outcome.error
    assert len(server.requests("/status/3")) == 5


def test_lasting_outage_while_waiting_is_exit_seven(server: Scripted, tmp_path: Path) -> None:
    """Forgiveness is bounded: three failed polls in a row (each retried) and the job is reported lost."""
    server.on("GET", "/demo/api/v1/imports/status/4", Reply(502, b"bad gateway"))
    [outcome] = run(settings_for(server, tmp_path), "4")
    assert outcome.exit_code == ExitCode.UNAVAILABLE
    assert outcome.error is not None and "HTTP 502" in outcome.error
    assert len(server.requests("/status/4")) == 9
