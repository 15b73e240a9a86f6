"""The view of a job that both report formats render: plain strings and numbers, capped, in reading order.

Reads a JobResult (optionally narrowed to one owner) and computes every part once: first whether the
import landed and the to-do list (`todo_for`, plain data the e-mail reuses), then what was corrected, the
failed records by what to do, and the technical appendix. It never escapes, formats markup or writes files:
the HTML and Markdown renderers do that, each with its own escaping. It only looks whether a worksheet
exists, to name the file a person works in, and whether a resubmission's folder is beside the job's, to
link its report.
"""

from __future__ import annotations

import functools
import threading
import weakref
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Concatenate, ParamSpec, TypeVar, cast

import polars as pl

from claret_errors.errors import ExitCode
from claret_errors.fix.corrections import UNACCOUNTED_DIR
from claret_errors.fix.worksheet import WORKSHEET, has_worksheet, rests_on_guess
from claret_errors.history import NightTrend
from claret_errors.reconcile.advice import GUESSED, advice_for
from claret_errors.report import tables
from claret_errors.report.format import Table, clip, duration, rows_of, safe_link, when
from claret_errors.report.tables import CategoryRow, CorrectionRow, Record
from claret_errors.results import Attempt, Counts, JobResult, UnknownUpload, classification

SCREENFUL = 15  # failed records shown open on the page; more collapse by action (all are in the CSVs)
TODO_LINES = 3  # lines per owner in the job report's to-do list, so every owner is on the first screen
RUNNER = ""  # the owner of the one task no owner is routed: re-uploading the corrected files
ATTENTION_CSV = "needs_attention.csv"
FAILED_CSV = "failed_records.csv"
CORRECTED = "corrected"
_ADVICE = "advice"


_P = ParamSpec("_P")
_T = TypeVar("_T")
_memo: dict[tuple[Hashable, ...], tuple[weakref.ref[JobResult], tuple[int, ...], object]] = {}
_memo_lock = threading.Lock()  # `run` builds two jobs' reports at once
_MEMO_ENTRIES = 64  # a few jobs' worth; only the derived values are kept, never a result


def _by_frames(compute: Callable[Concatenate[JobResult, _P], _T]) -> Callable[Concatenate[JobResult, _P], _T]:
    """Computed once per result, its frames and the arguments: a job's reports ask for its attention rows,
    to-do lines and rows to fix many times (each owner's page, the to-do lists, summary.json, the run
    index), each time the same joins. A hit must be the same live result holding the same frames, so a
    result given other frames is computed afresh. Callers must not change what they are given."""

    @functools.wraps(compute)
    def memo(result: JobResult, /, *args: _P.args, **kwargs: _P.kwargs) -> _T:
        recon, fixes = result.reconciliation, result.fixes
        frames = tuple(
            id(x)
            for x in (
                recon,
                fixes,
                getattr(recon, "failed", None),
                getattr(recon, "messages", None),
                getattr(fixes, "needs_attention", None),
                getattr(fixes, "rows", None),
            )
        )
        key = (compute.__name__, id(result), *args, *sorted(kwargs.items()))
        with _memo_lock:
            hit = _memo.get(key)
        if hit is not None and hit[0]() is result and hit[1] == frames:
            return cast(_T, hit[2])
        value = compute(result, *args, **kwargs)
        with _memo_lock:
            _memo[key] = (weakref.ref(result), frames, value)
            while len(_memo) > _MEMO_ENTRIES:
                del _memo[next(iter(_memo))]
        return value

    return memo


# --- the to-do list --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TodoItem:
    """One line of a to-do list: `rows` rows of `owner` need `action`, done in `file` (job-relative)."""

    owner: str  # RUNNER for re-uploading the corrected files
    rows: int
    action: str  # one plain sentence, e.g. "Choose a bin that exists in Claret (Locations > Bins)."
    file: str  # e.g. needs_attention.csv, or the corrected files
    input_rows: tuple[int, ...] = ()  # the rows concerned, in input order
    guessed: int = 0  # of `rows`, those whose messages behind this action were only guessed

    @property
    def sentence(self) -> str:
        """The action to follow a count and a colon."""
        return lower_first(self.action)

    @property
    def guess(self) -> str:
        """Whether the action rests on our reading of a wording no rule knows, in plain words ("" if not)."""
        return guess_note(self.guessed, self.rows)

    @property
    def text(self) -> str:
        """`12 rows: choose a bin that exists in Claret.`, and `(our best guess from the wording)` after it
        when the action rests on a guess."""
        return f"{rows_of(self.rows)}: {self.sentence}" + (f" ({self.guess})" if self.guess else "")


