"""An edited worksheet back to Claret: which rows a person changed (against `worksheet.json`, the rows as
written), whether each changed row now passes the input checks, and the ready ones written in Claret's input
format into the job's `edited/` folder, for the resubmission to send like corrected files. Several
worksheets of one job are settled against each other and against the rows already sent: a row goes once.

Reads the worksheet (needs_attention.xlsx, an owner's .xlsx, or the CSV) and the job folder; writes only in
`edited/`. Never sends: sending, the ledger and following the new jobs are the resubmission's.
"""

from __future__ import annotations

import csv
import hashlib
import html
import io
import json
import re
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from claret_errors.config import Settings
from claret_errors.errors import UsageError
from claret_errors.files.atomic import atomic_write_json
from claret_errors.files.csvwrite import is_formula_like, write_claret_csv
from claret_errors.files.manifest import file_sha256
from claret_errors.fix.corrections import MAX_RECORDS_PER_FILE, NEEDS_ATTENTION
from claret_errors.fix.references import REFERENCE_FIELDS, master_names
from claret_errors.fix.rules import UnitTable, fix_quantity, fix_spreadsheet_serial
from claret_errors.fix.worksheet import INFO_SHEET, KIND, LISTS_SHEET, ORIGINAL, SHEET
from claret_errors.resubmit.ledger import Ledger
from claret_errors.resubmit.respelt import as_written, file_order

if TYPE_CHECKING:
    import polars as pl

EDITED_DIR = "edited"  # rows a person fixed, in Claret's input format; sent only when their worksheet is
ROWS_FILE = "rows.json"  # in edited/: the input rows of each file written, by sha256 (what the ledger keys)
_SAFE_STEM = re.compile(r"[^A-Za-z0-9._-]+")
_DATETIME_CELL = re.compile(r"^(\d{4}-\d{2}-\d{2})[ T]00:00:00(?:\.0+)?$")  # a date cell read as text
_FORMULA_CELL = re.compile(rb'<(?:\w+:)?c\s[^>]*?\br="([A-Z]{1,3})(\d+)"[^>]*>\s*<(?:\w+:)?f[\s>/]')
_TAG = re.compile(rb"<(?:\w+:)?(sheet|Relationship)\s([^>]*)>")
_ATTR = re.compile(rb'([\w:]+)="([^"]*)"')
_MAX_XML = 256 * 1024 * 1024  # a sheet's XML read to find formulas: bounded, a zip bomb stops here


@dataclass(frozen=True)
class Problem:
    """A row not sent: the cell (sheet reference, e.g. `E7`), its column and input row, and why."""

    cell: str
    column: str
    input_row: int | None
    why: str

    def __str__(self) -> str:
        row = f"input row {self.input_row}" if self.input_row is not None else "no input row"
        return f"{self.cell} ({self.column}, {row}): {self.why}"


@dataclass
class WorksheetCheck:
    """What an edited worksheet holds: rows unchanged, changed and ready, still invalid, sent before."""

    worksheet: Path
    job_folder: Path
    tenant: str
    job_log_id: str
    rows: int = 0  # data rows of the worksheet (added ones included)
    unchanged: int = 0
    ready: list[int] = field(default_factory=list)  # input rows written to `files`
    problems: list[Problem] = field(default_factory=list)
    sent_before: dict[int, str] = field(default_factory=dict)  # changed rows sent already: as which job
    also_in: dict[int, str] = field(default_factory=dict)  # changed alike in an earlier worksheet given
    conversions: list[str] = field(default_factory=list)  # certain changes made on the way, by cell
    notes: list[str] = field(default_factory=list)  # what was assumed about the file itself
    files: list[Path] = field(default_factory=list)

    def to_json(self) -> dict[str, object]:
        return {
            "worksheet": str(self.worksheet),
            "job_folder": str(self.job_folder),
            "tenant": self.tenant,
            "job_log_id": self.job_log_id,
            "rows": self.rows,
            "unchanged": self.unchanged,
            "ready": self.ready,
            "still_invalid": [
                {"cell": p.cell, "column": p.column, "input_row": p.input_row, "why": p.why}
                for p in self.problems
            ],
            "sent_before": {str(k): v for k, v in self.sent_before.items()},
            "also_in": {str(k): v for k, v in self.also_in.items()},
            "conversions": self.conversions,
            "notes": self.notes,
            "files": [str(p) for p in self.files],
        }


