"""Fetch against the simulator over a real loopback socket: every status path, fault scenario and resume."""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import stamina
from cli_rounds import sim_settings
from disk import SyncSpy
from stamina.instrumentation import RetryDetails, get_on_retry_hooks, set_on_retry_hooks

from claret_errors.claret.client import ClaretClient
from claret_errors.claret.models import JobStatus
from claret_errors.errors import ExitCode
from claret_errors.fetch import FetchOutcome, fetch, fetch_async
from claret_errors.progress import Progress
from claret_errors.simulator import Simulator, make_nightly_csv

# Four attempts: the fault tests retry until every file is complete.
pytestmark = [pytest.mark.usefixtures("no_backoff"), pytest.mark.retry_attempts(4)]


def submit(sim: Simulator, count: int = 1, rows: int = 30) -> list[str]:
    return [str(sim.submit_csv(make_nightly_csv(rows, seed=i))) for i in range(count)]


def check_folder(folder: Path) -> list[dict[str, Any]]:
    """The invariant: every file under a final name is in the manifest with its exact size and sha256."""
    artifacts = folder / "artifacts"
    on_disk = {
        p.relative_to(folder).as_posix()
        for p in (artifacts.rglob("*") if artifacts.exists() else [])
        if p.is_file() and not p.name.endswith(".part")
    }
    manifest_path = folder / "manifest.json"
    manifest = json.loads(manifest_path.read_text())["files"] if manifest_path.exists() else []
    assert on_disk == {f["path"] for f in manifest}
    for f in manifest:
        data = (folder / f["path"]).read_bytes()
        assert len(data) == f["bytes"] and hashlib.sha256(data).hexdigest() == f["sha256"]
    return list(manifest)


def assert_complete(outcome: FetchOutcome) -> None:
    """A complete job folder: every file the last status lists is present and verified."""
    assert outcome.status is not None
    manifest = check_folder(outcome.folder)
    listed = {(c, s) for c, sources in outcome.status.files.items() for s in sources}
    assert {(f["category"], f["source"]) for f in manifest} == listed
    assert json.loads((outcome.folder / "status.json").read_text())["status"] == outcome.status.status


class Recorder(Progress):
    """Keeps every event, to check what a user would have been shown."""

    def __init__(self) -> None:
        super().__init__()
        self.events: list[tuple[Any, ...]] = []

    def status(self, job: str, status: str, completed: int, total: int) -> None:
        super().status(job, status, completed, total)
        self.events.append(("status", job, status, completed, total))

    def file_done(self, job: str, path: str, nbytes: int, *, skipped: bool) -> None:
        super().file_done(job, path, nbytes, skipped=skipped)
        self.events.append(("file", job, path, skipped))


def test_completed_jobs_land_every_category_verified(tmp_path: Path) -> None:
    """The happy path: input, staging, output and errors files, each verified by the manifest."""
    with Simulator() as sim:
        ids = submit(sim, 3)
        outcomes = fetch(ids, sim_settings(sim, tmp_path))
    for outcome in outcomes:
        assert outcome.exit_code == 0, outcome.error
        assert_complete(outcome)
        assert {e.category for e in outcome.files} == {"input", "staging", "output", "errors"}
        assert outcome.folder == tmp_path / "demo" / outcome.job_log_id