@dataclass(frozen=True)
class OwnerTodo:
    """An owner's share of the to-do list: the distinct rows they must fix, and each action's line."""

    owner: str
    rows: int  # distinct rows: a row with two problems is on two lines but counted once here
    items: list[TodoItem]  # the lines shown
    href: str = ""  # the owner's own report, from the job report
    file: str = ""  # the one file all the owner's lines are done in, said once ("" when they differ)
    more: int = 0  # lines left out here (the owner's own report has them all)


def guess_note(guessed: int, rows: int) -> str:
    """That `guessed` of an action's `rows` rest on our reading of a wording no rule knows ("" for none)."""
    if not guessed:
        return ""
    return GUESSED if guessed >= rows else f"{guessed:,} of these rows: {GUESSED}"


def unknown_line(upload: UnknownUpload) -> str:
    """A resend whose answer was lost, in a line of a list: what it was and what the operator does."""
    what = f"{rows_of(upload.rows)} from " if upload.rows is not None else ""
    return (
        f"a resend of {what}{upload.file} may or may not have reached Claret: look in Claret, then record "
        "it with resubmit --sent-as or send it again with --confirm --force (the job's report says how)"
    )


def lower_first(sentence: str) -> str:
    """A sentence to follow a colon: its first letter lowered, unless it starts a name ("Claret's")."""
    first = sentence.split(" ", 1)[0]
    if len(first) > 1 and first[0].isupper() and first[1:].islower() and first != "Claret's":
        return sentence[0].lower() + sentence[1:]
    return sentence


def attention_file(result: JobResult) -> str:
    """Where a person fixes rows: the worksheet when one was written, else needs_attention.csv; the failed
    records themselves when the fix stage did not run."""
    if result.fixes is None:
        return FAILED_CSV
    return WORKSHEET if has_worksheet(result) else ATTENTION_CSV


def todo_for(result: JobResult, owner: str | None = None) -> list[TodoItem]:
    """The job's to-do list: owners with most rows first, each owner's most common action first; only the
    given owner's lines when one is named. Re-uploading the corrected files is the whole job's last line,
    until they are resubmitted (a worksheet's rows sent are not they)."""
    items = list(_person_items(result, owner))
    fixes = result.fixes
    sent = {k.file for k in result.links if k.relation == "resubmitted_as"}
    sent |= {u.file for u in result.unknown_uploads}  # may have been sent: re-uploading could send it twice
    resent = fixes is not None and {p.name for p in fixes.corrected_files} <= sent
    if owner is None and fixes is not None and fixes.corrected_files and fixes.auto_fixed_rows and not resent:
        auto = (
            fixes.rows.filter(pl.col("fix") == "auto")["input_row"].sort().to_list()
            if tables.has(fixes.rows, "input_row", "fix")
            else []
        )
        files = f"{CORRECTED}/" + (fixes.corrected_files[0].name if len(fixes.corrected_files) == 1 else "")
        action = "Check the automatic corrections and re-upload the corrected files to Claret."
        items.append(TodoItem(RUNNER, fixes.auto_fixed_rows, action, files, tuple(auto)))
    lost = result.reconciliation.unaccounted if result.reconciliation is not None else None
    if owner is None and fixes is not None and fixes.unaccounted_files and lost is not None:
        names = ", ".join(f"{UNACCOUNTED_DIR}/{p.name}" for p in fixes.unaccounted_files)
        action = (
            "These rows are in neither Claret's output nor its errors file: look each up in Claret, take "
            "out of the file the rows it has, then send the file with claret-errors resubmit."
        )
        items.append(TodoItem(RUNNER, lost.height, action, names, tuple(sorted(lost["input_row"].to_list()))))
    return items