def is_worksheet(path: Path) -> bool:
    """Whether a resubmit argument is a worksheet (rather than a job folder or a corrected file)."""
    name = path.name.lower()
    if path.resolve().parent.name == EDITED_DIR:  # what a worksheet became, named to be sent as it is
        return False
    return path.is_file() and (
        name.endswith(".xlsx") or (name.endswith(".csv") and (name.startswith("needs_attention")))
    )


def check_worksheet(path: Path, settings: Settings, *, force: bool = False) -> WorksheetCheck:
    """One edited worksheet checked and its ready rows written: `check_worksheets` of one."""
    [check] = check_worksheets([path], settings, force=force)
    return check


def check_worksheets(
    paths: Sequence[Path], settings: Settings, *, force: bool = False
) -> list[WorksheetCheck]:
    """Read each edited worksheet, compare it with the rows as written, check the changed rows, settle rows
    changed in more than one worksheet of a job, and write each worksheet's ready rows to its own files.

    UsageError (naming the file) when a worksheet cannot be used at all: open elsewhere, of another job,
    columns deleted, not a worksheet of this tool. Row-level trouble is a `Problem`, and the row is not sent.
    """
    given: dict[Path, Path] = {}
    for path in paths:
        given.setdefault(Path(path).resolve(), Path(path))  # a worksheet named twice is read once
    edits = [_edits(p, settings) for p in given.values()]
    _settle_between(edits)
    for edit in edits:
        ready = _not_sent_twice(edit, force=force)
        edit.check.ready = sorted(ready)
        edit.check.files = _write_edited(edit, ready)
    return [e.check for e in edits]


@dataclass
class _Edits:
    """One worksheet's changed rows as checked, before they are written: what settling between worksheets
    and the ledger need."""

    check: WorksheetCheck
    changed: dict[int, list[str]]  # input_row -> the values to send (conversions made), valid or not
    invalid: set[int]  # changed rows with a problem of their own
    lines: dict[int, int]  # input_row -> its line in the sheet
    number_letter: str  # the input_row column's letter, for problems about a whole row
    headers: list[str]
    fields: list[str]

    def ready(self) -> dict[int, list[str]]:
        return {n: v for n, v in self.changed.items() if n not in self.invalid}

    def where(self, number: int, fields: Sequence[int]) -> str:
        """The worksheet, the row's line and the values of the given fields, for a message."""
        cells = ", ".join(f"{self.fields[i]} {self.changed[number][i]!r}" for i in fields)
        return f"{self.check.worksheet} (line {self.lines.get(number)}: {cells})"

    def hold(self, number: int, why: str) -> None:
        """Keep a changed row back with a problem about the whole row."""
        line = self.lines.get(number)
        cell = f"{self.number_letter}{line}" if line else self.number_letter
        self.check.problems.append(Problem(cell, "input_row", number, why))
        self.invalid.add(number)


