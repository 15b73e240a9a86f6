"""The history ledger: one entry per job, reruns replace, damage is reported with its line."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from claret_errors.errors import ArtifactError
from claret_errors.history import History, trend_by_night
from claret_errors.results import Counts, JobLink, JobResult

RUN_AT = datetime(2026, 11, 27, 6, 0, tzinfo=UTC)


def test_record_writes_one_entry_with_counts_and_categories(tmp_path: Path, job_result: JobResult) -> None:
    """A recorded job comes back with the counts the trend charts need."""
    history = History.open(tmp_path)
    history.record(job_result, run_at=RUN_AT)
    [entry] = history.entries()
    assert (entry.job_log_id, entry.input_rows, entry.failed) == ("4711", 20, 5)
    assert entry.categories == {
        "unknown_reference": 3,
        "invalid_date": 2,
        "out_of_range": 1,
        "unclassified": 1,
    }
    assert entry.night == "2026-11-27"


def test_rerun_of_same_job_replaces_its_entry(tmp_path: Path, job_result: JobResult) -> None:
    """Analysing a job twice must not double its weight in the trends."""
    history = History.open(tmp_path)
    history.record(job_result, run_at=RUN_AT)
    fewer = replace(job_result, counts=Counts(20, 18, 2, 0, 0))
    history.record(fewer, run_at=RUN_AT.replace(hour=7))
    entries = history.entries()
    assert len(entries) == 1
    assert entries[0].failed == 2


def test_ledger_never_holds_messages_or_cell_values(tmp_path: Path, job_result: JobResult) -> None:
    """The ledger keeps counts only, so it can be kept and shared without leaking data."""
    History.open(tmp_path).record(job_result, run_at=RUN_AT)
    text = (tmp_path / "history.jsonl").read_text()
    assert "SS-99" not in text
    assert "invalid." not in text


def test_concurrent_records_keep_every_job(tmp_path: Path, result_factory: Callable[..., JobResult]) -> None:
    """Jobs of one run are analysed concurrently; no entry may be lost to a race."""
    history = History.open(tmp_path)
    results = [result_factory(str(100 + i)) for i in range(8)]
    threads = [threading.Thread(target=history.record, args=(r,), kwargs={"run_at": RUN_AT}) for r in results]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(e.job_log_id for e in history.entries()) == [str(100 + i) for i in range(8)]


def test_damaged_line_raises_artifact_error_naming_the_line(tmp_path: Path, job_result: JobResult) -> None:
    """A hand-edited ledger must fail loudly with file and line, not silently drop history."""
    history = History.open(tmp_path)
    history.record(job_result, run_at=RUN_AT)
    with history.path.open("a") as handle:
        handle.write('{"tenant": 5}\n')
    with pytest.raises(ArtifactError) as info:
        history.entries()
    assert info.value.line == 2
    assert "history.jsonl, line 2" in str(info.value)
    assert info.value.exit_code == 8


def test_missing_ledger_has_no_entries(tmp_path: Path) -> None:
    """The first run of a tenant has no history and must not fail for it."""
    assert History.open(tmp_path / "new").entries() == []


def test_trend_sums_jobs_of_a_night_into_a_failed_share(
    tmp_path: Path, result_factory: Callable[..., JobResult]
) -> None:
    """The failed share per night is over all jobs of that night, not an average of shares."""
    history = History.open(tmp_path)
    history.record(result_factory("1"), run_at=RUN_AT)
    clean = replace(result_factory("2"), counts=Counts(80, 80, 0, 0, 0), categories=[])
    history.record(clean, run_at=RUN_AT)
    [night] = trend_by_night(history.entries())
    assert (night.jobs, night.input_rows, night.failed) == (2, 100, 5)
    assert night.failed_share == pytest.approx(0.05)


def test_night_falls_back_to_run_date_without_start_time(tmp_path: Path, job_result: JobResult) -> None:
    """A job folder analysed offline has no start time; its night is the day of the run."""
    undated = replace(
        job_result,
        info=replace(job_result.info, claret=replace(job_result.info.claret, started_at="not a date")),
    )
    history = History.open(tmp_path)
    history.record(undated, run_at=datetime(2026, 11, 30, 1, 0, tzinfo=UTC))
    assert history.entries()[0].night == "2026-11-30"
    assert json.loads(history.path.read_text())["night"] == "2026-11-30"


def test_a_resubmission_adds_no_input_rows_and_its_landed_rows_leave_failed(
    tmp_path: Path, result_factory: Callable[..., JobResult]
) -> None:
    """As the run index counts it: the re-sent rows are the original's failures, not new input; those that
    land stop being outstanding, the failed records of the night stay as first sent."""
    history = History.open(tmp_path)
    history.record(result_factory("1"), run_at=RUN_AT)  # 20 rows, 5 failed
    resent = replace(
        result_factory("2"),
        counts=Counts(5, 4, 1, 0, 0),
        links=[JobLink("resubmission_of", "acme-wines", "1")],
    )
    history.record(resent, run_at=RUN_AT)
    [night] = trend_by_night(history.entries())
    assert (night.jobs, night.input_rows, night.failed) == (1, 20, 5)
    assert (night.landed_on_resubmission, night.outstanding) == (4, 1 + 1 + 0)  # 5 failed + 1 unaccounted - 4
    assert history.entries()[1].resubmission_of == "1"


def test_a_ledger_written_before_resubmission_links_still_reads(
    tmp_path: Path, job_result: JobResult
) -> None:
    """Entries written by an older version lack the field; they read as originals."""
    history = History.open(tmp_path)
    history.record(job_result, run_at=RUN_AT)
    line = json.loads(history.path.read_text())
    del line["resubmission_of"]
    history.path.write_text(json.dumps(line) + "\n")
    assert history.entries()[0].resubmission_of == ""