def todo_summary(result: JobResult) -> str:
    """A job's to-do list in one line, for the run index: rows to fix per owner, and what to re-upload."""
    if result.counts is None:
        return "not analysed: its report says why"
    items = todo_for(result)
    owners = [f"{o} {n:,}" for o, n in rows_to_fix(result).items()]
    parts = []
    if owners:
        total = sum(rows_to_fix(result).values())
        parts.append(f"{rows_of(total)} to fix in {attention_file(result)} ({', '.join(owners)})")
    parts.extend(
        f"{rows_of(i.rows)} unaccounted: look up in Claret, then re-send {i.file}"
        if i.file.startswith(UNACCOUNTED_DIR)
        else f"{rows_of(i.rows)} corrected: re-upload {i.file}"
        for i in items
        if i.owner == RUNNER
    )
    parts.extend(unknown_line(u) for u in result.unknown_uploads)
    return "; ".join(parts)


def rows_to_fix(result: JobResult, owner: str | None = None) -> dict[str, int]:
    """Distinct rows a person must fix, per owner, most first."""
    return dict(_rows_to_fix(result, owner))


@_by_frames
def _rows_to_fix(result: JobResult, owner: str | None) -> tuple[tuple[str, int], ...]:
    frame = _attention_rows(result)
    if frame is None:
        return ()
    if owner is not None:
        frame = frame.filter(pl.col("owner") == owner)
    grouped = frame.group_by("owner").agg(pl.col("input_row").n_unique().alias("n"))
    ordered = grouped.sort(["n", "owner"], descending=[True, False])
    return tuple((str(o), int(n)) for o, n in ordered.iter_rows())


def by_owner(
    items: list[TodoItem], rows: dict[str, int], hrefs: dict[str, str], limit: int | None = None
) -> list[OwnerTodo]:
    """The lines under their owners, in the order given, with each owner's distinct rows to fix; at most
    `limit` lines each when given, for a first screen that holds every owner."""
    grouped: dict[str, list[TodoItem]] = {}
    for item in items:
        grouped.setdefault(item.owner, []).append(item)
    todo = []
    for owner, lines in grouped.items():
        files = {i.file for i in lines}
        shown = lines if limit is None else lines[:limit]
        todo.append(
            OwnerTodo(
                owner=owner,
                rows=rows.get(owner, lines[0].rows),
                items=shown,
                href=hrefs.get(owner, ""),
                file=files.pop() if len(files) == 1 else "",
                more=len(lines) - len(shown),
            )
        )
    return todo


@_by_frames
def _attention_rows(result: JobResult) -> pl.DataFrame | None:
    """The failed rows a person must fix (all but those corrected automatically), with their owner and,
    when the fix stage gave it, their advice list (what to do about the failures still left)."""
    fixes, recon = result.fixes, result.reconciliation
    frame = recon.failed if recon is not None and tables.has(recon.failed, "input_row") else None
    if frame is None and fixes is not None and tables.has(fixes.needs_attention, "input_row"):
        frame = fixes.needs_attention
    if frame is None:
        return None
    owner = tables.owner_expr() if "owner" in frame.columns else pl.lit(tables.UNASSIGNED).alias("owner")
    rows = frame.select(pl.col("input_row").cast(pl.Int64), owner).drop_nulls("input_row")
    if result.landed_later:  # imported since by a resubmission: nothing left to fix
        rows = rows.filter(~pl.col("input_row").is_in(list(result.landed_later)))
    if fixes is None:
        return rows.with_columns(pl.lit(None, dtype=pl.List(pl.String)).alias(_ADVICE))
    if tables.has(fixes.rows, "input_row", "fix"):
        auto = fixes.rows.filter(pl.col("fix") == "auto").select(pl.col("input_row").cast(pl.Int64))
        rows = rows.join(auto, on="input_row", how="anti")
    attention = fixes.needs_attention
    if tables.has(attention, "input_row", _ADVICE) and attention.schema[_ADVICE] == pl.List(pl.String):
        given = attention.select(pl.col("input_row").cast(pl.Int64), _ADVICE).unique("input_row")
        return rows.join(given, on="input_row", how="left")
    return rows.with_columns(pl.lit(None, dtype=pl.List(pl.String)).alias(_ADVICE))