def _edits(path: Path, settings: Settings) -> _Edits:
    _refuse_if_open(path)
    if path.suffix.lower() == ".xlsx":
        frame, info, formulas, notes = _read_xlsx(path)
        folder = _job_folder_of(path, info, settings)
    else:
        frame, notes = _read_csv(path)
        folder = _csv_job_folder(path)
        formulas = {}
    original = _original(folder, path)
    if path.suffix.lower() == ".xlsx" and (
        info.get("tenant") != original["tenant"] or info.get("job_log_id") != original["job_log_id"]
    ):
        raise UsageError(f"{path} is not a worksheet of job {original['job_log_id']}")
    check = WorksheetCheck(path, folder, str(original["tenant"]), str(original["job_log_id"]), notes=notes)
    columns: list[str] = list(original["columns"])
    _check_columns(path, frame, columns)
    as_sent: dict[int, list[str | None]] = {int(r[0]): list(r[1:]) for r in original["rows"]}
    letters = _letters(frame)
    fields: list[str] = list(original["fields"])
    dates = [i for i, name in enumerate(fields) if name == "date_filled"]
    changed = _changed_rows(frame, columns, letters, as_sent, formulas, dates, check)
    known = master_names(settings.master_data, settings.aliases)
    comma = bool(original.get("comma_decimal"))
    cells = [letters[c] for c in columns]
    values, invalid = _checked(
        changed, columns, cells, fields, known, UnitTable(settings.units), comma, check
    )
    lines = {n: line for n, (line, _) in changed.items()}
    return _Edits(check, values, invalid, lines, letters["input_row"], list(original["headers"]), fields)


def _settle_between(edits: Sequence[_Edits]) -> None:
    """A row changed in several worksheets of one job: alike, it goes once (from the first given); changed
    differently, it goes from none, and each worksheet names the row and the other file."""
    by_job: dict[Path, list[_Edits]] = {}
    for edit in edits:
        by_job.setdefault(edit.check.job_folder.resolve(), []).append(edit)
    for group in by_job.values():
        numbers = dict.fromkeys(n for e in group for n in e.changed)
        for number in numbers:
            having = [e for e in group if number in e.changed]
            if len(having) < 2:
                continue
            first = having[0]
            if all(e.changed[number] == first.changed[number] for e in having):
                for later in having[1:]:
                    later.changed.pop(number)
                    later.invalid.discard(number)
                    later.check.problems = [p for p in later.check.problems if p.input_row != number]
                    later.check.also_in[number] = str(first.check.worksheet)
                continue
            for edit in having:
                other = next(e for e in having if e.changed[number] != edit.changed[number])
                one, two = sorted((edit, other), key=group.index)
                differ = [i for i, v in enumerate(one.changed[number]) if v != two.changed[number][i]]
                edit.hold(
                    number,
                    f"input row {number} is changed differently in {one.where(number, differ)} and in "
                    f"{two.where(number, differ)}: agree on one, put it in both (or leave the row as written "
                    "in one), then run again",
                )


def _refuse_if_open(path: Path) -> None:
    """A spreadsheet program keeps a lock file beside a file it has open: what is on disk may not be what
    the person sees. Excel writes `~$name`, LibreOffice `.~lock.name#`."""
    for lock in (path.with_name("~$" + path.name), path.with_name(f".~lock.{path.name}#")):
        if lock.exists():
            raise UsageError(
                f"{path} is open in a spreadsheet program (its lock file {lock.name} is beside it): save "
                "it, close it, then run again"
            )


# --- reading -------------------------------------------------------------------------------------------


