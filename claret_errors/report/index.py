"""The run index view: the whole night's totals by the counts model, each job's state and links, worst first.

Plain strings and numbers for the renderers; it never escapes, formats markup or writes files.
"""

from __future__ import annotations

from dataclasses import dataclass

from claret_errors.history import NightTrend
from claret_errors.report.format import clip, rows_of, safe_link
from claret_errors.report.view import attempt_note, headline, todo_summary
from claret_errors.results import Counts, JobResult, NightCounts, night_counts


@dataclass(frozen=True)
class IndexJob:
    """One line of the run index."""

    job_log_id: str
    type: str
    status: str
    counts: Counts | None
    resubmission: bool  # re-sent rows of a job listed above: its rows are not new input
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
    totals: NightCounts
    jobs: list[IndexJob]
    trends: list[NightTrend]
    trend_note: str
    trend_categories: list[str]


def _outcome(result: JobResult, resubmission: bool) -> str:
    """The index's one-cell outcome, each number saying what it counts (the counts have their columns)."""
    counts = result.counts
    if counts is None:
        return f"not analysed: {clip(result.error, 120)}" if result.error else "not analysed"
    if resubmission:
        text = f"{rows_of(counts.imported)} of {counts.input_rows:,} re-sent landed"
    elif counts.did_not_land:
        text = f"{rows_of(counts.did_not_land)} did not land on first sending"
    else:
        text = "every row landed"
    if counts.anomalies:
        text += f", {counts.anomalies:,} anomal{'y' if counts.anomalies == 1 else 'ies'}"
    for relation, words in (
        ("resubmitted_as", "resubmitted as job"),
        ("resubmission_of", "resubmission of job"),
    ):
        jobs = list(dict.fromkeys(clip(k.job_log_id) for k in result.links if k.relation == relation))
        if jobs:
            text += f"; {words}{'s' if len(jobs) > 1 else ''} {', '.join(jobs)}"
    if result.attempt is not None:
        text += f"; {attempt_note(result.attempt)}"
    if result.unknown_uploads:
        text += f"; {plural(len(result.unknown_uploads), 'resend')} with an unknown outcome"
    return text


def _badness(result: JobResult) -> tuple[int, int]:
    """Sort key: the worst exit code first, then the most rows lost."""
    counts = result.counts
    return (-result.exit_code, -(counts.did_not_land if counts else 0))


def _resubmissions(results: list[JobResult]) -> set[int]:
    """Positions of the jobs that re-sent rows of another job listed: their rows are not new input."""
    listed = {(r.info.tenant, r.info.job_log_id) for r in results}
    return {
        i
        for i, r in enumerate(results)
        if any(k.relation == "resubmission_of" and (r.info.tenant, k.job_log_id) in listed for k in r.links)
    }


def run_totals(results: list[JobResult]) -> NightCounts:
    """The night's accounting by the counts model: each input row once, resubmissions' landed rows apart."""
    resent = _resubmissions(results)
    return night_counts((r.counts, i in resent) for i, r in enumerate(results) if r.counts is not None)


def plural(n: int, noun: str) -> str:
    """`1 failed record`, `2 failed records`."""
    return f"{n:,} {noun}" if n == 1 else f"{n:,} {noun}s"


def night_headline(totals: NightCounts) -> tuple[str, bool]:
    """The index's first sentence: it says every row landed only when no row of the night is outstanding."""
    noun = "anomaly" if totals.anomalies == 1 else "anomalies"
    extra = f" {totals.anomalies:,} {noun} to check." if totals.anomalies else ""
    if totals.outstanding:
        landed = (
            f", {totals.landed_on_resubmission:,} of them landed on resubmission"
            if totals.resubmissions
            else ""
        )
        return (
            f"{totals.outstanding:,} of {totals.input_rows:,} rows are still outstanding: "
            f"{plural(totals.failed, 'failed record')} and {plural(totals.unaccounted, 'unaccounted row')} "
            f"on first sending{landed}.{extra}"
        ), False
    landed = (
        f", {totals.landed_on_resubmission:,} of them on resubmission"
        if totals.landed_on_resubmission
        else ""
    )
    return f"Every one of the {totals.input_rows:,} rows landed{landed}.{extra}", not totals.anomalies


def build_index_view(
    results: list[JobResult],
    hrefs: list[tuple[str, str]],
    trends: list[NightTrend],
    tenant: str,
    *,
    trend_note: str = "",
) -> IndexView:
    """The run index; `hrefs` gives each result's (report.html, report.md) links, in the same order."""
    resent = _resubmissions(results)
    pairs = sorted(
        ((r, h, i in resent) for i, (r, h) in enumerate(zip(results, hrefs, strict=True))),
        key=lambda p: (p[2], _badness(p[0])),  # the night's own jobs first, then their resubmissions
    )
    jobs = []
    for result, (html, md), resubmission in pairs:
        _, ok = headline(result.counts, result.error)
        jobs.append(
            IndexJob(
                job_log_id=clip(result.info.job_log_id),
                type=clip(result.info.type or result.info.description),
                status=clip(result.info.status),
                counts=result.counts,
                resubmission=resubmission,
                ok=ok and result.attempt is None and not result.unknown_uploads,
                outcome=_outcome(result, resubmission),
                html=html,
                md=md,
                link=safe_link(result.info.job_status_link),
                todo=todo_summary(result),
            )
        )
    totals = run_totals(results)
    verdict, ok = night_headline(totals)
    not_analysed = sum(1 for r in results if r.counts is None)
    if not_analysed:
        verdict += f" {not_analysed} of {len(results)} jobs could not be analysed."
        ok = False
    retried = sum(1 for r in results if r.attempt is not None)
    if retried:
        verdict += (
            f" The last attempt at {retried} of {len(results)} jobs failed;"
            " their last good analysis is shown."
        )
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
