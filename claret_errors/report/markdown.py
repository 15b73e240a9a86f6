"""Markdown rendering of the report views: GitHub-flavoured tables that also read as plain text.

Every value is escaped on its way out (a jinja2 `finalize`) by `markdown_text`: Markdown's own backslash
escapes, never HTML entities, so a plain-text reader sees `a > b & c` as written and no raw HTML passes. A
cell starting like a spreadsheet formula gets a leading `'`. Only tables built here
from escaped cells pass through as `Md`. Nothing here writes files.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from functools import cache

from jinja2 import Environment, PackageLoader, StrictUndefined

from claret_errors import __version__
from claret_errors.files.mdtext import markdown_text
from claret_errors.reconcile.advice import GUESSED
from claret_errors.report.compiled import bytecode_cache
from claret_errors.report.format import Table, clip, rows_of
from claret_errors.report.index import IndexView
from claret_errors.report.tables import Record
from claret_errors.report.view import AttemptBanner, JobView, LandedNote, RecordGroup

TEMPLATE_EXTENSIONS = ("md.j2",)
MD_CELL_CAP = 80
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[-+]?\d+(\.\d+)?")
ATTEMPT_LEAD = "> **Not up to date:**"  # the first line of a failed attempt's banner starts so


class Md(str):
    """Markdown already escaped here; the template's finalize passes it through unchanged."""

    __slots__ = ()


def escape(value: object) -> Md:
    """One untrusted value as inert inline Markdown on a single line."""
    text = " ".join(("" if value is None else str(value)).split())
    if text.startswith(_FORMULA_START) and not _NUMBER.fullmatch(text):
        text = "'" + text
    return Md(markdown_text(text))