@_by_frames
def _person_items(result: JobResult, owner: str | None) -> tuple[TodoItem, ...]:
    """Each (owner, advice) with its rows: the fix stage's advice for what still fails, else the advice of
    every message of the row."""
    frame = _attention_rows(result)
    if frame is None or frame.height == 0:
        return ()
    if owner is not None:
        frame = frame.filter(pl.col("owner") == owner)
    given = frame.filter(pl.col(_ADVICE).list.len().fill_null(0) > 0).explode(_ADVICE)
    lacking = frame.filter(pl.col(_ADVICE).list.len().fill_null(0) == 0).drop(_ADVICE)
    said = _message_advice(result)
    from_messages = lacking.join(said.drop("guessed"), on="input_row", how="left").with_columns(
        pl.col(_ADVICE).fill_null(advice_for("unclassified"))
    )
    pairs = pl.concat(
        [given.select("input_row", "owner", _ADVICE), from_messages.select("input_row", "owner", _ADVICE)]
    )
    totals = rows_to_fix(result, owner)
    # a row's action is a guess when every message of the row behind it was only guessed from its wording
    guessed = said.group_by("input_row", _ADVICE).agg(pl.col("guessed").all())
    grouped = (
        pairs.unique()
        .join(guessed, on=["input_row", _ADVICE], how="left")
        .group_by("owner", _ADVICE)
        .agg(
            pl.col("input_row").sort(),
            pl.col("input_row").filter(pl.col("guessed").fill_null(False)).n_unique().alias("guessed"),
        )
        .with_columns(
            pl.col("input_row").list.len().alias("n"),
            pl.col("owner").replace_strict(totals, default=0, return_dtype=pl.Int64).alias("owner_rows"),
        )
        .sort(["owner_rows", "owner", "n", _ADVICE], descending=[True, False, True, False])
    )
    where = attention_file(result)
    return tuple(
        TodoItem(str(o), int(n), str(a), where, tuple(rows), int(g))
        for o, a, rows, n, g in grouped.select("owner", _ADVICE, "input_row", "n", "guessed").iter_rows()
    )


@_by_frames
def _message_advice(result: JobResult) -> pl.DataFrame:
    """Each message's advice by input row: the classification's, else the shipped advice of its category
    on its field (for results made without it); with the message's confidence."""
    recon = result.reconciliation
    if recon is None or not tables.has(recon.messages, "input_row"):
        return pl.DataFrame(schema={"input_row": pl.Int64, _ADVICE: pl.String, "guessed": pl.Boolean})
    messages = recon.messages
    cols = messages.columns
    category = pl.col("category").cast(pl.String) if "category" in cols else pl.lit(None, dtype=pl.String)
    where = pl.col("field").cast(pl.String) if "field" in cols else pl.lit(None, dtype=pl.String)
    given = pl.col(_ADVICE).cast(pl.String) if _ADVICE in cols else pl.lit(None, dtype=pl.String)
    sure = pl.col("confidence").cast(pl.String) if "confidence" in cols else pl.lit("rule")
    frame = messages.select(
        pl.col("input_row").cast(pl.Int64),
        category.fill_null("unclassified").alias("category"),
        where.fill_null("").alias("field"),
        given.fill_null("").alias("given"),
        sure.fill_null("rule").alias("confidence"),
    )
    combos = frame.select("category", "field").unique()
    shipped = combos.with_columns(
        pl.Series("shipped", [advice_for(c, f) for c, f in combos.iter_rows()], dtype=pl.String)
    )
    return frame.join(shipped, on=["category", "field"], how="left").select(
        "input_row",
        pl.when(pl.col("given") != "").then(pl.col("given")).otherwise(pl.col("shipped")).alias(_ADVICE),
        rests_on_guess(pl.col("confidence"), pl.col("category")).alias("guessed"),
    )


# --- the job view ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OwnerLink:
    """An owner's report, linked from the job's report."""

    owner: str
    href: str  # relative to the job folder, e.g. owners/cellar.html
    records: int


