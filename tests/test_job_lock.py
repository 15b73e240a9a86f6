"""One run at a time on a job, against a real server on loopback: a second fetch, run or analyze of a job
another run is downloading waits briefly, then gives up with exit 5, never touching the first run's files."""

from __future__ import annotations

import importlib
import json
import logging
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import stamina
from scripted import Reply, Scripted, Seen, scripted_server, status_body

from claret_errors.cli import main
from claret_errors.errors import ExitCode

INPUT = "/demo/download/demo/user-uploads/inventory-import/2024-01-01/5/inventory_input.csv"
CSV = b"item_name,bin_name,lot_name,date_filled,quantity,uom\n124,SS-01,RM20.ZAM,2023-08-01,40,Gallon\n"
LOCK = importlib.import_module("claret_errors.files.lock")
TIMEOUT = 120.0  # a safety net only: every wait below ends on an event


class HeldDownload:
    """The first download of the input is held until `finish`; later ones are answered at once."""

    def __init__(self, script: Scripted) -> None:
        self.downloading = threading.Event()
        self.finish = threading.Event()
        self._first = threading.Lock()
        self.base_url = script.base_url
        status = status_body(5, "completed", {"input": [INPUT]})
        script.on("GET", "/demo/api/v1/imports/status/5", Reply(body=status))
        script.on("GET", INPUT, Reply(body=CSV))
        answer = script.answer

        def held(seen: Seen) -> Reply:
            reply = answer(seen)  # outside the script's lock, so other requests are answered meanwhile
            if seen.path == INPUT and self._first.acquire(blocking=False):
                self.downloading.set()
                self.finish.wait(TIMEOUT)
            return reply

        script.answer = held  # type: ignore[method-assign]


@pytest.fixture
def held(token_env: str) -> Iterator[HeldDownload]:
    with stamina.set_testing(True, attempts=2), scripted_server() as script:
        download = HeldDownload(script)
        yield download
        download.finish.set()  # never leave a server thread waiting


def options(held: HeldDownload, tmp_path: Path) -> list[str]:
    out = str(tmp_path / "out")
    return ["--tenant", "demo", "--base-url", held.base_url, "--out", out, "--poll-interval", "0.01"]


def first_run(held: HeldDownload, tmp_path: Path) -> tuple[threading.Thread, list[int]]:
    """`fetch 5` in a thread, held mid-download (its lock taken) when this returns."""
    codes: list[int] = []
    thread = threading.Thread(target=lambda: codes.append(main(["fetch", "5", *options(held, tmp_path)])))
    thread.start()
    assert held.downloading.wait(TIMEOUT)
    return thread, codes


def test_a_second_run_on_a_busy_job_gives_up_and_touches_nothing(
    held: HeldDownload,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """fetch, run and analyze of the job exit 5 naming the other run; its folder stays as it was."""
    monkeypatch.setattr(LOCK, "JOB_LOCK_WAIT", 0.2)
    thread, codes = first_run(held, tmp_path)
    folder = tmp_path / "out" / "demo" / "5"
    partial = folder / "artifacts" / "input" / ".inventory_input.csv.k3j9x.part"  # the first run's, in flight
    partial.parent.mkdir(parents=True)
    partial.write_bytes(CSV[:20])
    before = sorted(p.relative_to(folder) for p in folder.rglob("*"))

    assert main(["fetch", "5", *options(held, tmp_path)]) == ExitCode.WAIT_TIMEOUT
    captured = capsys.readouterr()
    assert "job 5: another claret-errors run is working on it" in captured.out + captured.err
    assert main(["run", "5", *options(held, tmp_path), "--json"]) == ExitCode.WAIT_TIMEOUT
    [job] = json.loads(capsys.readouterr().out)["jobs"]
    assert job["job_log_id"] == "5" and "another claret-errors run" in job["error"]
    assert main(["analyze", str(folder)]) == ExitCode.WAIT_TIMEOUT
    elsewhere = tmp_path / "elsewhere"  # results elsewhere, but the files read are the busy run's
    assert main(["analyze", str(folder), "--out", str(elsewhere)]) == ExitCode.WAIT_TIMEOUT
    assert not (elsewhere / "demo" / "5" / "summary.json").exists()
    assert sorted(p.relative_to(folder) for p in folder.rglob("*")) == before
    assert partial.read_bytes() == CSV[:20]

    held.finish.set()
    thread.join(TIMEOUT)
    assert codes == [ExitCode.OK]
    assert (folder / "artifacts" / "input" / "inventory_input.csv").read_bytes() == CSV


def test_a_second_run_waits_for_the_first_and_then_goes_on(
    held: HeldDownload, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`run 5` started while `fetch 5` downloads waits for it, then analyses the complete files."""
    thread, codes = first_run(held, tmp_path)
    waiting = threading.Event()

    class Waiting(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if "another claret-errors run is working on it; waiting" in record.getMessage():
                waiting.set()

    handler = Waiting()
    logging.getLogger("claret_errors.lock").addHandler(handler)
    try:
        second: list[int] = []
        later = threading.Thread(target=lambda: second.append(main(["run", "5", *options(held, tmp_path)])))
        later.start()
        assert waiting.wait(TIMEOUT)
        held.finish.set()
        thread.join(TIMEOUT)
        later.join(TIMEOUT)
    finally:
        logging.getLogger("claret_errors.lock").removeHandler(handler)
    assert codes == [ExitCode.OK] and second == [ExitCode.RECORDS_FAILED]  # no output file: unaccounted
    summary = json.loads((tmp_path / "out" / "demo" / "5" / "summary.json").read_text())
    assert summary["counts"]["input_rows"] == 1 and summary["counts"]["unaccounted"] == 1
