"""The view of a job that both report formats render: plain strings and numbers, capped, in reading order.

Reads a JobResult (optionally narrowed to one owner) and computes every table once. It never escapes,
formats markup or writes files: the HTML and Markdown renderers do that, each with its own escaping.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

from claret_errors.history import NightTrend
from claret_errors.report import tables
from claret_errors.report.format import ROW_CAP, Table, clip, duration, rows_of, safe_link, when
from claret_errors.report.tables import CategoryRow, Record
from claret_errors.results import Counts, JobResult


@dataclass(frozen=True)
class OwnerLink:
    """An owner's report, linked from the job's report."""

    owner: str
    href: str  # relative to the job folder, e.g. owners/cellar.html
    records: int


@dataclass
class JobView:
    """Everything a job (or one owner's share of it) report shows, most important first."""

    tenant: str
    job_log_id: str
    title: str
    owner: str | None
    verdict: str
    ok: bool
    counts: Counts | None
    facts: list[tuple[str, str]]
    job_link: str | None
    error: str | None
    missing: list[str]
    unclassified: Table
    categories: list[CategoryRow]
    by_field: Table
    top_values: Table
    records: list[Record]
    records_total: int
    record_columns: list[str]
    attention_by_owner: Table
    attention: Table
    anomalies: Table
    unaccounted: Table
    findings: Table
    detection: list[tuple[str, str]]
    corrections: list[tuple[str, str]]
    links: list[tuple[str, str, str, str]]  # relation, job, file, relative href of its report ("" if none)
    next_steps: list[str]
    owners: list[OwnerLink] = field(default_factory=list)
    trends: list[NightTrend] = field(default_factory=list)
    trend_note: str = ""  # why there are no trends, when there are none
    trend_categories: list[str] = field(default_factory=list)
    link_prefix: str = ""  # "../" in an owner report, so CSV links still point next to report.html


def _next_steps(result: JobResult, by_owner: Table, attention: Table) -> list[str]:
    """Two or three sentences on what to do this morning, from the fix stage's counts."""
    fx = result.fixes
    if fx is None:
        return []
    steps = []
    ready = fx.auto_fixed_rows + fx.suggested_rows
    if fx.corrected_files and ready:
        files = ", ".join(p.name for p in fx.corrected_files[:3]) + (
            " …" if len(fx.corrected_files) > 3 else ""
        )
        steps.append(
            f"{rows_of(fx.auto_fixed_rows)} corrected automatically and {rows_of(fx.suggested_rows)} with a "
            f"suggestion: check and resubmit {files}."
        )
    if by_owner.total:
        who = ", ".join(f"{row[0]} ({row[1]})" for row in by_owner.rows[:6])
        more = f" and {by_owner.total - 6} more owners" if by_owner.total > 6 else ""
        steps.append(f"{rows_of(attention.total)} need a person: {who}{more}. See needs_attention.csv.")
    return steps


def headline(counts: Counts | None, error: str | None) -> tuple[str, bool]:
    """The one sentence a reader sees first, and whether it is good news."""
    if counts is None:
        return (
            f"This job could not be analysed: {clip(error)}" if error else "This job was not analysed."
        ), False
    missing = counts.failed + counts.unaccounted
    if missing == 0 and counts.anomalies == 0:
        return f"Every one of the {counts.input_rows:,} rows landed.", True
    parts = f"{missing:,} of {counts.input_rows:,} rows did not land"
    detail = f"{counts.failed:,} failed, {counts.unaccounted:,} unaccounted for"
    noun = "anomaly" if counts.anomalies == 1 else "anomalies"
    extra = f"; {counts.anomalies:,} {noun} to check" if counts.anomalies else ""
    return f"{parts}: {detail}{extra}.", False


def job_report_href(job_log_id: str, prefix: str) -> str:
    """A linked job's report, in its sibling folder (resubmissions land beside the original); only plain
    job ids make a link, so nothing from outside can steer it."""
    return f"{prefix}../{job_log_id}/report.html" if job_log_id.isascii() and job_log_id.isdigit() else ""


def build_job_view(
    result: JobResult,
    *,
    owner: str | None = None,
    owners: list[OwnerLink] | None = None,
    trends: list[NightTrend] | None = None,
    trend_note: str = "",
) -> JobView:
    """The whole report's content; `owner` narrows records, messages and corrections to that owner."""
    info = result.info
    recon = result.reconciliation
    failed = (
        recon.failed.filter(pl.col("input_row").is_not_null())
        if recon is not None and tables.has(recon.failed, "input_row")
        else None
    )
    messages = recon.messages if recon is not None else None
    if failed is not None and owner is not None:
        failed = failed.filter(tables.owner_expr() == owner) if "owner" in failed.columns else failed.clear()
    owner_rows: set[int] | None = None
    if failed is not None and owner is not None:
        owner_rows = set(failed["input_row"].to_list())
        if messages is not None and "input_row" in messages.columns:
            messages = messages.filter(pl.col("input_row").is_in(owner_rows))
    columns = tables.input_columns(result, failed) if failed is not None else []
    failed_total = failed.height if failed is not None else (result.counts.failed if result.counts else 0)

    missing: list[str] = []
    if recon is None:
        missing.append("The failed records were not reconciled, so no record-level detail is shown.")
    if result.fixes is None:
        missing.append("No corrections were attempted for this job.")

    counts = result.counts
    verdict, ok = headline(counts, result.error)
    if owner is not None:
        routed = "failed record is" if failed_total == 1 else "failed records are"
        verdict = f"{failed_total:,} {routed} routed to {owner}. {verdict}"

    facts = [
        ("tenant", info.tenant),
        ("job", info.job_log_id),
        ("type", info.type or info.description),
        ("status", info.status),
        ("started", when(info.started_at)),
        ("completed", when(info.completed_at)),
        ("duration", duration(info.started_at, info.completed_at) or "unknown"),
    ]
    corrections = tables.corrections(result, owner_rows)
    attention_by_owner, attention = tables.attention(result, owner, owner_rows)
    next_steps = _next_steps(result, attention_by_owner, attention) if owner is None else []
    anomalies = (
        tables.table(
            recon.anomalies,
            ["kind", "input_row", "source", "detail"],
            ["kind", "input_row", "source", "detail"],
        )
        if recon is not None
        and owner is None
        and tables.has(recon.anomalies, "kind", "input_row", "source", "detail")
        else tables.empty(["kind", "input_row", "source", "detail"])
    )
    unaccounted = (
        tables.table(recon.unaccounted.sort("input_row"), ["input_row"], ["input_row"])
        if recon is not None and owner is None and tables.has(recon.unaccounted, "input_row")
        else tables.empty(["input_row"])
    )
    findings = (
        Table(
            ["severity", "file", "check", "column", "row", "value", "message"],
            [
                [
                    clip(f.severity),
                    clip(f.file),
                    clip(f.check),
                    clip(f.column),
                    clip(f.row),
                    clip(f.value),
                    clip(f.message),
                ]
                for f in result.findings[:ROW_CAP]
            ],
            len(result.findings),
            "summary.json",
        )
        if owner is None
        else tables.empty(["severity", "file", "check", "column", "row", "value", "message"])
    )
    trend_cats = sorted({c for t in trends or [] for c in t.categories})
    return JobView(
        tenant=info.tenant,
        job_log_id=info.job_log_id,
        title=f"Import job {info.job_log_id} of {info.tenant}" + (f": records for {owner}" if owner else ""),
        owner=owner,
        verdict=verdict,
        ok=ok,
        counts=counts,
        facts=[(k, clip(v)) for k, v in facts],
        job_link=safe_link(info.job_status_link),
        error=clip(result.error, 2000) if result.error else None,
        missing=missing,
        unclassified=tables.unclassified(messages),
        categories=tables.categories(result, messages, failed_total, owner),
        by_field=tables.by_field(messages),
        top_values=tables.top_values(messages, failed, columns),
        records=tables.records(result, failed, columns) if failed is not None else [],
        records_total=failed_total,
        record_columns=columns,
        attention_by_owner=attention_by_owner,
        attention=attention,
        anomalies=anomalies,
        unaccounted=unaccounted,
        findings=findings,
        detection=tables.detection(result),
        corrections=corrections,
        next_steps=next_steps,
        links=[
            (
                k.relation.replace("_", " "),
                clip(k.job_log_id),
                clip(k.file),
                job_report_href(k.job_log_id, "../" if owner is not None else ""),
            )
            for k in result.links
        ],
        owners=owners or [],
        trends=trends or [],
        trend_note=clip(trend_note, 500),
        trend_categories=trend_cats,
        link_prefix="../" if owner is not None else "",
    )