def code(value: object) -> Md:
    """A file name as a code span: shown as written (backslash escapes do not work in one), on one line,
    fenced by more backticks than it holds."""
    text = " ".join(str(value).split())
    fence = "`" * (max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return Md(f"{fence}{pad}{text}{pad}{fence}")


def _finalize(value: object) -> object:
    if isinstance(value, Md):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return escape(value)


def _cell(value: object) -> Md:
    return value if isinstance(value, Md) else escape(clip(value, MD_CELL_CAP))


def md_table(headers: Sequence[str], rows: Iterable[Sequence[object]], numeric: Sequence[str] = ()) -> Md:
    """A GFM table padded so its columns line up in plain text too."""
    head = [escape(h) for h in headers]
    body = [[_cell(v) for v in row] for row in rows]
    widths = [max([3, len(h), *(len(r[i]) for r in body)]) for i, h in enumerate(head)]
    right = [h in numeric for h in headers]

    def line(cells: Sequence[str]) -> str:
        padded = (c.rjust(w) if r else c.ljust(w) for c, w, r in zip(cells, widths, right, strict=True))
        return "| " + " | ".join(padded) + " |"

    rule = (
        "| "
        + " | ".join(("-" * (w - 1) + ":") if r else "-" * w for w, r in zip(widths, right, strict=True))
        + " |"
    )
    return Md("\n".join([line(head), rule, *(line(r) for r in body)]))


def table(t: Table, numeric: Sequence[str] = ()) -> Md:
    """A capped view table, with a note pointing at the CSV that holds every row."""
    if t.total == 0:
        return Md("None.")
    text = md_table(t.headers, t.rows, numeric)
    if t.capped:
        where = f"; all of them are in {code(t.csv)}" if t.csv else ""
        text = Md(f"{text}\n\n_The first {len(t.rows):,} of {t.total:,} rows{where}._")
    return text


def records_table(view: JobView, group: RecordGroup) -> Md:
    """One to-do line's failed records as sent: `⚠` before a faulty cell, `old → new` for a correction."""

    def cell(c_text: str, faulty: bool, fixed_to: str | None) -> Md:
        if fixed_to is not None:
            return Md(f"{_cell(c_text)} → {_cell(fixed_to)}")
        return Md(f"⚠ {_cell(c_text) or '(empty)'}") if faulty else _cell(c_text)

    def row(r: Record) -> list[object]:
        cells: list[object] = [r.input_row, *(cell(c.text, c.faulty, c.fixed_to) for c in r.cells)]
        messages = Md(" · ".join(_cell(m) + (f" _(meaning: {GUESSED})_" if g else "") for m, g in r.said))
        return [*cells, messages] + ([r.suggestion] if group.suggestions else [])

    headers = ["row", *view.record_columns, "Claret said"] + (["suggestion"] if group.suggestions else [])
    return md_table(headers, (row(r) for r in group.records), ("row",))


def todo_lines(view: JobView) -> Md:
    """The to-do list: a line per owner, then a bullet per action with its count and file."""
    lines = []
    for g in view.todo:
        who = f"{escape(g.owner)}: {rows_of(g.rows)} to fix" if g.owner else "Whoever re-uploads to Claret"
        lines.append(f"**{who}**" + (f" in {code(g.file)}" if g.file else "") + "\n")
        lines.extend(
            f"- **{rows_of(i.rows)}**: {escape(i.sentence)}"
            + (f" _({escape(i.guess)})_" if i.guess else "")
            + ("" if g.file else f" In {code(i.file)}.")
            for i in g.items
        )
        if g.more:
            lines.append(
                f"- {g.more:,} more {'line' if g.more == 1 else 'lines'} in {escape(g.owner)}'s report"
            )
        lines.append("")
    if view.todo_note:
        lines.append(escape(view.todo_note) if view.todo else f"**{escape(view.todo_note)}**")
    return Md("\n".join(lines).strip())


def landed_line(note: LandedNote) -> Md:
    """Rows imported since by a resubmission, with that job's Markdown report when it is beside this one."""
    report = f"; its report: {code(note.href.removesuffix('.html') + '.md')}" if note.href else ""
    return Md(f"{escape(note.lead)} job {escape(note.job)} ({escape(note.how)}{report}); {escape(note.rest)}")


def correction_rows(view: JobView) -> list[list[object]]:
    """The automatic changes by kind, with an example and the assumption each made."""
    return [
        [c.field, Md(f"{_cell(c.before)} → {_cell(c.after)}"), c.rows, c.assumption or "—"]
        for c in view.auto_corrections
    ]


@cache
def environment() -> Environment:
    """The Markdown environment: no HTML autoescape (not HTML), but every output escaped by `finalize`."""
    env = Environment(
        loader=PackageLoader("claret_errors.report", "templates"),
        bytecode_cache=bytecode_cache("markdown"),
        autoescape=False,  # noqa: S701 - Markdown, escaped by _finalize for Markdown and HTML alike
        finalize=_finalize,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.globals.update(
        md_table=md_table,
        table=table,
        category_rows=category_rows,
        correction_rows=correction_rows,
        records_table=records_table,
        todo_lines=todo_lines,
        landed_line=landed_line,
        fact_rows=fact_rows,
        job_rows=job_rows,
        trends=trends,
        version=__version__,
        attempt_lead=Md(ATTEMPT_LEAD.removeprefix("> ")),
    )
    return env


def render_job_md(view: JobView) -> str:
    """A job's (or one owner's) report in Markdown."""
    return environment().get_template("job.md.j2").render(v=view)


def render_attempt_md(banner: AttemptBanner) -> str:
    """The banner alone, as a job report renders it under its title."""
    return environment().get_template("_attempt.md.j2").render(b=banner)


def render_index_md(view: IndexView) -> str:
    """The run index in Markdown."""
    return environment().get_template("index.md.j2").render(v=view)


def category_rows(view: JobView) -> list[list[object]]:
    """The category table's rows, with what to do about each."""
    return [
        [
            c.category,
            c.field or "—",
            c.records,
            c.share,
            c.auto_fixed,
            Md(f"_{escape(c.how_known)}_") if c.uncertain else c.how_known,
            Md(escape(c.advice)),
        ]
        for c in view.categories
    ]


def fact_rows(view: JobView) -> list[list[object]]:
    """The job's facts, its link in Claret and its related jobs."""
    rows: list[list[object]] = [[k, v] for k, v in view.facts]
    rows.append(["in Claret", view.job_link or "no link given"])
    rows.extend(
        [
            rel,
            f"job {job}"
            + (f" ({file})" if file else "")
            + (f", report {href.removesuffix('.html')}.md" if href else ""),
        ]
        for rel, job, file, href in view.links
    )
    return rows


def job_rows(view: IndexView) -> Md:
    """The index's job table, with the relative links to each job's reports."""
    headers = [
        "job",
        "type",
        "status",
        "input rows",
        "imported",
        "failed records",
        "unaccounted rows",
        "outcome",
        "report",
    ]
    rows = []
    for j in view.jobs:
        c = j.counts
        nums: list[object] = (
            [c.input_rows, c.imported, c.failed, c.unaccounted] if c else ["-", "-", "-", "-"]
        )
        rows.append([j.job_log_id, j.type, j.status, *nums, j.outcome, j.md])
    return md_table(headers, rows, headers[3:7])


def trends(view: JobView | IndexView) -> Md:
    """Failed share per night and each category's share of input rows, as one table."""
    if not view.trends:
        return escape(view.trend_note)
    cats = view.trend_categories
    headers = [
        "night",
        "jobs",
        "input rows",
        "failed records",
        "failed share",
        "landed on resubmission",
        "still outstanding",
        *cats,
    ]
    rows = []
    for n in view.trends:
        shares = [
            f"{100 * n.categories.get(c, 0) / n.input_rows:.1f} %" if n.input_rows else "0 %" for c in cats
        ]
        share = f"{100 * n.failed_share:.1f} %"
        rows.append(
            [n.night, n.jobs, n.input_rows, n.failed, share, n.landed_on_resubmission, n.outstanding, *shares]
        )
    return md_table(headers, rows, headers[1:])
