"""Worksheets a person fixes rows in: `needs_attention.xlsx` per job and `owners/<owner>.xlsx` per owner, and
`worksheet.json`, the rows as written, from which `resubmit` later tells which rows a person changed.

Cells are written as text (a formula-like value never runs), the cells to change are highlighted, reference
columns get a drop-down of the names known to exist. The hidden info names the owner of every row of a book
("" when they have several), so an owner holding every row of the job gets the job's workbook, byte for
byte, built once. Writes files only; xlsxwriter loads only here.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from claret_errors.files.atomic import atomic_write_bytes, atomic_write_json
from claret_errors.files.csvwrite import LIST_SEPARATOR
from claret_errors.files.manifest import file_sha256
from claret_errors.fix.rules import quantity_style
from claret_errors.reconcile.advice import GUESSED
from claret_errors.reconcile.classify import UNCLASSIFIED
from claret_errors.results import FixResult, JobResult

if TYPE_CHECKING:
    import polars as pl

WORKSHEET = "needs_attention.xlsx"
ATTENTION_CSV = "needs_attention.csv"  # the fix stage writes it (as its NEEDS_ATTENTION)
ORIGINAL = "worksheet.json"  # the rows as the worksheets show them, before anyone edits them
SHEET = "needs_attention"
INFO_SHEET = "_claret"  # hidden: which job the worksheet is of, so one of another job is recognised
LISTS_SHEET = "_lists"  # hidden: the valid values behind the drop-downs
KIND = "claret-errors worksheet"
SCHEMA_VERSION = 1
# Beyond this a spreadsheet is no place to fix rows one by one: needs_attention.csv stays the file.
MAX_SHEET_ROWS = 5_000
PEOPLE_COLUMNS = ("messages", "advice", "suggestion", "note", "owner")
_MIN_WIDTH, _MAX_WIDTH = 8, 48  # characters
_CHAR_PX = 7  # pixels per character of Calibri 11, what polars' column_widths take


@dataclass(frozen=True)
class SheetLayout:
    """How a job's rows sit in its worksheets: the sheet's input columns and the input's own fields."""

    columns: tuple[str, ...]  # the worksheet's input column names (as in needs_attention.csv)
    fields: tuple[str, ...]  # the input's canonical columns, in the same order
    headers: tuple[str, ...]  # the input file's own header names, in the same order


def layout_of(result: JobResult) -> SheetLayout | None:
    """The input columns of needs_attention for this job, or None when there is nothing to write."""
    fixes, job = result.fixes, result.loaded
    if fixes is None or job is None or fixes.needs_attention.height == 0:
        return None
    fields = tuple(job.input_columns)
    taken = ("input_row", "messages", "reason", "owner", "fix", "suggestion")
    columns = tuple(f"input_{c}" if c in taken else c for c in fields)
    if not set(columns) <= set(fixes.needs_attention.columns):
        return None
    return SheetLayout(columns, fields, tuple(job.input_headers))


def has_worksheet(result: JobResult) -> bool:
    """Whether the job gets worksheets: what the reports and summary.json name as the file to fix rows in,
    decided from the result, so it holds before the files are written."""
    return layout_of(result) is not None and result.fixes is not None and not _too_many(result.fixes)


def _too_many(fixes: FixResult) -> bool:
    return fixes.needs_attention.height > MAX_SHEET_ROWS


