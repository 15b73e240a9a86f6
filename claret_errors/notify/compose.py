"""Compose the night's messages: one e-mail per owner with rows to fix, the digest, the chat summary.

Everything shown comes from the job folders (see `shares`); HTML is rendered with autoescape on and no
external resources, headers carry no line breaks, attachments above a size cap become a path in the body.
Composes only: nothing here sends, and nothing here reads the SMTP password.
"""

from __future__ import annotations

import mimetypes
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from claret_errors.files.csvwrite import render_csv
from claret_errors.notify.shares import JobShare, NightJob
from claret_errors.redact import printable, redact
from claret_errors.report.format import safe_link
from claret_errors.report.index import plural
from claret_errors.report.view import guess_note, unknown_line, unknown_note
from claret_errors.results import Counts, night_counts

DIGEST = "digest"


@dataclass(frozen=True)
class Notice:
    """One message to send: who it is for (an owner, or the digest), to whom, and the message itself."""

    key: str  # "owner:cellar" or "digest": what the ledger remembers per night
    recipients: tuple[str, ...]
    message: EmailMessage
    rows_to_fix: int


@dataclass(frozen=True)
class Night:
    """What every message of a night shares."""

    tenant: str
    night: str
    jobs: list[NightJob]
    sender: str
    attachment_cap: int  # bytes; above it the body gives the file's path instead


