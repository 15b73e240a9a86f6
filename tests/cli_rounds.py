"""Helpers for the tests that drive the CLI against the simulator: where the master data is, the flags
every command of such a test takes, and a first round that leaves a fetched, analysed job folder. The
simulator they run against is conftest's `sim` fixture."""

from __future__ import annotations

from pathlib import Path

import pytest

from claret_errors.cli import main
from claret_errors.errors import ExitCode
from claret_errors.simulator import Simulator, make_nightly_csv

MASTER = Path(__file__).resolve().parents[1] / "fixtures" / "master"


def common(sim: Simulator, tmp_path: Path) -> list[str]:
    """The simulator's URL, the output folder in tmp_path and a fast poll."""
    return ["--base-url", sim.base_url, "--out", str(tmp_path / "out"), "--poll-interval", "0.02"]


def first_round(sim: Simulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    """A nightly import of 300 rows, 30% of them bad, run and analysed; its job folder."""
    job = str(sim.submit_csv(make_nightly_csv(300, seed=8, error_share=0.3)))
    assert main(["run", job, "--tenant", "demo", *common(sim, tmp_path)]) == ExitCode.RECORDS_FAILED
    capsys.readouterr()
    return tmp_path / "out" / "demo" / job