def _read_xlsx(path: Path) -> tuple[pl.DataFrame, dict[str, str], dict[tuple[int, str], str], list[str]]:
    """The rows sheet (all text, empty rows kept so line numbers hold), the hidden info, and the cells
    holding a formula (line, column letter) -> reference."""
    import fastexcel
    import polars as pl

    try:
        names = fastexcel.read_excel(str(path)).sheet_names
    except Exception as exc:  # fastexcel raises its own classes for every kind of unreadable file
        raise UsageError(f"{path} cannot be read as a worksheet: {exc}") from None
    notes: list[str] = []
    if INFO_SHEET not in names:
        raise UsageError(
            f"{path} is not a worksheet written by claret-errors (its hidden {INFO_SHEET} sheet is missing); "
            f"edit the needs_attention.xlsx of the job folder, or its needs_attention.csv"
        )
    sheet = SHEET
    if SHEET not in names:
        others = [n for n in names if n not in (INFO_SHEET, LISTS_SHEET)]
        if len(others) != 1:
            raise UsageError(
                f"{path} has no sheet named {SHEET!r} and several others: rename the rows' sheet back"
            )
        sheet = others[0]
        notes.append(f"the sheet {SHEET!r} was renamed to {sheet!r}; read that one")
    read = {"dtypes": "string"}
    info_frame = pl.read_excel(path, sheet_name=INFO_SHEET, has_header=False, read_options=read)
    info = {str(k): str(v or "") for k, v in info_frame.select(info_frame.columns[:2]).iter_rows()}
    if info.get("kind") != KIND:
        raise UsageError(f"{path} is not a worksheet written by claret-errors")
    try:
        frame = pl.read_excel(path, sheet_name=sheet, read_options=read, drop_empty_rows=False)
    except Exception as exc:
        raise UsageError(f"{path}: the sheet {sheet!r} cannot be read: {exc}") from None
    return frame, info, _formula_cells(path, sheet), notes


def _formula_cells(path: Path, sheet: str) -> dict[tuple[int, str], str]:
    """Cells of the sheet that hold a formula: the readers give only its last result (or nothing when the
    program that saved it did not compute one), so such a value is never taken for typed data."""
    try:
        with zipfile.ZipFile(path) as book:
            target = _sheet_part(book, sheet)
            if target is None:
                return {}
            info = book.getinfo(target)
            if info.file_size > _MAX_XML:
                raise UsageError(f"{path}: the sheet {sheet!r} is too large to check")
            data = book.read(info)
    except (zipfile.BadZipFile, KeyError, OSError) as exc:
        raise UsageError(f"{path} cannot be read as a worksheet: {exc}") from None
    found: dict[tuple[int, str], str] = {}
    for match in _FORMULA_CELL.finditer(data):
        letters, line = match.group(1).decode(), int(match.group(2))
        found[(line, letters)] = f"{letters}{line}"
    return found


def _sheet_part(book: zipfile.ZipFile, sheet: str) -> str | None:
    """The zip member holding a sheet: workbook.xml names it, its relationships say where it is."""
    ids = {}
    for kind, attrs in _TAG.findall(book.read("xl/workbook.xml")):
        if kind == b"sheet":
            values = {k.split(b":")[-1]: html.unescape(v.decode()) for k, v in _ATTR.findall(attrs)}
            ids[values.get(b"name")] = values.get(b"id")
    rel = ids.get(sheet)
    for kind, attrs in _TAG.findall(book.read("xl/_rels/workbook.xml.rels")):
        values = {k: html.unescape(v.decode()) for k, v in _ATTR.findall(attrs)}
        if kind == b"Relationship" and values.get(b"Id") == rel:
            target = values.get(b"Target", "")
            return target.lstrip("/") if target.startswith("/") else f"xl/{target}"
    return None


def _read_csv(path: Path) -> tuple[pl.DataFrame, list[str]]:
    """needs_attention.csv as a spreadsheet may have saved it: UTF-8 (with or without BOM) or, failing
    that, Windows-1252; commas, semicolons or tabs, told by the header's first name."""
    import polars as pl

    data = path.read_bytes()
    notes: list[str] = []
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")
        notes.append("not UTF-8: read as Windows-1252, the encoding spreadsheets save CSV in on Windows")
    first = text.split("\n", 1)[0]
    separator = next(
        (s for s in (",", ";", "\t") if first.split(s, 1)[0].strip('"\ufeff ') == "input_row"), None
    )
    if separator is None:
        raise UsageError(f"{path}: the first column is not input_row; is this a needs_attention.csv?")
    if separator != ",":
        notes.append(f"columns separated by {'a semicolon' if separator == ';' else 'a tab'}")
    try:
        frame = pl.read_csv(io.StringIO(text), separator=separator, infer_schema=False)
    except pl.exceptions.PolarsError as exc:
        raise UsageError(f"{path} is not a readable CSV: {exc}") from None
    # Formula-like cells were written with a leading ' to keep them inert: what Claret gets is without it.
    strip = pl.col(pl.String).str.replace(r"^'([=+\-@\t\r])", "$1")
    return frame.with_columns(strip), notes