def test_every_folder_a_file_landed_in_is_synced(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A download syncs its bytes; its name survives a power cut only once its folder is synced too."""
    with Simulator() as sim:
        ids = submit(sim, 2)
        spy = SyncSpy(monkeypatch)
        outcomes = fetch(ids, sim_settings(sim, tmp_path))
    for outcome in outcomes:
        assert outcome.exit_code == 0, outcome.error
        folders = {(outcome.folder / e.path).parent for e in outcome.files} | {outcome.folder}
        assert len(folders) == 5 and all(spy.synced(f) for f in folders)


def test_progress_shows_each_step_until_completed(tmp_path: Path) -> None:
    """The live display is fed every status change: steps go up and the last one is `completed`."""
    recorder = Recorder()
    with Simulator("stepwise") as sim:
        [job] = submit(sim)
        [outcome] = fetch([job], sim_settings(sim, tmp_path), progress=recorder)
    statuses = [e for e in recorder.events if e[0] == "status"]
    assert statuses[0][2] == "pending" and statuses[-1][2] == "completed"
    assert len({e[3] for e in statuses}) >= 3
    assert sum(1 for e in recorder.events if e[0] == "file") == len(outcome.files) == recorder.jobs[job].files


def test_failed_job_exits_four_with_its_errors_file(tmp_path: Path) -> None:
    """A failed job's errors file is what the user needs: downloaded, and the job reported as exit 4."""
    with Simulator("failing-job") as sim:
        [job] = submit(sim)
        [outcome] = fetch([job], sim_settings(sim, tmp_path))
    assert outcome.exit_code == ExitCode.JOB_FAILED
    assert outcome.error is not None and "failed" in outcome.error
    assert_complete(outcome)
    assert "errors" in {e.category for e in outcome.files}


def test_never_finishing_job_exits_five_while_the_other_completes(tmp_path: Path) -> None:
    """Giving up on one job prints its link and the resume command, and does not cost the other job."""
    with Simulator("never-finish") as sim:
        ids = submit(sim, 2)
        outcomes = fetch(ids, sim_settings(sim, tmp_path, max_wait=0.3))
        base_url = sim.base_url
    stuck, done = outcomes
    assert stuck.exit_code == ExitCode.WAIT_TIMEOUT and done.exit_code == 0
    assert stuck.error is not None
    assert f"{base_url}/demo/job-logs/{stuck.job_log_id}" in stuck.error
    assert f"resume with: claret-errors run {stuck.job_log_id} --tenant demo --base-url" in stuck.error
    assert_complete(done)


def test_unknown_job_exits_seven_with_claret_message(tmp_path: Path) -> None:
    """Claret's own words for a job that does not exist reach the user; nothing is written for it."""
    with Simulator() as sim:
        [outcome] = fetch(["4242"], sim_settings(sim, tmp_path))
    assert outcome.exit_code == ExitCode.UNAVAILABLE
    assert outcome.error is not None and "Job not found" in outcome.error
    assert not outcome.folder.exists(), "a job that does not exist gets no folder"


def test_wrong_password_exits_six_without_leaking_it(tmp_path: Path) -> None:
    """A refused login is exit 6; the password appears nowhere in the message."""
    with Simulator() as sim:
        [job] = submit(sim)
        [outcome] = fetch([job], sim_settings(sim, tmp_path, password="not-the-password"))
    assert outcome.exit_code == ExitCode.AUTH
    assert outcome.error is not None and "not-the-password" not in outcome.error


def test_stale_token_is_replaced_by_a_minted_one(tmp_path: Path) -> None:
    """An expired CLARET_TOKEN with email and password set: mint a new token once and carry on."""
    stale = "99|ThisTokenExpiredLongAgo0123456789abcdef"
    with Simulator() as sim:
        [job] = submit(sim)
        [outcome] = fetch([job], sim_settings(sim, tmp_path, token=stale))
    assert outcome.exit_code == 0, outcome.error
    for name in ("status.json", "manifest.json"):
        assert stale not in (outcome.folder / name).read_text()


@pytest.mark.parametrize("scenario", ["flaky-status", "malformed-json", "broken-downloads", "chaos", "slow"])
def test_fault_scenarios_still_give_complete_folders(scenario: str, tmp_path: Path) -> None:
    """5xx, 429, cut JSON, dropped and short downloads, latency: retried until the folder is complete."""
    # Jobs last a few tenths of a second, so each sees several polls even on a loaded machine: a job done
    # by its first poll would never meet a fault scheduled for its second.
    with Simulator(scenario, seed=3, speed=0.01) as sim:
        ids = submit(sim, 3)
        outcomes = fetch(ids, sim_settings(sim, tmp_path))
        faults = sim.fault_log
    assert faults, "the scenario injected no fault: the test would prove nothing"
    for outcome in outcomes:
        assert outcome.exit_code == 0, outcome.error
        assert_complete(outcome)


def test_retry_after_from_claret_is_the_wait_used(tmp_path: Path) -> None:
    """On a 429 with Retry-After: 1, the retry waits exactly what Claret asked (backoff on, one pause)."""
    waits: list[float] = []

    def record(details: RetryDetails) -> None:
        waits.append(details.wait_for)

    before = get_on_retry_hooks()
    set_on_retry_hooks([record])
    try:
        with stamina.set_testing(False), Simulator("flaky-status") as sim:
            sim.set_scenario("flaky-status")
            [job] = submit(sim)
            token = sim.mint_token()
            # Skip the scenario's two leading 503s: only the 4th status call (a 429) matters here.
            settings = sim_settings(sim, tmp_path, token=token, email=None, password=None)

            async def go() -> JobStatus:
                async with ClaretClient(settings) as client:
                    with stamina.set_testing(True, attempts=3):
                        await client.status(int(job))  # calls 1-3: 503, 503, 200
                    return await client.status(int(job))  # call 4: 429 Retry-After 1, then 200

            asyncio.run(go())
    finally:
        set_on_retry_hooks(before)
    assert waits[-1] == 1.0


def test_many_jobs_at_once_never_exceed_the_concurrency_bound(tmp_path: Path) -> None:
    """A nightly file is dozens of jobs; they are handled together, with at most --concurrency requests on
    the wire (counted from the request's sending to its answer's closing, under the client's own bound)."""
    in_flight = 0
    peak = 0

    class Closing(httpx.AsyncByteStream):
        def __init__(self, stream: httpx.AsyncByteStream) -> None:
            self._stream = stream

        async def __aiter__(self) -> AsyncIterator[bytes]:
            async for chunk in self._stream:
                yield chunk

        async def aclose(self) -> None:
            nonlocal in_flight
            in_flight -= 1
            await self._stream.aclose()

    class Counting(httpx.AsyncHTTPTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            nonlocal in_flight, peak
            in_flight += 1
            peak = max(peak, in_flight)
            response = await super().handle_async_request(request)
            assert isinstance(response.stream, httpx.AsyncByteStream)
            response.stream = Closing(response.stream)
            return response

    with Simulator("slow") as sim:
        ids = submit(sim, 24, rows=10)
        settings = sim_settings(sim, tmp_path, concurrency=4)

        async def go() -> list[FetchOutcome]:
            transport = Counting(limits=httpx.Limits(max_connections=4, max_keepalive_connections=4))
            async with ClaretClient(settings, transport=transport) as client:
                return await fetch_async(ids, settings, client)

        outcomes = asyncio.run(go())
    assert [o.exit_code for o in outcomes] == [0] * 24
    assert peak == 4 and in_flight == 0


def test_rerun_skips_complete_files_and_restores_missing_or_damaged_ones(tmp_path: Path) -> None:
    """Resume: intact files are not fetched again; deleted, corrupted and stray temp files are repaired."""
    with Simulator() as sim:
        [job] = submit(sim)
        settings = sim_settings(sim, tmp_path)
        [first] = fetch([job], settings)
        by_category = {e.category: first.folder / e.path for e in first.files}
        by_category["errors"].unlink()
        by_category["output"].write_bytes(b"tampered")
        stray = by_category["input"].parent / f".{by_category['input'].name}.abc123.part"
        stray.write_bytes(b"half")
        untouched = {k: p.stat().st_ino for k, p in by_category.items() if k in ("input", "staging")}
        recorder = Recorder()
        [second] = fetch([job], settings, progress=recorder)
    assert second.exit_code == 0, second.error
    assert_complete(second)
    assert not stray.exists()
    assert {k: by_category[k].stat().st_ino for k in untouched} == untouched
    skipped = {e[2].split("/")[1] for e in recorder.events if e[0] == "file" and e[3]}
    assert skipped == {"input", "staging"}


class Interrupter(Progress):
    """Cancels the whole run the moment the first file lands: a Ctrl-C while the other files are still on
    their way (streaming, or being synced in a disk thread). Counting chunks instead was flaky on a busy
    machine: once fsyncs ran after a download's slot was given back, every body could arrive before the
    first file had landed."""

    def __init__(self) -> None:
        super().__init__()
        self.task: asyncio.Task[Any] | None = None

    def file_done(self, job: str, path: str, nbytes: int, *, skipped: bool) -> None:
        super().file_done(job, path, nbytes, skipped=skipped)
        if self.task is not None:
            self.task.cancel()
            self.task = None


def test_interrupted_run_leaves_no_partial_file_and_resumes(tmp_path: Path) -> None:
    """Ctrl-C mid-download must leave only complete files under final names; the rerun finishes the job."""
    with Simulator() as sim:
        ids = submit(sim, 2, rows=200)
        settings = sim_settings(sim, tmp_path, concurrency=2)
        interrupter = Interrupter()

        async def interrupted() -> None:
            interrupter.task = asyncio.current_task()
            async with ClaretClient(settings) as client:
                await fetch_async(ids, settings, client, progress=interrupter)

        with pytest.raises(asyncio.CancelledError):
            asyncio.run(interrupted())
        landed = [check_folder(tmp_path / "demo" / job) for job in ids]
        assert not list(tmp_path.rglob("*.part"))
        assert 0 < sum(len(m) for m in landed) < 8, (
            "the interruption should fall between the first and last file"
        )
        outcomes = fetch(ids, settings)
    for outcome in outcomes:
        assert outcome.exit_code == 0, outcome.error
        assert_complete(outcome)


def test_a_cancel_before_the_last_manifest_write_starts_keeps_every_file_in_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The last manifest write goes to a thread; a Ctrl-C while it still waits for a free thread (the
    executor then never runs it) must not leave landed files out of the manifest.

    Which comes first, the thread or the cancel, depends on the machine's load: a stand-in for
    `asyncio.to_thread` that never starts the manifest write (as a queued job that is cancelled) makes it
    happen every time. Every other use of `to_thread` runs for real."""
    real = asyncio.to_thread

    async def manifest_never_started(func: Any, /, *args: Any, **kwargs: Any) -> Any:
        if getattr(func, "__name__", "") != "save":  # the last manifest write
            return await real(func, *args, **kwargs)
        task = asyncio.current_task()
        assert task is not None
        task.cancel()  # the Ctrl-C, arriving while the write waits for its thread
        await asyncio.sleep(3600)

    with Simulator() as sim:
        ids = submit(sim, 1, rows=50)
        settings = sim_settings(sim, tmp_path, concurrency=2)
        monkeypatch.setattr(asyncio, "to_thread", manifest_never_started)

        async def cancelled() -> None:
            async with ClaretClient(settings) as client:
                await fetch_async(ids, settings, client)

        with pytest.raises(asyncio.CancelledError):
            asyncio.run(cancelled())
    landed = check_folder(tmp_path / "demo" / ids[0])
    assert len(landed) == 4  # every artifact downloaded before the cancel is listed