@dataclass(frozen=True)
class LandedNote:
    """Rows of the report's failed rows a resubmission imported since (`landed_on_resubmission`): no
    longer on the to-do list, said so beside it with the job that imported them."""

    rows: int
    job: str
    href: str  # that job's report, when its folder is beside this one ("" if not)
    yours: bool  # an owner's report: the rows are theirs

    @property
    def lead(self) -> str:
        """The words before the job: `12 of the failed rows have since been imported by`."""
        whose = "your failed rows" if self.yours else "the failed rows"
        verb = "has" if self.rows == 1 else "have"
        return f"{self.rows:,} of {whose} {verb} since been imported by"

    how = "resent from a worksheet"  # in brackets after the job

    @property
    def rest(self) -> str:
        """The words that end the line, after the brackets."""
        return f"{'it is' if self.rows == 1 else 'they are'} no longer on this list."


@dataclass(frozen=True)
class RecordGroup:
    """The failed records of one to-do line (or of the automatic corrections), as sent."""

    title: str  # the to-do line, e.g. "12 rows: choose a bin that exists in Claret."
    owner: str  # whose line it is (RUNNER for the corrections)
    records: list[Record]
    total: int  # rows of the line; `records` holds the first of them the page shows
    suggestions: bool  # whether any shown record has a suggestion (else the column is left out)


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
    subtitle: str
    facts: list[tuple[str, str]]
    job_link: str | None
    error: str | None
    missing: list[str]
    todo: list[OwnerTodo]
    todo_note: str  # what the to-do list says when it is empty, or how its lines count
    auto_corrections: list[CorrectionRow]
    groups: list[RecordGroup]
    collapsed: bool  # more than a screenful of records: each group starts closed
    records_total: int
    record_columns: list[str]
    unclassified: Table
    categories: list[CategoryRow]
    by_field: Table
    top_values: Table
    anomalies: Table
    unaccounted: Table
    findings: Table
    detection: list[tuple[str, str]]
    links: list[tuple[str, str, str, str]]  # relation, job, file, relative href of its report ("" if none)
    owners: list[OwnerLink] = field(default_factory=list)
    trends: list[NightTrend] = field(default_factory=list)
    trend_note: str = ""  # why there are no trends, when there are none
    trend_categories: list[str] = field(default_factory=list)
    link_prefix: str = ""  # "../" in an owner report, so CSV links still point next to report.html
    attempt: AttemptBanner | None = None  # a later attempt that failed, and which analysis is shown
    worksheet: bool = False  # the job has needs_attention.xlsx: say how edited rows go back to Claret
    reading: str = ""  # how Claret's messages were read: a known wording, our guess, or not understood
    unsure: list[str] = field(default_factory=list)  # resends whose outcome is unknown, and what to do
    landed: list[LandedNote] = field(default_factory=list)  # rows off the to-do list: imported since


@dataclass(frozen=True)
class _Scope:
    """The part of a job a report covers: every failed record, or one owner's."""

    owner: str | None
    failed: pl.DataFrame | None
    messages: pl.DataFrame | None
    rows: set[int] | None  # the owner's input rows; None for the whole job
    columns: list[str]
    failed_total: int


def unknown_note(upload: UnknownUpload, *, owner: bool = False, yours: int | None = None) -> str:
    """A resend whose answer was lost, in plain words, with what the operator does about it; on an owner's
    report also that it holds `yours` of their rows, or may hold some when that is not known."""
    what = f"{rows_of(upload.rows)} from {upload.file}" if upload.rows is not None else upload.file
    check = upload.check[:1].upper() + upload.check[1:]
    are = "is" if yours == 1 else "are"
    held = "It may hold rows of yours" if yours is None else f"{yours:,} of its rows {are} yours"
    mine = (
        f" {held}: they may be in Claret already, so look there before fixing one of them again. Whoever "
        "runs claret-errors settles the resend."
        if owner
        else ""
    )
    return (
        f"A resend of {what}, started {when(upload.started)}, may or may not have reached Claret: its "
        f"answer was lost, and it will not be sent again on its own.{mine} {check}."
    )


