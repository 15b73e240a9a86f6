"""Resubmission at most once, against the simulator over real sockets: two runs at once upload a file once,
and an upload whose answer was lost (dropped, or its run killed) is never sent again without --force."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cli_rounds import common, first_round

from claret_errors.cli import main
from claret_errors.errors import ExitCode
from claret_errors.simulator import Simulator
from claret_errors.simulator.jobs import Job
from claret_errors.simulator.scenario import FaultRule, Scenario

WAITING = "another resubmit is sending files"
GATE_TIMEOUT = 120.0  # a safety net only: every wait below ends on an event


class UploadGate:
    """Counts the uploads the simulator receives; holds the first one until `release` is set."""

    def __init__(self, simulator: Simulator) -> None:
        self.uploads = 0
        self.arrived = threading.Event()
        self.release = threading.Event()
        self._lock = threading.Lock()
        decide = simulator.state.faults.decide

        def gated(endpoint: str, key: str, path: str) -> list[FaultRule]:
            if endpoint == "upload":
                with self._lock:
                    self.uploads += 1
                    first = self.uploads == 1
                self.arrived.set()
                if first:
                    self.release.wait(GATE_TIMEOUT)
                else:
                    self.release.set()  # a second upload while the first is held: the race is shown
            return decide(endpoint, key, path)

        simulator.state.faults.decide = gated  # type: ignore[method-assign]
        self.made = threading.Event()  # a job was made from an upload
        self.jobs: list[int] = []
        create = simulator.state.create_job

        def made(*args: Any, **kwargs: Any) -> Job:
            job = create(*args, **kwargs)
            if self.uploads:
                self.jobs.append(job.job_log_id)
                self.made.set()
            return job

        simulator.state.create_job = made  # type: ignore[method-assign]


@pytest.fixture
def gate(sim: Simulator) -> Iterator[UploadGate]:
    held = UploadGate(sim)
    yield held
    held.release.set()  # never leave a simulator thread waiting


def spawn(sim: Simulator, tmp_path: Path, folder: Path) -> subprocess.Popen[str]:
    """`claret-errors resubmit --confirm` as a process of its own, with the test's credentials."""
    argv = [sys.executable, "-m", "claret_errors", "resubmit", str(folder), "--confirm"]
    return subprocess.Popen(
        [*argv, *common(sim, tmp_path)],
        cwd=tmp_path,
        env=dict(os.environ),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def entries(folder: Path) -> list[dict[str, str]]:
    return list(json.loads((folder.parent / "resubmissions.json").read_text())["sent"])


def test_two_resubmits_at_once_upload_the_file_once(
    sim: Simulator,
    gate: UploadGate,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The second run waits for the first to finish sending, then sees the file sent and skips it."""
    folder = first_round(sim, tmp_path, capsys)
    first = spawn(sim, tmp_path, folder)
    assert gate.arrived.wait(GATE_TIMEOUT)  # the first run is uploading, its ledger lock held
    second = spawn(sim, tmp_path, folder)

    def watch() -> None:
        assert second.stderr is not None
        for line in second.stderr:
            if WAITING in line:
                gate.release.set()  # the second run is waiting for the lock: let the first go on

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    first_out, _ = first.communicate(timeout=GATE_TIMEOUT)
    second_out = second.stdout.read() if second.stdout else ""
    assert second.wait(timeout=GATE_TIMEOUT) == ExitCode.OK == first.returncode
    watcher.join(timeout=GATE_TIMEOUT)
    assert gate.uploads == 1
    [entry] = entries(folder)
    assert entry["state"] == "sent" and f"sent as job {entry['new_job']}" in first_out
    assert f"skipped: sent before as job {entry['new_job']}" in second_out


def test_a_dropped_answer_is_unknown_and_never_resent_without_force(
    sim: Simulator,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Claret drops the upload's answer: exit 7 with how to check; the rerun sends nothing; --force does."""
    folder = first_round(sim, tmp_path, capsys)
    sim.set_scenario(Scenario(faults=(FaultRule("upload", "drop", first=1),)))
    argv = ["resubmit", str(folder), "--confirm", *common(sim, tmp_path)]
    assert main(argv) == ExitCode.UNAVAILABLE
    out = capsys.readouterr().out
    assert "OUTCOME UNKNOWN" in out and "look in Claret's import list" in out and "--force" in out
    [entry] = entries(folder)
    assert entry["state"] == "unknown" and entry["new_job"] == ""
    jobs = len(sim.state.jobs)

    assert main([*argv, "--json"]) == ExitCode.UNAVAILABLE
    doc = json.loads(capsys.readouterr().out)
    assert len(sim.state.jobs) == jobs and doc["jobs"] == []
    [held] = doc["outcome_unknown"]
    assert held["file"].endswith(".csv") and "import list" in held["check"]

    assert main([*argv, "--force", "--json"]) == ExitCode.OK
    [new] = json.loads(capsys.readouterr().out)["jobs"]
    assert len(sim.state.jobs) == jobs + 1 and entries(folder)[-1]["new_job"] == new["job_log_id"]


def test_a_run_killed_mid_upload_leaves_it_unknown(
    sim: Simulator,
    gate: UploadGate,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """kill -9 while the upload is in flight (Claret then makes the job): the next run does not resend."""
    folder = first_round(sim, tmp_path, capsys)
    victim = spawn(sim, tmp_path, folder)
    assert gate.arrived.wait(GATE_TIMEOUT)
    victim.send_signal(signal.SIGKILL)
    victim.communicate(timeout=GATE_TIMEOUT)
    gate.release.set()  # the held request goes on: the job exists, but no one heard its id
    [entry] = entries(folder)
    assert entry["state"] == "sending"

    argv = ["resubmit", str(folder), "--confirm", *common(sim, tmp_path)]
    assert main(argv) == ExitCode.UNAVAILABLE
    out = capsys.readouterr().out
    assert "has an unknown outcome" in out and "look in Claret's import list" in out
    assert gate.uploads == 1

    # The user finds the import in Claret and records it: followed like a sent file, and settled.
    assert gate.made.wait(GATE_TIMEOUT)
    [job] = gate.jobs
    [corrected] = sorted((folder / "corrected").glob("*.csv"))
    found = ["resubmit", str(corrected), "--sent-as", str(job), *common(sim, tmp_path), "--json"]
    assert main(found) == ExitCode.OK
    [new] = json.loads(capsys.readouterr().out)["jobs"]
    assert new["job_log_id"] == str(job) and new["links"][0]["relation"] == "resubmission_of"
    assert entries(folder)[-1]["state"] == "sent" and entries(folder)[-1]["new_job"] == str(job)
    assert main(argv) == ExitCode.OK and "skipped: sent before as job" in capsys.readouterr().out
    assert main(found) == ExitCode.USAGE and gate.uploads == 1
