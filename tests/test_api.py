"""The Python API: every exported name resolves, importing the package stays cheap, and `run` works
from Python against the simulator as a scheduler would call it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import claret_errors
from claret_errors.simulator import Simulator, make_nightly_csv


def test_every_exported_name_resolves() -> None:
    assert set(claret_errors.__all__) == {"__version__", *claret_errors._EXPORTS}
    for name in claret_errors.__all__:
        assert getattr(claret_errors, name) is not None, name
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        _ = claret_errors.nope  # type: ignore[attr-defined]


def test_importing_the_package_loads_no_heavy_library() -> None:
    heavy = "('polars', 'httpx', 'pandera')"
    code = f"import json, sys, claret_errors; print(json.dumps([m for m in {heavy} if m in sys.modules]))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == []


def test_run_from_python(tmp_path: Path) -> None:
    with Simulator(seed=31, speed=0.0) as sim:
        job = str(sim.submit_csv(make_nightly_csv(80, seed=31, error_share=0.2)))
        settings = claret_errors.Settings(
            tenant=sim.tenant, base_url=sim.base_url, token=sim.mint_token(), out=tmp_path, poll_interval=0.02
        )
        result = claret_errors.run([job], settings)
    assert result.exit_code == claret_errors.ExitCode.RECORDS_FAILED
    [job_result] = result.results
    assert job_result.counts is not None and job_result.counts.input_rows == 80
    on_disk = json.loads((tmp_path / "demo" / job / "summary.json").read_text())
    assert on_disk == {k: v for k, v in result.summary()["jobs"][0].items() if k != "folder"}