def _unsure(result: JobResult, scope: _Scope) -> list[str]:
    """The resends with an unknown outcome the report names: all on the job's; on an owner's, those holding
    the owner's rows, and those whose rows are not known (a corrected file: the ledger names the file)."""
    if scope.owner is None:
        return [unknown_note(u) for u in result.unknown_uploads]
    notes = []
    for upload in result.unknown_uploads:
        yours = None if upload.input_rows is None else len(set(upload.input_rows) & (scope.rows or set()))
        if yours != 0:
            notes.append(unknown_note(upload, owner=True, yours=yours))
    return notes


def attempt_note(attempt: Attempt, limit: int = 200) -> str:
    """Which analysis is shown when the last attempt failed, and when and why it failed (the why cut to
    `limit` characters: a terminal line has room for the whole of it, an index cell has not)."""
    shown = (
        f"the analysis of {when(attempt.shown)} is shown" if attempt.shown else "an earlier analysis is shown"
    )
    why = clip(attempt.error, limit)
    return f"the last attempt, {when(attempt.at)}, failed [exit {attempt.exit_code}]: {why}; {shown}"


@dataclass(frozen=True)
class AttemptBanner:
    """The note on top of a report kept after a failed attempt: what failed and when, which analysis the
    figures are from, and what to do. Plain sentences; the renderers escape them."""

    failed: str
    shown: str
    todo: str


_ATTEMPT_TODO: dict[int, str] = {
    ExitCode.UNREADABLE: "the job's files on disk are damaged or unreadable: whoever runs claret-errors "
    "should fetch the job again (or restore its files), then analyse it again.",
    ExitCode.AUTH: "Claret refused the login: whoever runs claret-errors should check it, then run the job "
    "again.",
    ExitCode.UNAVAILABLE: "Claret could not be reached: run the job again once it answers.",
    ExitCode.WAIT_TIMEOUT: "the job was not finished in Claret in time: run it again later.",
    ExitCode.BUG: "this is a bug in claret-errors: tell whoever runs it, with the message above.",
}


def attempt_banner(attempt: Attempt) -> AttemptBanner:
    """The banner of a report kept after `attempt` failed; the next good analysis renders none."""
    shown = f"of {when(attempt.shown)}" if attempt.shown else "made before it"
    todo = _ATTEMPT_TODO.get(
        attempt.exit_code, "whoever runs claret-errors should fix the cause above, then run the job again."
    )
    return AttemptBanner(
        failed=f"the last attempt to analyse this job, {when(attempt.at)}, failed "
        f"[exit {attempt.exit_code}]: {clip(attempt.error, 300).rstrip('.')}.",
        shown=f"The figures below are from the last good analysis, {shown}: they may be out of date.",
        todo=f"What to do: {todo}",
    )


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


