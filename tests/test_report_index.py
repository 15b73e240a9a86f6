"""The run index counts each record once, even when a job of the run resubmitted another's failures."""

from __future__ import annotations

from pathlib import Path

from claret_errors.claret.models import JobStatus
from claret_errors.report.index import run_totals
from claret_errors.results import Counts, JobInfo, JobLink, JobResult, NightCounts


def job(job_id: str, counts: Counts, *links: JobLink) -> JobResult:
    return JobResult(
        JobInfo("acme", job_id, JobStatus(status="completed")), Path(job_id), counts=counts, links=list(links)
    )


def test_a_resubmission_in_the_same_run_adds_no_input_and_its_landed_rows_stop_being_outstanding() -> None:
    """Each input row once: failed records stay as first sent, rows that landed when re-sent leave the
    outstanding ones."""
    original = job("1", Counts(100, 80, 19, 1, 0), JobLink("resubmitted_as", "acme", "2"))
    resent = job("2", Counts(12, 10, 2, 0, 0), JobLink("resubmission_of", "acme", "1"))
    other = job("3", Counts(50, 50, 0, 0, 1))
    totals = run_totals([original, resent, other])
    assert totals == NightCounts(2, 1, 150, 130, 19, 1, 1, 10)
    assert totals.adds_up() and totals.outstanding == 19 + 1 - 10


def test_a_resubmission_whose_original_is_not_listed_counts_as_its_own_input() -> None:
    """Without its original, a resubmission's rows are the only record of them: counted as input."""
    resent = job("2", Counts(12, 10, 2, 0, 0), JobLink("resubmission_of", "acme", "1"))
    totals = run_totals([resent, job("9", Counts(5, 5, 0, 0, 0))])
    assert totals == NightCounts(2, 0, 17, 15, 2, 0, 0, 0) and totals.outstanding == 2


def test_the_headline_never_says_every_row_landed_while_a_row_is_outstanding() -> None:
    """Rows outstanding after resubmission make the index's headline bad news, with the count."""
    from claret_errors.report.index import night_headline

    text, ok = night_headline(NightCounts(1, 1, 100, 90, 10, 0, 0, 6))
    assert not ok and text.startswith("4 of 100 rows are still outstanding")
    text, ok = night_headline(NightCounts(1, 1, 100, 90, 10, 0, 0, 10))
    assert ok and text == "Every one of the 100 rows landed, 10 of them on resubmission."


def test_only_plain_job_ids_become_links_to_sibling_reports() -> None:
    from claret_errors.report.view import job_report_href

    assert job_report_href("4712", "") == "../4712/report.html"
    assert job_report_href("4712", "../") == "../../4712/report.html"
    assert (
        job_report_href("../../etc", "") == ""
        and job_report_href("javascript:x", "") == ""
        and job_report_href("٣", "") == ""
    )