@cache
def _environment() -> Environment:
    """One environment a process: autoescape for every HTML template, none for the plain-text ones."""
    return Environment(
        loader=PackageLoader("claret_errors.notify", "templates"),
        autoescape=select_autoescape(enabled_extensions=("html.j2",), default_for_string=True, default=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def _render(name: str, **context: Any) -> str:
    return redact(_environment().get_template(name).render(**context))


def _header(text: str) -> str:
    """A header value with no line breaks or control characters, so nothing can inject a header."""
    return printable(text, 200).strip()


def _message(night: Night, to: tuple[str, ...], subject: str, text: str, html: str) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = _header(subject)
    message["From"] = night.sender
    message["To"] = ", ".join(to)
    message["Date"] = formatdate(localtime=True)
    message["Message-ID"] = make_msgid(domain=night.sender.rpartition("@")[2] or None)
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies to a robot
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    return message


def _owner_attachment(job: NightJob, owner: str, share: JobShare) -> tuple[str, bytes, Path | None]:
    """The owner's worksheet for a job: their own file when the job wrote one, else their rows of
    needs_attention.csv (already neutralised for spreadsheets when it was written)."""
    name_prefix = f"job-{job.job_log_id}-"
    if share.worksheet is not None:
        return name_prefix + share.worksheet.name, share.worksheet.read_bytes(), share.worksheet
    header = job.attention_header
    rows = [[row.get(col) or "" for col in header] for row in job.attention_rows(owner)]
    return (
        f"{name_prefix}{owner}_needs_attention.csv",
        redact(render_csv(header, rows).decode()).encode(),
        None,
    )


def todo_across(shares: list[tuple[NightJob, JobShare]]) -> list[dict[str, Any]]:
    """One to-do line per action over the night's jobs, most rows first, with the files to open and, when
    the action rests on a guess at what Claret meant, the reports' words for that."""
    todo: dict[str, dict[str, Any]] = {}
    for job, share in shares:
        for line in share.todo:
            item = todo.setdefault(line.action, {"action": line.action, "rows": 0, "guessed": 0, "files": {}})
            item["rows"] += line.rows
            item["guessed"] += line.guessed
            item["files"].setdefault(line.file, []).append(job.job_log_id)
    for item in todo.values():
        item["guess"] = guess_note(item.pop("guessed"), item["rows"])
        item["where"] = [
            f"{file} of job{'s' if len(jobs) > 1 else ''} {', '.join(jobs)}"
            for file, jobs in item.pop("files").items()
        ]
    return sorted(todo.values(), key=lambda item: -int(item["rows"]))


def owner_notice(night: Night, owner: str, to: tuple[str, ...]) -> Notice | None:
    """The owner's message for the night, or None when no job of the night holds a row of theirs."""
    shares = [(job, job.share(owner)) for job in night.jobs]
    shares = [(job, share) for job, share in shares if share.failed_rows]
    if not shares:
        return None
    to_fix = sum(share.to_fix_rows for _, share in shares)
    auto = sum(share.auto_fixed_rows for _, share in shares)
    failed = sum(share.failed_rows for _, share in shares)
    if to_fix:
        subject = f"Claret imports {night.night} ({night.tenant}): {to_fix} rows for {owner} to fix"
    else:
        subject = f"Claret imports {night.night} ({night.tenant}): nothing for {owner} to fix"
    attach: list[tuple[str, bytes]] = []
    too_big: list[str] = []
    for job, share in shares:
        if not share.to_fix_rows:
            continue
        name, data, path = _owner_attachment(job, owner, share)
        if len(data) > night.attachment_cap:
            where = path or job.folder / "needs_attention.csv"
            too_big.append(f"{name} ({len(data):,} bytes, above the attachment limit): {where}")
        else:
            attach.append((name, data))
    context = {
        "todo": todo_across(shares),
        "owner": owner,
        "tenant": night.tenant,
        "night": night.night,
        "failed": failed,
        "auto": auto,
        "to_fix": to_fix,
        "jobs": [{"job": job, "share": share, "link": safe_link(share.status_link)} for job, share in shares],
        "attached": [name for name, _ in attach],
        "too_big": too_big,
        "unsure": [
            {"job": job.job_log_id, "note": unknown_note(upload, owner=True, yours=mine)}
            for job, _ in shares
            for upload, mine in job.unknown_for(owner)
        ],
    }
    message = _message(
        night, to, subject, _render("owner.txt.j2", **context), _render("owner.html.j2", **context)
    )
    for name, data in attach:
        kind, _ = mimetypes.guess_type(name)
        maintype, subtype = (kind or "application/octet-stream").split("/", 1)
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return Notice(key=f"owner:{owner}", recipients=to, message=message, rows_to_fix=to_fix)


def digest_notice(night: Night, to: tuple[str, ...], owners: list[str]) -> Notice:
    """The data team's digest: every job of the night and every owner's rows."""
    by_owner = []
    for owner in owners:
        shares = [job.share(owner) for job in night.jobs]
        failed = sum(s.failed_rows for s in shares)
        if failed:
            by_owner.append(
                {
                    "owner": owner,
                    "failed": failed,
                    "auto": sum(s.auto_fixed_rows for s in shares),
                    "to_fix": sum(s.to_fix_rows for s in shares),
                }
            )
    context = digest_context(night) | {"by_owner": by_owner}
    subject = f"Claret imports {night.night} ({night.tenant}): {context['headline']}"
    message = _message(
        night, to, subject, _render("digest.txt.j2", **context), _render("digest.html.j2", **context)
    )
    return Notice(key=DIGEST, recipients=to, message=message, rows_to_fix=context["to_fix"])


def _counts(job: NightJob) -> Counts:
    """A job's counts as its summary.json records them."""
    return Counts(
        *(job.counts.get(k, 0) for k in ("input_rows", "imported", "failed", "unaccounted", "anomalies"))
    )


def digest_context(night: Night) -> dict[str, Any]:
    """The night's totals: originals (the night's own imports) apart from their resubmissions, so no row
    is counted twice; each sum is of the jobs' own counts (summary.json) or needs_attention rows."""
    resubmissions = {target for job in night.jobs for target in job.resubmitted_as}
    originals = [job for job in night.jobs if job.job_log_id not in resubmissions]
    again = [job for job in night.jobs if job.job_log_id in resubmissions]

    counted = night_counts((_counts(job), job in again) for job in night.jobs)
    totals = {
        "input_rows": counted.input_rows,
        "imported": counted.imported,
        "failed": counted.failed,
        "unaccounted": counted.unaccounted,
    }
    resent = sum(job.counts.get("input_rows", 0) for job in again)
    landed_again = counted.landed_on_resubmission
    outstanding = counted.outstanding
    to_fix = sum(len(job.attention) for job in night.jobs)
    failed_jobs = [job for job in night.jobs if job.status == "failed" or job.error]
    if failed_jobs:
        headline = f"{len(failed_jobs)} of {len(night.jobs)} jobs failed or could not be analysed"
    elif outstanding > 0:
        headline = f"{outstanding} rows still outstanding, {to_fix} need a person"
    else:
        headline = f"every one of the {totals['input_rows']} input rows landed"
    unsure = [(job, upload) for job in night.jobs for upload in job.unknown]
    if unsure:  # whatever else the night says, the operator has a resend to settle by hand
        headline += f"; {plural(len(unsure), 'resend')} with an unknown outcome"
    jobs = [
        {"job": job, "link": safe_link(job.status_link), "resubmission": job in again} for job in night.jobs
    ]
    return {
        "tenant": night.tenant,
        "night": night.night,
        "totals": totals,
        "originals": len(originals),
        "resent": resent,
        "landed_again": landed_again,
        "outstanding": outstanding,
        "to_fix": to_fix,
        "headline": headline,
        "jobs": jobs,
        "unsure": [
            {"job": job.job_log_id, "note": unknown_note(upload), "line": unknown_line(upload)}
            for job, upload in unsure
        ],
    }


def chat_text(night: Night) -> str:
    """The run summary for chat: a few lines of plain text, the same counts as the digest."""
    context = digest_context(night)
    return _render("chat.txt.j2", **context).strip()