def reading_note(counted: dict[str, int]) -> str:
    """How Claret's messages were read, from `classification`: so a reader tells what Claret said from what
    we guessed it means."""
    total = sum(counted.values())
    if not total:
        return ""
    noun = "message" if total == 1 else "messages"
    parts = [f"{counted.get('rule', 0):,} matched {tables.KNOWN_WORDING}"]
    if counted.get("guessed"):
        parts.append(f"{counted['guessed']:,} read by {GUESSED}, so check them")
    if counted.get("none"):
        parts.append(f"{counted['none']:,} not understood (kept as Claret wrote them)")
    return f"Of Claret's {total:,} {noun}: " + "; ".join(parts) + "."


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
    """The whole report's content; `owner` narrows it to what that owner acts on (their records, their
    to-do lines, their corrections) and leaves the technical appendix to the job's report."""
    scope = _scope(result, owner)
    info = result.info
    verdict, ok = _verdict(result, scope)
    items = todo_for(result, owner)
    landed = _landed(result, scope)
    todo, todo_note = _todo(result, scope, items, owners or [], landed)
    groups = _groups(result, scope, items)
    whole_job = owner is None
    return JobView(
        tenant=info.tenant,
        job_log_id=info.job_log_id,
        title=f"Import job {info.job_log_id} of {info.tenant}" + (f": records for {owner}" if owner else ""),
        owner=owner,
        verdict=verdict,
        ok=ok,
        counts=result.counts,
        subtitle=" · ".join(
            clip(p)
            for p in (info.type or info.description, f"status {info.status}", when(info.started_at))
            if p
        ),
        facts=_facts(result),
        job_link=safe_link(info.job_status_link),
        error=clip(result.error, 2000) if result.error else None,
        missing=_missing(result),
        todo=todo,
        todo_note=todo_note,
        auto_corrections=tables.correction_rows(result, scope.rows),
        groups=groups,
        collapsed=scope.failed_total > SCREENFUL,
        records_total=scope.failed_total,
        record_columns=scope.columns,
        unclassified=tables.unclassified(scope.messages),
        categories=tables.categories(result, scope.messages, scope.failed_total, owner),
        by_field=tables.by_field(scope.messages),
        top_values=tables.top_values(scope.messages, scope.failed, scope.columns),
        anomalies=tables.anomalies(result) if whole_job else tables.empty(tables.ANOMALY_HEADERS),
        unaccounted=tables.unaccounted(result) if whole_job else tables.empty(["input_row"]),
        findings=tables.findings(result.findings) if whole_job else tables.empty(tables.FINDING_HEADERS),
        detection=tables.detection(result) if whole_job else [],
        links=_links(result, owner),
        owners=owners or [],
        trends=(trends or []) if whole_job else [],
        trend_note=clip(trend_note, 500),
        trend_categories=sorted({c for t in trends or [] for c in t.categories}) if whole_job else [],
        link_prefix="" if whole_job else "../",
        attempt=attempt_banner(result.attempt) if result.attempt else None,
        worksheet=has_worksheet(result),
        reading=reading_note(classification(scope.messages)) if scope.messages is not None else "",
        unsure=_unsure(result, scope),
        landed=landed,
    )


def _scope(result: JobResult, owner: str | None) -> _Scope:
    """The failed records and messages the report covers: all of them, or those routed to `owner`."""
    recon = result.reconciliation
    failed = (
        recon.failed.filter(pl.col("input_row").is_not_null())
        if recon is not None and tables.has(recon.failed, "input_row")
        else None
    )
    messages = recon.messages if recon is not None else None
    rows: set[int] | None = None
    if failed is not None and owner is not None:
        failed = failed.filter(tables.owner_expr() == owner) if "owner" in failed.columns else failed.clear()
        rows = set(failed["input_row"].to_list())
        if messages is not None and "input_row" in messages.columns:
            messages = messages.filter(pl.col("input_row").is_in(rows))
    columns = tables.input_columns(result, failed) if failed is not None else []
    total = failed.height if failed is not None else (result.counts.failed if result.counts else 0)
    return _Scope(owner, failed, messages, rows, columns, total)


def _verdict(result: JobResult, scope: _Scope) -> tuple[str, bool]:
    """Did it land: the job's headline, led for an owner by what of it is theirs."""
    verdict, ok = headline(result.counts, result.error)
    if scope.owner is None:
        return verdict, ok
    to_fix = sum(rows_to_fix(result, scope.owner).values())
    fixed = tables.fix_counts(result, scope.rows or set()).get("auto", 0)
    yours = f"{rows_of(scope.failed_total)} of yours failed"
    if fixed:
        yours += f": {fixed:,} corrected automatically, {to_fix:,} for you to fix"
    elif to_fix != scope.failed_total:
        yours += f", {to_fix:,} for you to fix"
    return f"{yours}. The whole job: {lower_first(verdict)}", False


def _landed(result: JobResult, scope: _Scope) -> list[LandedNote]:
    """The report's failed rows a resubmission imported since, by that job, as `_attention_rows` leaves
    them off the to-do list; each job's report linked when its folder is beside this one."""
    if not result.landed_later:
        return []
    rows = set(scope.failed["input_row"].cast(pl.Int64).to_list()) if scope.failed is not None else None
    by_job: dict[str, int] = {}
    for number, job in sorted(result.landed_later.items()):
        if rows is None or number in rows:
            by_job[job] = by_job.get(job, 0) + 1
    prefix = "" if scope.owner is None else "../"
    notes = []
    for job, n in by_job.items():
        href = job_report_href(job, prefix)  # a plain job id, so its folder is safe to look at
        beside = bool(href) and (result.folder.parent / job).is_dir()
        notes.append(LandedNote(n, clip(job), href if beside else "", scope.owner is not None))
    return notes


