"""The fix stage: certain auto-fixes on failed rows, corrected CSVs for re-upload, `needs_attention.csv` and
`corrections_log.csv`. A row goes into a corrected file only when all its failures are fixed for sure and it
passes the input schema: nothing is guessed. Never prints, never sends anything to Claret.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from claret_errors.config import Settings
from claret_errors.fields import INVENTORY_FIELDS
from claret_errors.files.csvwrite import write_claret_csv, write_people_csv
from claret_errors.fix.plan import (
    FailedRows,
    FixContext,
    RowPlan,
    input_row_series,
    named_fields,
    owners,
    text_series,
)
from claret_errors.fix.references import master_names, proven_names
from claret_errors.fix.rules import NameIndex, UnitTable, date_order, quantity_style
from claret_errors.fix.worksheet import ATTENTION_CSV, advice_as_read, set_aside_if_edited
from claret_errors.reconcile.accounting import input_column
from claret_errors.results import FixResult, LoadedJob, Reconciliation

if TYPE_CHECKING:
    import polars as pl

MAX_RECORDS_PER_FILE = 1000  # Claret takes at most 1000 records per import request
CORRECTED_DIR = "corrected"
UNACCOUNTED_DIR = "unaccounted"  # rows to look up in Claret before re-sending: never sent with corrected/
NEEDS_ATTENTION = ATTENTION_CSV
CORRECTIONS_LOG = "corrections_log.csv"
KEY_FIELDS = ("item_name", "bin_name", "lot_name")  # what identifies an inventory record
# What Python's str.strip() removes, for polars to strip exactly the same (its own set lacks \x1c-\x1f).
_PY_WHITESPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
    "\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
_SAFE_STEM = re.compile(r"[^A-Za-z0-9._-]+")
_CORRECTED_NAME = re.compile(r"_corrected_\d{3}\.csv$")
CORRECTIONS_COLUMNS = ("input_row", "field", "before", "after", "rule", "assumption")
ATTENTION_EXTRA = ("messages", "reason", "owner", "fix", "suggestion")
# needs_attention.csv holds what a person acts on, each fact once: Claret's words (`messages`), what to do
# (`advice`), a proposed value (`suggestion`), and only what the messages do not say (`note`: why a row was
# held back). The frame's `reason` (the messages left plus those notes) and `fix` stay for the reports.
ATTENTION_PEOPLE = ("messages", "advice", "suggestion", "owner", "note")


def fix(job: LoadedJob, rec: Reconciliation, settings: Settings, out_dir: Path) -> FixResult:
    """Fix what is certain; write `corrected/`, `needs_attention.csv`, `corrections_log.csv` in out_dir.

    Plans (`RowPlan`) are made only for the rows that may go into a corrected file and those with a
    formula-like value; every other row's fix, suggestion and reason come from its signature's decision,
    joined to it in polars (on a night's 50,000 failed rows most are a handful of failures repeated).
    """
    columns = list(job.input_columns)
    context = build_context(job, rec, settings)
    failed = FailedRows(rec.failed, columns, context)
    special = failed.special_rows()
    plans = failed.row_plans(special)
    auto = _hold_back([p for p in plans if p.kind == "auto"], job, columns)
    files = _write_corrected(job, auto, out_dir / CORRECTED_DIR)
    import polars as pl

    result = _result(job, failed, special, plans, files)
    result.needs_attention = _with_advice(result.needs_attention, rec.messages)
    result.choices = {name: sorted(index.names) for name, index in context.known.items() if index}
    lost, result.unaccounted_files = _unaccounted(job, rec, out_dir / UNACCOUNTED_DIR)
    if lost.height:
        have = result.needs_attention.schema
        lost = lost.with_columns(
            pl.col(c).list.join("; ") if have[c] == pl.String and lost.schema[c] != pl.String else pl.col(c)
            for c in lost.columns
            if c in have
        )
        result.needs_attention = pl.concat([result.needs_attention, lost], how="diagonal_relaxed")
    inputs = [c for c in result.needs_attention.columns if c not in (*ATTENTION_EXTRA, "advice", "note")]
    people = result.needs_attention.select(*inputs, *ATTENTION_PEOPLE)
    set_aside_if_edited(out_dir)
    write_people_csv(out_dir / NEEDS_ATTENTION, people.with_columns(advice_as_read(people, rec.messages)))
    write_people_csv(out_dir / CORRECTIONS_LOG, result.corrections)
    return result


UNACCOUNTED_REASON = "unaccounted for: in neither Claret's output nor its errors file"
_UNACCOUNTED_NAME = re.compile(r"_unaccounted_\d{3}\.csv$")


def _unaccounted(job: LoadedJob, rec: Reconciliation, folder: Path) -> tuple[pl.DataFrame, list[Path]]:
    """The input rows Claret neither imported nor rejected, as sent, in
    `unaccounted/<stem>_unaccounted_001.csv`...; and as needs_attention rows saying to look each up in
    Claret first: a row Claret took without listing it must not be sent again, so these files are not
    among the corrected files a job's resubmission sends, but `resubmit` sends one when it is named."""
    import polars as pl

    columns = list(job.input_columns)
    numbers = rec.unaccounted.select(pl.col("input_row").cast(pl.Int64)) if rec.unaccounted.height else None
    rows = (
        job.input.with_columns(pl.col("input_row").cast(pl.Int64))
        .join(numbers, on="input_row", how="semi")
        .sort("input_row")
        if numbers is not None and "input_row" in job.input.columns
        else None
    )
    stem = _safe_stem(job.files["input"][0].stem if job.files.get("input") else "input")
    written: list[Path] = []
    if rows is not None:
        for start in range(0, rows.height, MAX_RECORDS_PER_FILE):
            path = folder / f"{stem}_unaccounted_{len(written) + 1:03d}.csv"
            chunk = rows.slice(start, MAX_RECORDS_PER_FILE).select(pl.col(c).cast(pl.String) for c in columns)
            write_claret_csv(path, job.input_headers, chunk)
            written.append(path)
    if folder.is_dir():
        for stale in folder.iterdir():
            if stale.is_file() and _UNACCOUNTED_NAME.search(stale.name) and stale not in written:
                stale.unlink()
    if rows is None or not written:
        return pl.DataFrame(), written
    names = ", ".join(f"{UNACCOUNTED_DIR}/{p.name}" for p in written)
    advice = (
        f"Look the row up in Claret. If it is not there, send it again: `claret-errors resubmit` with the "
        f"file {names} of this job's folder, once the rows Claret has are deleted from it."
    )
    attention_columns = [_unique(c, ("input_row", *ATTENTION_EXTRA)) for c in columns]
    lost = rows.select(
        "input_row",
        *(
            pl.col(input_column(c)).cast(pl.String).alias(n)
            for n, c in zip(attention_columns, columns, strict=True)
        ),
    ).with_columns(
        pl.lit([], dtype=pl.List(pl.String)).alias("messages"),
        pl.lit(UNACCOUNTED_REASON).alias("reason"),
        pl.lit("").alias("owner"),
        pl.lit("manual").alias("fix"),
        pl.lit("").alias("suggestion"),
        pl.lit([advice], dtype=pl.List(pl.String)).alias("advice"),
        pl.lit(UNACCOUNTED_REASON).alias("note"),
    )
    return lost, written


def _with_advice(attention: pl.DataFrame, messages: pl.DataFrame) -> pl.DataFrame:
    """`advice` (a list: what to do about the messages still failing, each once) and `note` (the reasons
    that are not Claret's messages: a row held back, a formula-like value) for each row a person must fix."""
    import polars as pl

    if attention.height == 0 or not {"input_row", "message"} <= set(messages.columns):
        return attention.with_columns(
            pl.lit([], dtype=pl.List(pl.String)).alias("advice"), pl.col("reason").fill_null("").alias("note")
        )
    advice = pl.col("advice").fill_null("") if "advice" in messages.columns else pl.lit("").alias("advice")
    pairs = (
        attention.select("input_row", pl.col("reason").fill_null(""))
        .join(messages.select("input_row", "message", advice), on="input_row", how="inner")
        .filter(pl.col("reason").str.contains(pl.col("message"), literal=True))
        .group_by("input_row", maintain_order=True)
        .agg(
            pl.col("advice").filter(pl.col("advice") != "").unique(maintain_order=True),
            pl.col("message").unique(maintain_order=True).alias("said"),
        )
    )
    joined = attention.join(pairs, on="input_row", how="left", maintain_order="left")
    notes = [
        _note(reason or "", said or [])
        for reason, said in zip(joined["reason"].to_list(), joined["said"].to_list(), strict=True)
    ]
    return joined.with_columns(
        pl.col("advice").fill_null([]), pl.Series("note", notes, dtype=pl.String)
    ).drop("said")


def _note(reason: str, said: list[str]) -> str:
    """The parts of a row's reason that are not one of its messages (already in `messages`)."""
    for message in sorted(said, key=len, reverse=True):
        reason = reason.replace(message, "")
    return "; ".join(part.strip() for part in reason.split("; ") if part.strip())


def plan_fixes(job: LoadedJob, rec: Reconciliation, settings: Settings) -> list[RowPlan]:
    """Every failed row with its certain fixes, remaining failures and suggestions; writes nothing."""
    columns = list(job.input_columns)
    failed = FailedRows(rec.failed, columns, build_context(job, rec, settings))
    plans = failed.row_plans(list(range(failed.height)))
    _hold_back([p for p in plans if p.kind == "auto"], job, columns)
    return plans


def _hold_back(auto: list[RowPlan], job: LoadedJob, columns: list[str]) -> list[RowPlan]:
    """Demote the certainly fixed rows that cannot go into a corrected file; the rest, which can."""
    blocked = _why_no_corrected_file(job)
    if blocked:
        for plan in auto:
            plan.demote(blocked, keep_fixes_as_suggestion=True)
        return []
    _demote_duplicates(auto, job)
    _preflight([p for p in auto if p.kind == "auto"], columns)
    return [p for p in auto if p.kind == "auto"]


def build_context(job: LoadedJob, rec: Reconciliation, settings: Settings) -> FixContext:
    """The job's own date order and decimal habit, the unit aliases, and the names known to exist."""
    dates = job.input.get_column("date_filled") if "date_filled" in job.input.columns else None
    quantities = job.input.get_column("quantity") if "quantity" in job.input.columns else None
    # Only the names of fields a failure names are ever looked up (a job proves 50,000 lots).
    names = proven_names(job, rec, named_fields(rec.failed))
    master = master_names(settings.master_data, settings.aliases)
    for name, values in master.items():
        names.setdefault(name, set()).update(values)
    return FixContext(
        day_first=date_order(dates) if dates is not None else None,
        comma_decimal=quantity_style(quantities) if quantities is not None else False,
        units=UnitTable(settings.units),
        known={name: NameIndex(values) for name, values in names.items()},
        master_units=frozenset(master["uom"]) if "uom" in master else None,
    )


def _why_no_corrected_file(job: LoadedJob) -> str:
    """Why this job's rows cannot go back as a corrected file at all, or "" when they can."""
    if job.profile != "inventory":
        return "corrected files are made for inventory imports only; apply the suggestion by hand"
    missing = [f for f in INVENTORY_FIELDS if f not in job.input_columns]
    if missing:
        return f"the input lacks column(s) {', '.join(missing)}: Claret would refuse any file like it"
    if len(job.input_headers) != len(job.input_columns):
        return "the input's header names do not match its columns; no file can be made in its format"
    return ""


def _demote_duplicates(auto: list[RowPlan], job: LoadedJob) -> None:
    """A corrected record that repeats a landed one, or an earlier corrected one, would fail again."""
    if not auto:
        return
    landed = _landed_keys(job, {tuple(_strip(p.values.get(k)) for k in KEY_FIELDS) for p in auto})
    seen: dict[tuple[str, ...], int] = {}
    for plan in auto:
        key = tuple(_strip(plan.values.get(k)) for k in KEY_FIELDS)
        if key in landed:
            plan.demote(f"same item, bin and lot as input row {landed[key]}, which this job imported")
        elif key in seen:
            plan.demote(f"same item, bin and lot as corrected input row {seen[key]}")
        else:
            seen[key] = plan.input_row


def _landed_keys(job: LoadedJob, wanted: set[tuple[str, ...]]) -> dict[tuple[str, ...], int]:
    """The input row that landed under each wanted (item, bin, lot) key (the last one if several did).

    Only the output rows with a wanted key reach Python: a job lands a million rows and corrects a few.
    """
    import polars as pl

    if not all(k in job.output.columns for k in KEY_FIELDS) or "input_row" not in job.output.columns:
        return {}
    keys = pl.DataFrame(list(wanted), schema=dict.fromkeys(KEY_FIELDS, pl.String), orient="row")
    stripped = [pl.col(k).cast(pl.String).fill_null("").str.strip_chars(_PY_WHITESPACE) for k in KEY_FIELDS]
    rows = (
        job.output.select(*stripped, "input_row")
        .drop_nulls("input_row")
        .filter(pl.struct(KEY_FIELDS).is_in(keys.select(pl.struct(KEY_FIELDS)).to_series().implode()))
    )
    return {tuple(row[:-1]): int(row[-1]) for row in rows.iter_rows()}


def _preflight(auto: list[RowPlan], columns: list[str]) -> None:
    """Rows the input schema refuses leave the corrected files; the checks are per row, so what remains
    makes files that pass."""
    import pandera.polars as pa

    from claret_errors.validate import input_schema

    if not auto:
        return
    frame = _frame([[p.values[c] for c in columns] for p in auto], columns)
    try:
        input_schema().validate(frame, lazy=True)
    except pa.errors.SchemaErrors as exc:
        for case in exc.failure_cases.iter_rows(named=True):
            reason = f"pre-flight: {case['column']} fails the input check {case['check']}"
            index = case["index"]
            targets = auto if index is None else [auto[int(index)]]
            for plan in targets:
                if reason not in plan.remaining:
                    plan.demote(reason)


def _frame(rows: list[list[str | None]], columns: Sequence[str]) -> pl.DataFrame:
    import polars as pl

    return pl.DataFrame(rows, schema=dict.fromkeys(columns, pl.String), orient="row")


def _write_corrected(job: LoadedJob, auto: list[RowPlan], folder: Path) -> list[Path]:
    """`<stem>_corrected_001.csv`...: at most 1000 records each, the input's headers; stale ones removed."""
    columns = list(job.input_columns)
    stem = _safe_stem(job.files["input"][0].stem if job.files.get("input") else "input")
    written: list[Path] = []
    for start in range(0, len(auto), MAX_RECORDS_PER_FILE):
        chunk = auto[start : start + MAX_RECORDS_PER_FILE]
        path = folder / f"{stem}_corrected_{len(written) + 1:03d}.csv"
        write_claret_csv(
            path, job.input_headers, _frame([[p.values[c] for c in columns] for p in chunk], columns)
        )
        written.append(path)
    if folder.is_dir():
        for stale in folder.iterdir():
            if stale.is_file() and _CORRECTED_NAME.search(stale.name) and stale not in written:
                stale.unlink()
    return written


def _result(
    job: LoadedJob, failed: FailedRows, special: list[int], plans: list[RowPlan], files: list[Path]
) -> FixResult:
    """The fix stage's tables: each row's fix, suggestion and reason from its signature's decision, those
    of the rows planned one by one (`special`, with `plans`) put in their place."""
    import polars as pl

    columns = list(job.input_columns)
    decided = failed.by_signature()
    if special:
        at = pl.Series(special, dtype=pl.UInt32)
        kinds = [p.kind for p in plans]
        decided = decided.with_columns(
            decided.get_column("fix").scatter(at, kinds),
            decided.get_column("suggestion").scatter(at, [p.suggestion_text() for p in plans]),
            decided.get_column("reason").scatter(at, ["; ".join(dict.fromkeys(p.remaining)) for p in plans]),
        )
    else:
        kinds = []
    frame = failed.frame
    numbers = input_row_series(frame)
    rows = decided.select(numbers, "fix", "suggestion")
    corrections = pl.DataFrame(
        [
            (p.input_row, *c)
            for p, kind in zip(plans, kinds, strict=True)
            if kind == "auto"
            for c in p.corrections
        ],
        schema={"input_row": pl.Int64, **dict.fromkeys(CORRECTIONS_COLUMNS[1:], pl.String)},
        orient="row",
    )
    attention_columns = [_unique(c, ("input_row", *ATTENTION_EXTRA)) for c in columns]
    needs_attention = pl.DataFrame(
        [
            numbers,
            *(
                text_series(frame, input_column(c), failed.height).alias(name)
                for name, c in zip(attention_columns, columns, strict=True)
            ),
            decided.get_column("messages"),
            decided.get_column("reason"),
            pl.Series("owner", owners(frame, failed.height), dtype=pl.String),
            decided.get_column("fix"),
            decided.get_column("suggestion"),
        ]
    ).filter(pl.col("fix") != "auto")
    fixes = rows.get_column("fix")
    return FixResult(
        rows=rows,
        corrections=corrections,
        needs_attention=needs_attention,
        corrected_files=files,
        auto_fixed_rows=int((fixes == "auto").sum()),
        suggested_rows=int((fixes == "suggested").sum()),
        manual_rows=int((fixes == "manual").sum()),
    )


def _safe_stem(stem: str) -> str:
    """A file name part from an untrusted input name: plain characters, bounded, never empty or hidden."""
    return _SAFE_STEM.sub("_", stem)[:80].strip("._-") or "input"


def _unique(name: str, taken: Sequence[str]) -> str:
    return f"input_{name}" if name in taken else name


def _strip(value: str | None) -> str:
    return (value or "").strip()