def _job_folder_of(path: Path, info: Mapping[str, str], settings: Settings) -> Path:
    """The job folder of a worksheet: the folder it sits in (or its owners/ parent), else OUT/<tenant>/<job>;
    a worksheet sitting in the folder of another job is refused."""
    from claret_errors.claret.urls import safe_component

    tenant, job = info.get("tenant", ""), info.get("job_log_id", "")
    where = path.resolve().parent
    for folder in (where, where.parent) if where.name == "owners" else (where,):
        summary = _summary(folder)
        if summary is not None:
            if (summary.get("tenant"), summary.get("job_log_id")) != (tenant, job):
                raise UsageError(
                    f"{path} is the worksheet of job {job} (tenant {tenant}), but it is in the folder of job "
                    f"{summary.get('job_log_id')}: give the worksheet of this job, or move it"
                )
            return folder
    folder = settings.out / safe_component(tenant, fallback="tenant") / safe_component(job, fallback="job")
    if _summary(folder) is None:
        raise UsageError(
            f"{path} is the worksheet of job {job} (tenant {tenant}), whose folder {folder} is not here"
        )
    return folder


def _csv_job_folder(path: Path) -> Path:
    where = path.resolve().parent
    for folder in (where, where.parent) if where.name == "owners" else (where,):
        if _summary(folder) is not None:
            return folder
    raise UsageError(f"{path} is not in a job folder: give the {NEEDS_ATTENTION} of the job's folder")