def _todo(
    result: JobResult,
    scope: _Scope,
    items: list[TodoItem],
    owners: list[OwnerLink],
    landed: list[LandedNote],
) -> tuple[list[OwnerTodo], str]:
    """The to-do list under its owners, and the line said when there is nothing on it."""
    hrefs = {o.owner: o.href for o in owners}
    limit = TODO_LINES if scope.owner is None and len({i.owner for i in items}) > 1 else None
    grouped = by_owner(items, rows_to_fix(result, scope.owner), hrefs, limit)
    if grouped:
        several = any(
            len({r for i in g.items for r in i.input_rows}) < sum(i.rows for i in g.items) for g in grouped
        )
        note = "A row with two problems is on two lines." if several else ""
        return grouped, note
    if result.counts is None:
        return [], "Nothing can be fixed until the job is analysed; see below why it was not."
    if scope.failed_total == 0 and (result.counts.unaccounted == 0 or scope.owner is not None):
        return [], "Nothing to do."
    if result.fixes is None or result.reconciliation is None:
        return [], "No to-do list: the failed records were not worked through (see below)."
    if landed:  # the rows left were imported since, or corrected automatically: the landed lines say so
        return [], "Nothing left for you to fix." if scope.owner is not None else "Nothing left to fix."
    if scope.owner is not None:
        return [], "Nothing left for you: your failed rows were corrected automatically."
    return [], "Nothing left for a person: every failed row was corrected automatically."


def _groups(result: JobResult, scope: _Scope, items: list[TodoItem]) -> list[RecordGroup]:
    """The failed records under each to-do line, as sent, the first of each line the page can hold."""
    if scope.failed is None:
        return []
    shown = {r.input_row: r for r in tables.records(result, scope.failed, scope.columns)}
    people = [i for i in items if i.owner != RUNNER]
    several = len({i.owner for i in people}) > 1
    groups = []
    for item in people:
        records = [shown[r] for r in item.input_rows if r in shown]
        title = f"{item.owner}: {item.text}" if several else item.text
        groups.append(RecordGroup(title, item.owner, records, item.rows, any(r.suggestion for r in records)))
    fixes = result.fixes
    if fixes is not None and tables.has(fixes.rows, "input_row", "fix"):
        auto = fixes.rows.filter(pl.col("fix") == "auto")["input_row"]
        if scope.rows is not None:
            auto = auto.filter(auto.is_in(scope.rows))
        if auto.len():
            records = [shown[r] for r in auto.sort().to_list() if r in shown]
            title = f"{rows_of(auto.len())} corrected automatically"
            groups.append(RecordGroup(title, RUNNER, records, auto.len(), suggestions=False))
    return groups


def _facts(result: JobResult) -> list[tuple[str, str]]:
    """The job's facts from Claret, for the appendix."""
    info = result.info
    facts = [
        ("tenant", info.tenant),
        ("job", info.job_log_id),
        ("type", info.type or info.description),
        ("status", info.status),
        ("started", when(info.started_at)),
        ("completed", when(info.completed_at)),
        ("duration", duration(info.started_at, info.completed_at) or "unknown"),
    ]
    return [(k, clip(v)) for k, v in facts]


def _missing(result: JobResult) -> list[str]:
    """What the report cannot show, said plainly instead of empty tables."""
    missing = []
    if result.reconciliation is None:
        missing.append("The failed records were not reconciled, so no record-level detail is shown.")
    if result.fixes is None:
        missing.append("No corrections were attempted for this job.")
    return missing


def _links(result: JobResult, owner: str | None) -> list[tuple[str, str, str, str]]:
    """The jobs this one was resubmitted as, or is a resubmission of."""
    prefix = "../" if owner is not None else ""
    return [
        (
            k.relation.replace("_", " "),
            clip(k.job_log_id),
            clip(k.file),
            job_report_href(k.job_log_id, prefix),
        )
        for k in result.links
    ]
