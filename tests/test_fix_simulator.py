"""The loop closed against the simulator over loopback HTTP: fixed rows resubmitted land, the rest never go.

A nightly file with every error kind is imported, fetched, loaded, reconciled and fixed; each corrected file
is uploaded as a new import and must land with zero errors.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_rounds import MASTER

from claret_errors.config import Settings
from claret_errors.fetch import fetch
from claret_errors.fix.corrections import fix
from claret_errors.load.job import load_job
from claret_errors.reconcile.accounting import reconcile
from claret_errors.results import FixResult
from claret_errors.simulator import Simulator, make_nightly_csv


@pytest.fixture(scope="module")
def sim() -> Iterator[Simulator]:
    """One fast simulated tenant for the module."""
    with Simulator(seed=11, speed=0.0) as running:
        yield running


def settings_for(sim: Simulator, out: Path) -> Settings:
    return Settings(
        tenant=sim.tenant,
        base_url=sim.base_url,
        token=sim.mint_token(),
        out=out,
        poll_interval=0.05,
        max_wait=30,
        master_data=MASTER,
    )


def test_fixed_rows_resubmitted_land_and_the_rest_are_not_sent(sim: Simulator, tmp_path: Path) -> None:
    """The point of the stage: what it corrects lands with zero errors; what it doubts stays with people."""
    settings = settings_for(sim, tmp_path)
    [outcome] = fetch([str(sim.submit_csv(make_nightly_csv(300, seed=7, error_share=0.3)))], settings)
    job = load_job(outcome.folder, settings)
    rec = reconcile(job, settings)
    result: FixResult = fix(job, rec, settings, outcome.folder)

    assert result.auto_fixed_rows > 0 and result.suggested_rows > 0 and result.manual_rows > 0
    assert result.auto_fixed_rows + result.suggested_rows + result.manual_rows == rec.counts.failed
    attention_rows = set(result.needs_attention["input_row"].to_list())
    auto_rows = set(result.rows.filter(result.rows["fix"] == "auto")["input_row"].to_list())
    assert attention_rows.isdisjoint(auto_rows)
    assert attention_rows | auto_rows == set(rec.failed["input_row"].to_list())
    # The nightly file writes US dates; its 08/21/2023s prove month first, so 08/01/2023 is certain too.
    assert "date.file_order" in result.corrections["rule"].to_list()
    suggestions = result.needs_attention["suggestion"].to_list()
    assert any("(score " in s for s in suggestions), "a close reference is only suggested"

    sent = 0
    for path in result.corrected_files:
        data = path.read_bytes()
        records = list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))[1:]
        sent += len(records)
        [again] = fetch([str(sim.submit_csv(data))], settings)
        landed = reconcile(load_job(again.folder, settings), settings)
        assert landed.counts.failed == 0 and landed.counts.unaccounted == 0
        assert landed.counts.imported == len(records)
    assert sent == result.auto_fixed_rows