def write_worksheets(result: JobResult, folder: Path, owner_stems: Mapping[str, str]) -> list[Path]:
    """`needs_attention.xlsx`, `owners/<stem>.xlsx` for each owner with rows to fix, and `worksheet.json`;
    stale ones of an earlier analysis removed when there is nothing to fix now."""
    import polars as pl

    layout = layout_of(result)
    fixes = result.fixes
    if layout is None or fixes is None or not has_worksheet(result):
        (folder / WORKSHEET).unlink(missing_ok=True)
        (folder / ORIGINAL).unlink(missing_ok=True)
        return []
    messages = result.reconciliation.messages if result.reconciliation is not None else None
    frame = _sheet_frame(fixes.needs_attention, layout, messages)
    marks = _cells_to_change(result, layout)
    info = {
        "kind": KIND,
        "schema_version": str(SCHEMA_VERSION),
        "tenant": result.info.tenant,
        "job_log_id": result.info.job_log_id,
    }
    job = result.loaded
    # The job's number habit, for `resubmit` to read an edited "1,200" as the file would mean it.
    quantities = job.input.get_column("quantity") if job and "quantity" in job.input.columns else None
    comma = quantity_style(quantities) if quantities is not None else False
    books = {WORKSHEET: frame}
    for owner, stem in owner_stems.items():
        mine = frame.filter(pl.col("owner") == owner)
        if owner and mine.height:
            books[f"owners/{stem}.xlsx"] = mine
    before = _written_before(folder)
    sums: dict[str, str] = {}
    whole: bytes | None = None  # the job's book: an owner with every row of it gets the same file
    for name, rows in books.items():
        path = folder / name
        if name in before and path.is_file() and file_sha256(path) != before[name]:
            sums[name] = before[name]  # edited by a person since: their work is never overwritten
            continue
        if rows.height == frame.height and whole is not None:
            data = whole
        else:
            data = _book(rows, layout, marks, fixes.choices, {**info, "owner": _sole_owner(rows)})
            whole = data if rows.height == frame.height else whole
        atomic_write_bytes(path, data)
        sums[name] = hashlib.sha256(data).hexdigest()
    if (folder / ATTENTION_CSV).is_file():  # written by the fix stage just now: edited if it differs later
        sums[ATTENTION_CSV] = file_sha256(folder / ATTENTION_CSV)
    _write_original(folder / ORIGINAL, frame, layout, {**info, "comma_decimal": comma, "written": sums})
    return [folder / name for name in books]


def set_aside_if_edited(folder: Path) -> Path | None:
    """Rename needs_attention.csv to needs_attention_edited[_N].csv if a person edited it since it was
    written, before the fix stage writes it afresh: their work is kept and stays re-sendable."""
    path = folder / ATTENTION_CSV
    written = _written_before(folder).get(ATTENTION_CSV)
    if written is None or not path.is_file() or file_sha256(path) == written:
        return None
    n = 1
    while (target := folder / f"needs_attention_edited{'' if n == 1 else f'_{n}'}.csv").exists():
        n += 1
    path.rename(target)
    return target


def _written_before(folder: Path) -> dict[str, str]:
    """The worksheets the last analysis wrote, by sha256: one that differs now was edited by a person."""
    try:
        data = json.loads((folder / ORIGINAL).read_text(encoding="utf-8"))
        return {str(k): str(v) for k, v in dict(data.get("written", {})).items()}
    except (OSError, ValueError, TypeError, AttributeError):
        return {}


def _sheet_frame(attention: pl.DataFrame, layout: SheetLayout, messages: pl.DataFrame | None) -> pl.DataFrame:
    """input_row, the input columns as sent, then what a person reads: all text, lists joined, the advice
    marked where it is only our guess."""
    import polars as pl

    people = [c for c in PEOPLE_COLUMNS if c in attention.columns]
    return attention.select(
        pl.col("input_row").cast(pl.Int64),
        *(pl.col(c).cast(pl.String) for c in layout.columns),
        *(
            pl.col(c).list.join(LIST_SEPARATOR)
            if isinstance(attention.schema[c], pl.List)
            else pl.col(c).cast(pl.String).fill_null("")
            for c in people
        ),
    ).with_columns(advice_as_read(attention, messages))


def rests_on_guess(confidence: pl.Expr, category: pl.Expr) -> pl.Expr:
    """Whether a message's advice rests on our guess at its meaning: read by its cue words, not a known
    wording. A category left unread is not: its advice already says that we could not read the message."""
    import polars as pl

    return (confidence.cast(pl.String) == "guessed") & (category.cast(pl.String) != UNCLASSIFIED)


