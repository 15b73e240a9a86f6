"""Ground truth: simulator jobs fetched over loopback HTTP, loaded, reconciled and scored row by row.

The simulator knows why it rejected each row; accounting and the classification of every message must be
exact in every message variant (wording, attribute style, row prefix, layout, row base, split files).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest

from claret_errors.config import Settings
from claret_errors.fetch import fetch
from claret_errors.load.job import load_job
from claret_errors.reconcile.accounting import reconcile
from claret_errors.results import Reconciliation
from claret_errors.simulator import RowTruth, Simulator, Variant, load_scenario, make_nightly_csv

VARIANTS = {
    "laravel10-spaces-joined": Variant(),
    "laravel9-underscores-prefix-base0": Variant(
        wording="laravel9",
        attribute_style="underscores",
        row_prefix=True,
        row_base=0,
        row_column="row_number",
        message_column="errors",
        separator=" | ",
    ),
    "laravel10-json-prefix": Variant(layout="json", row_prefix=True, message_column="error_messages"),
    "laravel9-rows-split-base2": Variant(
        wording="laravel9",
        layout="rows",
        row_base=2,
        row_column="line",
        message_column="message",
        files_per_category=2,
    ),
    "laravel10-underscores-columns": Variant(attribute_style="underscores", layout="columns"),
}


@pytest.fixture(scope="module")
def sim() -> Iterator[Simulator]:
    """One fast simulated tenant for the module."""
    with Simulator(seed=3, speed=0.0) as running:
        yield running


def run_job(sim: Simulator, variant: Variant, seed: int, out: Path) -> tuple[Reconciliation, list[RowTruth]]:
    """Submit a nightly file, fetch its artifacts over HTTP, load and reconcile them."""
    sim.set_variant(sim.tenant, variant)
    job_id = sim.submit_csv(make_nightly_csv(80, seed=seed, error_share=0.3))
    settings = Settings(
        tenant=sim.tenant,
        base_url=sim.base_url,
        token=sim.mint_token(),
        out=out,
        poll_interval=0.05,
        max_wait=30,
    )
    [outcome] = fetch([str(job_id)], settings)
    assert outcome.exit_code in (0, 3), outcome.error
    return reconcile(load_job(outcome.folder, settings), settings), sim.ground_truth(job_id)


@pytest.mark.parametrize("name", list(VARIANTS))
def test_simulator_job_accounting_is_exact(sim: Simulator, tmp_path: Path, name: str) -> None:
    """Every input row lands in the bucket the simulator put it in, and the counts add up."""
    result, truth = run_job(sim, VARIANTS[name], seed=len(name), out=tmp_path)
    failed = sorted(t.input_row for t in truth if t.outcome == "failed")
    imported = [t.input_row for t in truth if t.outcome == "imported"]
    assert result.counts.adds_up()
    assert result.counts.input_rows == len(truth)
    assert (result.counts.imported, result.counts.failed, result.counts.unaccounted) == (
        len(imported),
        len(failed),
        0,
    )
    assert result.failed["input_row"].to_list() == failed
    assert result.counts.anomalies == 0
    assert failed, "the nightly file must fail some rows, or this test proves nothing"


@pytest.mark.parametrize("name", list(VARIANTS))
def test_simulator_job_every_message_classified_exactly(sim: Simulator, tmp_path: Path, name: str) -> None:
    """Each message gets the category and field the simulator rejected the row for; none unclassified."""
    result, truth = run_job(sim, VARIANTS[name], seed=len(name), out=tmp_path)
    expected = Counter((t.input_row, r.category, r.field) for t in truth for r in t.reasons)
    got = Counter(result.messages.select("input_row", "category", "field").iter_rows())
    assert got == expected
    assert result.messages.filter(pl.col("category") == "unclassified").height == 0
    categories = {(c.category, c.field): c.messages for c in result.categories}
    assert sum(categories.values()) == sum(expected.values())


@pytest.mark.parametrize(
    "scenario", ["default", "laravel9-prefixed", "multiline", "json-messages", "split-rows"]
)
def test_shipped_scenario_variants_score_exactly(sim: Simulator, tmp_path: Path, scenario: str) -> None:
    """The demo's scenarios are what users see first: their jobs must reconcile and classify exactly."""
    result, truth = run_job(sim, load_scenario(scenario).variant, seed=7, out=tmp_path)
    assert result.counts.adds_up()
    assert result.failed["input_row"].to_list() == sorted(t.input_row for t in truth if t.outcome == "failed")
    expected = Counter((t.input_row, r.category, r.field) for t in truth for r in t.reasons)
    assert Counter(result.messages.select("input_row", "category", "field").iter_rows()) == expected
    assert result.counts.anomalies == 0