def _summary(folder: Path) -> dict[str, Any] | None:
    try:
        data = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _original(folder: Path, path: Path) -> dict[str, Any]:
    try:
        data = json.loads((folder / ORIGINAL).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(
            f"{folder} keeps no {ORIGINAL} (the rows as written), so the changes in {path.name} cannot be "
            "told: analyse the job again, then edit its new worksheet"
        ) from None
    except (OSError, ValueError) as exc:
        raise UsageError(f"{folder / ORIGINAL} cannot be read: {exc}") from None
    return dict(data)


def _check_columns(path: Path, frame: pl.DataFrame, columns: Sequence[str]) -> None:
    """Columns may be moved (they are read by name); a deleted or renamed one cannot be guessed."""
    missing = [c for c in ("input_row", *columns) if c not in frame.columns]
    if missing:
        extra = [c for c in frame.columns if c not in (*columns, "input_row") and not c.startswith("__")]
        renamed = f" (the sheet has {', '.join(extra)} instead)" if extra else ""
        raise UsageError(
            f"{path}: column(s) {', '.join(missing)} deleted or renamed{renamed}; put them back as written"
        )


# --- comparing and checking ------------------------------------------------------------------------------


def _letters(frame: pl.DataFrame) -> dict[str, str]:
    """Each column's letter in the sheet as the person left it (columns may have been moved)."""
    from xlsxwriter.utility import xl_col_to_name

    return {c: xl_col_to_name(i) for i, c in enumerate(frame.columns)}


def _changed_rows(
    frame: pl.DataFrame,
    columns: Sequence[str],
    letters: Mapping[str, str],
    as_sent: Mapping[int, list[str | None]],
    formulas: Mapping[tuple[int, str], str],
    dates: Sequence[int],
    check: WorksheetCheck,
) -> dict[int, tuple[int, list[str]]]:
    """input_row -> (sheet line, the values now) for each row a person changed; the rest counted or listed.
    Cells a spreadsheet only re-spelt (dates, numbers, encoding) count as unchanged."""
    changed: dict[int, tuple[int, list[str]]] = {}
    seen: dict[int, int] = {}
    table = frame.select("input_row", *columns).rows()
    read = {n: [v or "" for v in r[1:]] for r in table if (n := _whole(r[0])) is not None}
    order = file_order(read, as_sent, dates)
    for index, row in enumerate(table):
        line = index + 2  # the header is line 1
        number_text, values = row[0], [v if v is not None else "" for v in row[1:]]
        if number_text is None and not any(values):
            continue  # an empty line
        check.rows += 1
        number = _whole(number_text)
        where = f"{letters['input_row']}{line}"
        if number is None or number not in as_sent:
            why = (
                "a row added by hand: no input_row, so it is no row of this job (new records go in a new "
                "import file)"
                if number_text is None
                else f"input_row {number_text} is not a row of this worksheet (changed by hand?)"
            )
            check.problems.append(Problem(where, "input_row", number, why))
            continue
        if number in seen:
            check.problems.append(
                Problem(where, "input_row", number, f"the same input row as line {seen[number]}; keep one")
            )
            changed.pop(number, None)
            continue
        seen[number] = line
        typed = [(c, cell) for c in columns if (cell := formulas.get((line, letters[c])))]
        for column, cell in typed:
            why = "holds a formula: type the value itself (Claret takes values, not formulas)"
            check.problems.append(Problem(cell, column, number, why))
        if typed:
            continue
        before = ["" if v is None else v for v in as_sent[number]]
        for i, written in enumerate(before):
            values[i], reading = as_written(written, values[i], is_date=i in dates, order=order)
            if reading:
                check.conversions.append(f"{letters[columns[i]]}{line} ({columns[i]}): {reading}")
        if values == before:
            check.unchanged += 1
            continue
        changed[number] = (line, values)
    return changed


def _whole(text: str | None) -> int | None:
    """An input_row as read: "12", or "12.0" from a number cell."""
    if text is None:
        return None
    match = re.fullmatch(r"\s*(\d+)(?:\.0+)?\s*", text)
    return int(match.group(1)) if match else None


def _checked(
    changed: Mapping[int, tuple[int, list[str]]],
    columns: Sequence[str],
    cells: Sequence[str],
    fields: Sequence[str],
    known: Mapping[str, set[str]],
    units: UnitTable,
    comma_decimal: bool,
    check: WorksheetCheck,
) -> tuple[dict[int, list[str]], set[int]]:
    """The changed rows with certain conversions made (dates typed as dates or day numbers, digit grouping),
    and those failing the input schema or the master data, each failure a problem, cell by cell."""
    import pandera.polars as pa
    import polars as pl

    from claret_errors.validate import input_schema

    rows: dict[int, list[str]] = {}
    lines: dict[int, int] = {}
    unit = fields.index("uom") if "uom" in fields else None
    for number, (line, values) in changed.items():
        converted = list(values)
        for i, name in enumerate(fields):
            uom = converted[unit] if unit is not None else ""
            after = _convert(name, converted[i], uom, units, comma_decimal)
            if after is not None and after != converted[i]:
                check.conversions.append(
                    f"{f'{cells[i]}{line}'} ({columns[i]}): {converted[i]!r} read as {after!r}"
                )
                converted[i] = after
        rows[number], lines[number] = converted, line
    numbers = list(rows)
    bad: dict[int, list[Problem]] = {}
    if numbers:
        frame = pl.DataFrame(
            [rows[n] for n in numbers], schema=dict.fromkeys(fields, pl.String), orient="row"
        )
        try:
            input_schema().validate(frame, lazy=True)
        except pa.errors.SchemaErrors as exc:
            for case in exc.failure_cases.iter_rows(named=True):
                name, index = case["column"], case["index"]
                targets = numbers if index is None else [numbers[int(index)]]
                for number in targets:
                    i = fields.index(name) if name in fields else 0
                    value = rows[number][i]
                    why = (
                        f"{value!r} fails the input check {case['check']}"
                        if value
                        else "is empty; Claret needs a value"
                    )
                    bad.setdefault(number, []).append(
                        Problem(f"{cells[i]}{lines[number]}", columns[i], number, why)
                    )
    for number in numbers:
        for i, name in enumerate(fields):
            value = rows[number][i]
            why = ""
            if name in REFERENCE_FIELDS and known.get(name) and value and value not in known[name]:
                why = f"{value!r} is not in the master data's {name}s: choose one from the drop-down"
            elif is_formula_like(value, numeric=name == "quantity"):
                why = f"{value!r} starts with {value[0]!r}, which a spreadsheet would run as a formula"
            if why:
                bad.setdefault(number, []).append(
                    Problem(f"{cells[i]}{lines[number]}", columns[i], number, why)
                )
    for problems in bad.values():
        check.problems.extend(dict.fromkeys(problems))
    return rows, set(bad)


def _convert(name: str, value: str, uom: str, units: UnitTable, comma_decimal: bool) -> str | None:
    """A certain reading of what a spreadsheet made of a typed value, or None."""
    if name == "date_filled":
        match = _DATETIME_CELL.match(value)
        if match:
            return match.group(1)
        serial = fix_spreadsheet_serial(value)
        return serial.after if serial else None
    if name == "quantity" and value:
        outcome = fix_quantity(value, uom, units, comma_decimal)
        return outcome.after if outcome else None
    return None


@dataclass(frozen=True)
class _SentRow:
    """A row of a worksheet's file that the ledger says was sent (or whose upload's outcome is unknown)."""

    job: str  # "" when the outcome is unknown
    file: str
    worksheet: str  # the worksheet the file was written from; "" for files written before it was recorded
    values: list[str] | None  # as sent; None when the file is no longer on disk as it was sent


def _not_sent_twice(edit: _Edits, *, force: bool) -> dict[int, list[str]]:
    """The ready rows, less those a file already sent held (the ledger knows the files, rows.json their
    rows) unless `force`: a row fixed once and sent is followed in its new job, not sent again. Sent with
    other values than this worksheet's, the row is a problem naming both worksheets."""
    ready = edit.ready()
    sent = _rows_sent(edit.check.job_folder)
    for number in list(ready):
        before = sent.get(number)
        if before is None:
            continue
        job = before.job or "(outcome unknown)"
        edit.check.sent_before[number] = job
        if force:
            continue
        if before.values is not None and before.values != ready[number]:
            earlier = before.worksheet or f"{EDITED_DIR}/{before.file}"
            differ = [i for i, v in enumerate(before.values) if v != ready[number][i]]
            values = ", ".join(f"{edit.fields[i]} {before.values[i]!r}" for i in differ)
            edit.hold(
                number,
                f"input row {number} is changed differently in {earlier} ({values}) and in "
                f"{edit.where(number, differ)}; it was sent from {Path(earlier).name} as job {job}: fix it "
                "there in Claret, or send this one too with --force",
            )
        del ready[number]
    return ready


def _rows_sent(folder: Path) -> dict[int, _SentRow]:
    """input_row -> how it was sent, for the rows of edited files the ledger knows (rows.json says which)."""
    out = folder / EDITED_DIR
    record = _rows_record(out)
    if not record:
        return {}
    ledger = Ledger.open(folder.parent)
    sent: dict[int, _SentRow] = {}
    for sha, written in record.items():
        upload = ledger.already_sent(sha)
        if upload is None:
            continue
        name = written.file or upload.file
        values = _file_rows(out / name, sha, len(written.rows))
        for i, number in enumerate(written.rows):
            row = values[i] if values is not None else None
            sent[number] = _SentRow(upload.new_job, name, written.worksheet, row)
    return sent


def _file_rows(path: Path, sha: str, count: int) -> list[list[str]] | None:
    """The data rows of an edited file, if it is still the file of that sha256 with that many rows."""
    try:
        data = path.read_bytes()
    except OSError:
        return None
    if hashlib.sha256(data).hexdigest() != sha:
        return None
    rows = list(csv.reader(io.StringIO(data.decode("utf-8", errors="replace"), newline="")))[1:]
    return rows if len(rows) == count else None


# --- writing ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Written:
    """One edited file as rows.json records it, by its sha256."""

    rows: list[int]  # input rows, in the file's order
    worksheet: str = ""  # the worksheet it was written from
    file: str = ""  # its name in edited/


def _label(worksheet: Path, folder: Path) -> str:
    """The start of a worksheet's file names: its name and kind, and a digest of where it is (within the
    job folder when it is there), so no two worksheets, the xlsx and the CSV or two people's copies of
    one workbook, ever write to the same file."""
    where = worksheet.resolve()
    try:
        place = where.relative_to(folder.resolve()).as_posix()
    except ValueError:
        place = str(where)
    digest = hashlib.sha256(place.encode("utf-8")).hexdigest()[:8]
    name = _SAFE_STEM.sub("_", f"{where.stem}-{where.suffix.lstrip('.')}")[:60].strip("._-") or "worksheet"
    return f"{name}-{digest}"


def _write_edited(edit: _Edits, ready: Mapping[int, list[str]]) -> list[Path]:
    """`edited/<label>_edited_001.csv`...: the ready rows in input order, at most 1000 a file, in the
    input's own headers. A file the ledger knows (sent, or its outcome unknown) is never replaced: it is
    what was sent. This worksheet's files not sent are replaced. Each file's rows and worksheet go into
    rows.json by its sha256, for the same row to be refused twice."""
    import polars as pl

    folder = edit.check.job_folder
    out = folder / EDITED_DIR
    label = _label(edit.check.worksheet, folder)
    own = re.compile(re.escape(label) + r"_edited_\d{3}\.csv")
    ledger = Ledger.open(folder.parent)
    mine = {p: file_sha256(p) for p in (out.iterdir() if out.is_dir() else ()) if own.fullmatch(p.name)}
    kept = {p for p, sha in mine.items() if ledger.already_sent(sha) is not None}
    numbers = sorted(ready)
    written: list[Path] = []
    record = _rows_record(out)
    n = 0
    for start in range(0, len(numbers), MAX_RECORDS_PER_FILE):
        chunk = numbers[start : start + MAX_RECORDS_PER_FILE]
        n += 1
        while (path := out / f"{label}_edited_{n:03d}.csv") in kept:
            n += 1
        frame = pl.DataFrame(
            [ready[i] for i in chunk], schema=dict.fromkeys(edit.fields, pl.String), orient="row"
        )
        write_claret_csv(path, edit.headers, frame)
        record[file_sha256(path)] = _Written(chunk, str(edit.check.worksheet), path.name)
        written.append(path)
    for stale, sha in mine.items():
        if stale not in kept and stale not in written:
            stale.unlink()
            if record.get(sha, _Written([])).file == stale.name:
                del record[sha]
    if written or len(mine) > len(kept):
        atomic_write_json(out / ROWS_FILE, {k: asdict(v) for k, v in record.items()})
    return written


def edited_rows(folder: Path) -> dict[str, list[int]]:
    """The edited files a job folder's worksheets produced: sha256 -> the job's input rows, in file order."""
    return {sha: written.rows for sha, written in _rows_record(folder / EDITED_DIR).items()}


def _rows_record(out: Path) -> dict[str, _Written]:
    """rows.json: sha256 -> the file's rows (a bare list of rows in files written before the worksheet was
    recorded too)."""
    try:
        data = json.loads((out / ROWS_FILE).read_text(encoding="utf-8"))
        record: dict[str, _Written] = {}
        for sha, entry in dict(data).items():
            if isinstance(entry, list):
                record[str(sha)] = _Written([int(n) for n in entry])
            else:
                rows = [int(n) for n in entry["rows"]]
                record[str(sha)] = _Written(rows, str(entry.get("worksheet", "")), str(entry.get("file", "")))
        return record
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return {}