def advice_as_read(attention: pl.DataFrame, messages: pl.DataFrame | None) -> pl.Series:
    """`advice` of each row of `attention` as prose for people (its sentences joined by a space, in row
    order); a sentence resting only on messages read by their cue words, not by a known Claret wording,
    starts `Our best guess from the wording:`, so the worksheet and the CSV say what the report says."""
    import polars as pl

    if "advice" not in attention.columns:
        return pl.Series("advice", [""] * attention.height, dtype=pl.String)
    if not isinstance(attention.schema["advice"], pl.List):
        return attention["advice"].cast(pl.String).fill_null("")
    sentences = attention.select(
        pl.int_range(pl.len()).alias("_at"), pl.col("input_row").cast(pl.Int64, strict=False), "advice"
    ).explode("advice")
    if messages is not None and {"input_row", "advice", "confidence", "category"} <= set(messages.columns):
        # a sentence is a guess when every message of the row that gave it was only guessed
        guessed = (
            messages.select(
                pl.col("input_row").cast(pl.Int64, strict=False),
                pl.col("advice").cast(pl.String),
                rests_on_guess(pl.col("confidence"), pl.col("category")).alias("guessed"),
            )
            .group_by("input_row", "advice")
            .agg(pl.col("guessed").all())
        )
        sentences = sentences.join(guessed, on=["input_row", "advice"], how="left", maintain_order="left")
    else:
        sentences = sentences.with_columns(pl.lit(value=False).alias("guessed"))
    lead = GUESSED[:1].upper() + GUESSED[1:] + ": "
    marked = pl.when(pl.col("guessed").fill_null(value=False)).then(lead + pl.col("advice"))
    # Advice sentences end in a full stop and may hold "; ": joined as prose, not as a list.
    prose = (
        sentences.with_columns(marked.otherwise(pl.col("advice")).alias("advice"))
        .group_by("_at")
        .agg(pl.col("advice").drop_nulls().str.join(" "))
    )
    rows = pl.DataFrame({"_at": range(attention.height)}, schema={"_at": prose.schema["_at"]})
    return rows.join(prose, on="_at", how="left", maintain_order="left")["advice"].fill_null("")


def _cells_to_change(result: JobResult, layout: SheetLayout) -> dict[int, set[str]]:
    """input_row -> the sheet columns Claret's messages name for it: the cells a person must change."""
    import polars as pl

    rec = result.reconciliation
    if rec is None or not {"input_row", "field"} <= set(rec.messages.columns):
        return {}
    to_column = dict(zip(layout.fields, layout.columns, strict=True))
    pairs = (
        rec.messages.select(pl.col("input_row").cast(pl.Int64), pl.col("field").cast(pl.String))
        .drop_nulls()
        .filter(pl.col("field").is_in(list(to_column)))
        .unique()
    )
    marks: dict[int, set[str]] = {}
    for row, name in pairs.iter_rows():
        marks.setdefault(int(row), set()).add(to_column[name])
    return marks


def _write_original(path: Path, frame: pl.DataFrame, layout: SheetLayout, info: Mapping[str, object]) -> None:
    """The rows as the worksheets show them: what `resubmit` compares an edited worksheet with."""
    rows = frame.select("input_row", *layout.columns).rows()
    atomic_write_json(
        path,
        {
            **info,
            "columns": list(layout.columns),
            "fields": list(layout.fields),
            "headers": list(layout.headers),
            "rows": [[int(r[0]), *r[1:]] for r in rows],
        },
    )


def _width(frame: pl.DataFrame, column: str) -> int:
    """A column's width in pixels: its longest value or header, within bounds."""
    import polars as pl

    longest = frame.select(pl.col(column).cast(pl.String).str.len_chars().max()).item() or 0
    chars = min(max(int(longest), len(column), _MIN_WIDTH), _MAX_WIDTH)
    return chars * _CHAR_PX + 10


