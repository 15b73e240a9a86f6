"""Every job fixture on disk goes through load and reconcile: the accounting adds up in summary.json too."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from claret_errors.config import Settings
from claret_errors.load.job import load_job
from claret_errors.reconcile.accounting import reconcile
from claret_errors.results import JobResult

JOBS = Path(__file__).parent.parent / "fixtures" / "jobs"
FIXTURES = sorted(p for p in JOBS.iterdir() if p.is_dir())


@pytest.mark.parametrize("folder", FIXTURES, ids=lambda p: p.name)
def test_fixture_job_accounts_for_every_input_row_exactly_once(folder: Path) -> None:
    """The three buckets partition the input rows on every layout we ship a fixture for."""
    job = load_job(folder, Settings())
    result = reconcile(job, Settings())
    everyone = set(job.input["input_row"].to_list())
    failed = set(result.failed["input_row"].to_list())
    unaccounted = set(result.unaccounted["input_row"].to_list())
    assert failed.isdisjoint(unaccounted)
    assert failed | unaccounted <= everyone
    assert result.counts.imported == len(everyone - failed - unaccounted)
    counts = JobResult(info=job.info, folder=folder, counts=result.counts).summary()["counts"]
    counts = json.loads(json.dumps(counts))
    assert (
        counts["imported"] + counts["failed"] + counts["unaccounted"] == counts["input_rows"] == len(everyone)
    )


def test_plain_semicolon_fixture_is_reconciled_and_classified_as_written() -> None:
    """A hand-checked job: headers by alias, 2-based row numbers, prefixes and '; '-joined messages."""
    job = load_job(JOBS / "plain_semicolon_errors", Settings())
    result = reconcile(job, Settings())
    counts = result.counts
    assert (counts.input_rows, counts.imported, counts.failed, counts.unaccounted, counts.anomalies) == (
        4,
        2,
        2,
        0,
        0,
    )
    assert result.messages.select("input_row", "category", "field", "rule").rows() == [
        (2, "out_of_range", "quantity", "laravel.gt.numeric"),
        (3, "unknown_reference", "bin_name", "laravel.exists"),
        (3, "invalid_date", "date_filled", "laravel.date_format"),
    ]
    assert result.failed.filter(pl.col("input_row") == 3)["bin_name"].to_list() == ["XX-99"]
