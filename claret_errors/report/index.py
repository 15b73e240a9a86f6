"""The run index view: totals over every job of a run, each job's state and links, worst first.

Plain strings and numbers for the renderers; it never escapes, formats markup or writes files.
"""

from __future__ import annotations

from dataclasses import dataclass

from claret_errors.history import NightTrend
from claret_errors.report.format import clip, rows_of, safe_link
from claret_errors.report.view import headline, todo_summary
from claret_errors.results import Counts, JobResult


@dataclass(frozen=True)
class IndexJob:
    """One line of the run index."""

    job_log_id: str
    type: str
    status: str
    counts: Counts | None
    ok: bool
    outcome: str
    html: str  # relative link to the job's report.html
    md: str
    link: str | None
    todo: str = ""  # the job's to-do list in one line ("" when there is nothing to do)


@dataclass(frozen=True)
class IndexView:
    """The run: totals over every job, each job's state, and the tenant's trends."""

    title: str
    verdict: str
    ok: bool
    totals: Counts
    jobs: list[IndexJob]
    trends: list[NightTrend]
    trend_note: str
    trend_categories: list[str]


def _outcome(result: JobResult) -> str:
    """The index's one-cell outcome: the counts are in their own columns."""
    counts = result.counts
    if counts is None:
        return f"not analysed: {clip(result.error, 120)}" if result.error else "not analysed"
    missing = counts.failed + counts.unaccounted
    text = f"{rows_of(missing)} did not land" if missing else "every row landed"
    if counts.anomalies:
        text += f", {counts.anomalies:,} anomal{'y' if counts.anomalies == 1 else 'ies'}"
    for relation, words in (
        ("resubmitted_as", "resubmitted as job"),
        ("resubmission_of", "resubmission of job"),
    ):
        jobs = list(dict.fromkeys(clip(k.job_log_id) for k in result.links if k.relation == relation))
        if jobs:
            text += f"; {words}{'s' if len(jobs) > 1 else ''} {', '.join(jobs)}"
    return text


def _badness(result: JobResult) -> tuple[int, int]:
    """Sort key: the worst exit code first, then the most rows lost."""
    counts = result.counts
    lost = counts.failed + counts.unaccounted if counts else 0
    return (-result.exit_code, -lost)


def run_totals(results: list[JobResult]) -> tuple[Counts, int]:
    """The run's accounting with each record once: a resubmission of a job in this run re-sends rows that
    already count as that job's failures, so its rows are not new input; those that landed move from failed
    to imported. Returns the totals and how many rows landed on resubmission."""
    in_run = {r.info.job_log_id for r in results}
    input_rows = imported = failed = unaccounted = anomalies = recovered = 0
    for result in results:
        counts = result.counts
        if counts is None:
            continue
        resent = any(k.relation == "resubmission_of" and k.job_log_id in in_run for k in result.links)
        if resent:
            recovered += counts.imported
        else:
            input_rows += counts.input_rows
            failed += counts.failed
            unaccounted += counts.unaccounted
        imported += counts.imported
        anomalies += counts.anomalies
    failed = max(failed - recovered, 0)
    return Counts(input_rows, imported, failed, unaccounted, anomalies), recovered


def build_index_view(
    results: list[JobResult],
    hrefs: list[tuple[str, str]],
    trends: list[NightTrend],
    tenant: str,
    *,
    trend_note: str = "",
) -> IndexView:
    """The run index; `hrefs` gives each result's (report.html, report.md) links, in the same order."""
    pairs = sorted(zip(results, hrefs, strict=True), key=lambda p: _badness(p[0]))
    jobs = []
    for result, (html, md) in pairs:
        _, ok = headline(result.counts, result.error)
        jobs.append(
            IndexJob(
                job_log_id=clip(result.info.job_log_id),
                type=clip(result.info.type or result.info.description),
                status=clip(result.info.status),
                counts=result.counts,
                ok=ok,
                outcome=_outcome(result),
                html=html,
                md=md,
                link=safe_link(result.info.job_status_link),
                todo=todo_summary(result),
            )
        )
    totals, recovered = run_totals(results)
    verdict, ok = headline(totals, None)
    if recovered:
        verdict += f" {rows_of(recovered)} landed when resubmitted, and count as imported."
    not_analysed = sum(1 for r in results if r.counts is None)
    if not_analysed:
        verdict += f" {not_analysed} of {len(results)} jobs could not be analysed."
        ok = False
    return IndexView(
        title=f"Import run of {clip(tenant)}",
        verdict=verdict,
        ok=ok,
        totals=totals,
        jobs=jobs,
        trends=trends,
        trend_note=clip(trend_note, 500),
        trend_categories=sorted({c for t in trends for c in t.categories}),
    )
