"""The run index view: totals over every job of a run, each job's state and links, worst first.

Plain strings and numbers for the renderers; it never escapes, formats markup or writes files.
"""

from __future__ import annotations

from dataclasses import dataclass

from claret_errors.history import NightTrend
from claret_errors.model import Counts, JobResult
from claret_errors.report_format import clip, rows_of, safe_link
from claret_errors.report_view import headline


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
    return text


def _badness(result: JobResult) -> tuple[int, int]:
    """Sort key: the worst exit code first, then the most rows lost."""
    counts = result.counts
    lost = counts.failed + counts.unaccounted if counts else 0
    return (-result.exit_code, -lost)


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
            )
        )
    analysed = [r.counts for r in results if r.counts is not None]
    totals = Counts(
        input_rows=sum(c.input_rows for c in analysed),
        imported=sum(c.imported for c in analysed),
        failed=sum(c.failed for c in analysed),
        unaccounted=sum(c.unaccounted for c in analysed),
        anomalies=sum(c.anomalies for c in analysed),
    )
    verdict, ok = headline(totals, None)
    not_analysed = len(results) - len(analysed)
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