def _sole_owner(rows: pl.DataFrame) -> str:
    """The owner of every row of a book, else "": what its hidden info names as whose rows it holds."""
    owners = rows.get_column("owner").unique()
    return str(owners[0]) if owners.len() == 1 else ""


def _book(
    frame: pl.DataFrame,
    layout: SheetLayout,
    marks: Mapping[int, set[str]],
    choices: Mapping[str, Sequence[str]],
    info: Mapping[str, str],
) -> bytes:
    """One workbook's bytes: the rows (text cells), highlights, drop-downs, hidden info and lists."""
    from xlsxwriter import Workbook
    from xlsxwriter.utility import xl_col_to_name

    buffer = io.BytesIO()
    # Text stays text: no formula, URL or number is made of a cell's value.
    options = {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False}
    book = Workbook(buffer, options)
    title = f"Rows to fix: job {info['job_log_id']} ({info['tenant']})"
    book.set_properties({"title": title, "subject": KIND, "comments": "Edit the highlighted cells."})
    book.set_custom_property("claret_job_log_id", info["job_log_id"])
    book.set_custom_property("claret_tenant", info["tenant"])
    sheet = book.add_worksheet(SHEET)
    text = book.add_format({"num_format": "@"})  # what a person types stays text: no date or number made
    frame.write_excel(
        book,
        sheet,
        table_style="Table Style Light 1",
        autofilter=True,
        freeze_panes=(1, 1),
        column_widths={c: _width(frame, c) for c in frame.columns},
        column_formats=dict.fromkeys(layout.columns, "@"),
        header_format={"bold": True, "text_wrap": True, "valign": "top"},
    )
    highlight = book.add_format({"bg_color": "#FFE699", "num_format": "@", "border": 1})
    position = {c: i for i, c in enumerate(frame.columns)}
    rows = frame.get_column("input_row").to_list()
    for line, input_row in enumerate(rows, start=1):
        for column in sorted(marks.get(int(input_row), ())):
            value = frame.get_column(column)[line - 1]
            if value is None:
                sheet.write_blank(line, position[column], None, highlight)
            else:
                sheet.write_string(line, position[column], str(value), highlight)
    _drop_downs(book, sheet, frame, layout, choices, text, xl_col_to_name)
    _info_sheet(book, {**info, "columns": "\t".join(layout.columns)})
    book.close()
    return buffer.getvalue()


def _drop_downs(
    book: Any,
    sheet: Any,
    frame: pl.DataFrame,
    layout: SheetLayout,
    choices: Mapping[str, Sequence[str]],
    text: Any,
    letter_of: Any,
) -> None:
    """A list validation on each reference column whose valid names are known, the names on a hidden sheet
    (a list typed into the rule itself holds 255 characters at most). A warning, not a stop: a name new to
    Claret since the names were gathered can still be typed."""
    wanted = [(c, f) for c, f in zip(layout.columns, layout.fields, strict=True) if choices.get(f)]
    if not wanted or frame.height == 0:
        return
    lists = book.add_worksheet(LISTS_SHEET)
    lists.hide()
    position = {c: i for i, c in enumerate(frame.columns)}
    for index, (column, name) in enumerate(wanted):
        names = list(choices[name])
        lists.write_string(0, index, name)
        for line, value in enumerate(names, start=1):
            lists.write_string(line, index, value, text)
        letter = letter_of(index)
        sheet.data_validation(
            1,
            position[column],
            frame.height,
            position[column],
            {
                "validate": "list",
                "source": f"='{LISTS_SHEET}'!${letter}$2:${letter}${len(names) + 1}",
                "error_type": "warning",
                "error_title": "Not a known name",
                "error_message": f"Claret does not know this {name} as far as this job shows. Keep it?",
            },
        )


def _info_sheet(book: Any, info: Mapping[str, str]) -> None:
    sheet = book.add_worksheet(INFO_SHEET)
    sheet.hide()
    for line, (key, value) in enumerate(info.items()):
        sheet.write_string(line, 0, key)
        sheet.write_string(line, 1, value)
