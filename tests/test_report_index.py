"""The run index counts each record once, even when a job of the run resubmitted another's failures."""

from __future__ import annotations

from pathlib import Path

from claret_errors.report.index import run_totals
from claret_errors.results import Counts, JobInfo, JobLink, JobResult


def job(job_id: str, counts: Counts, *links: JobLink) -> JobResult:
    return JobResult(
        JobInfo("acme", job_id, status="completed"), Path(job_id), counts=counts, links=list(links)
    )


def test_a_resubmission_in_the_same_run_moves_its_landed_rows_from_failed_to_imported() -> None:
    original = job("1", Counts(100, 80, 19, 1, 0), JobLink("resubmitted_as", "acme", "2"))
    resent = job("2", Counts(12, 10, 2, 0, 0), JobLink("resubmission_of", "acme", "1"))
    other = job("3", Counts(50, 50, 0, 0, 1))
    totals, recovered = run_totals([original, resent, other])
    assert recovered == 10
    assert totals == Counts(input_rows=150, imported=140, failed=9, unaccounted=1, anomalies=1)
    assert totals.adds_up()


def test_a_resubmission_whose_original_is_not_in_the_run_counts_as_its_own_input() -> None:
    resent = job("2", Counts(12, 10, 2, 0, 0), JobLink("resubmission_of", "acme", "1"))
    totals, recovered = run_totals([resent, job("9", Counts(5, 5, 0, 0, 0))])
    assert recovered == 0 and totals == Counts(17, 15, 2, 0, 0)


def test_only_plain_job_ids_become_links_to_sibling_reports() -> None:
    from claret_errors.report.view import job_report_href

    assert job_report_href("4712", "") == "../4712/report.html"
    assert job_report_href("4712", "../") == "../../4712/report.html"
    assert (
        job_report_href("../../etc", "") == ""
        and job_report_href("javascript:x", "") == ""
        and job_report_href("٣", "") == ""
    )
