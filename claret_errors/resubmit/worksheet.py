"""An edited worksheet back to Claret: which rows a person changed (against `worksheet.json`, the rows as
written), whether each changed row now passes the input checks, and the ready ones written in Claret's input
format into the job's `edited/` folder, for the resubmission to send like corrected files.

Reads the worksheet (needs_attention.xlsx, an owner's .xlsx, or the CSV) and the job folder; writes only in
`edited/`. Never sends: sending, the ledger and following the new jobs are the resubmission's.
"""

from __future__ import annotations

import hashlib
import html
import io
import json
import re
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from claret_errors.config import Settings
from claret_errors.errors import UsageError
from claret_errors.files.atomic import atomic_write_json
from claret_errors.files.csvwrite import is_formula_like, write_claret_csv
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
_EDITED_NAME = re.compile(r"_edited_\d{3}\.csv$")
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
            "conversions": self.conversions,
            "notes": self.notes,
            "files": [str(p) for p in self.files],
        }


def is_worksheet(path: Path) -> bool:
    """Whether a resubmit argument is a worksheet (rather than a job folder or a corrected file)."""
    name = path.name.lower()
    return path.is_file() and (
        name.endswith(".xlsx") or (name.endswith(".csv") and (name.startswith("needs_attention")))
    )


def check_worksheet(path: Path, settings: Settings, *, force: bool = False) -> WorksheetCheck:
    """Read an edited worksheet, compare it with the rows as written, check and write the changed rows.

    UsageError (naming the file) when the worksheet cannot be used at all: open elsewhere, of another job,
    columns deleted, not a worksheet of this tool. Row-level trouble is a `Problem`, and the row is not sent.
    """
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
    ready = _checked(changed, columns, cells, fields, known, UnitTable(settings.units), comma, check)
    ready = _not_sent_twice(folder, ready, check, force=force)
    check.ready = sorted(ready)
    check.files = _write_edited(folder, path, list(original["headers"]), fields, columns, ready)
    return check


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
) -> dict[int, list[str]]:
    """The changed rows that pass: certain conversions made (dates typed as dates or day numbers, digit
    grouping), then the input schema and the master data; the others become problems, cell by cell."""
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
    for number, problems in bad.items():
        check.problems.extend(dict.fromkeys(problems))
        rows.pop(number, None)
    return rows


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


def _not_sent_twice(
    folder: Path, ready: dict[int, list[str]], check: WorksheetCheck, *, force: bool
) -> dict[int, list[str]]:
    """Rows a file already sent held (the ledger knows the files, rows.json their rows) stay out unless
    `force`: a row fixed once and sent is followed in its new job, not sent again."""
    sent = _rows_sent(folder)
    for number in list(ready):
        if number in sent:
            check.sent_before[number] = sent[number]
            if not force:
                del ready[number]
    return ready


def _rows_sent(folder: Path) -> dict[int, str]:
    """input_row -> the job it was sent as ("" when the upload's outcome is unknown), from the ledger."""
    try:
        files = json.loads((folder / EDITED_DIR / ROWS_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    ledger = Ledger.open(folder.parent)
    sent: dict[int, str] = {}
    for sha, numbers in dict(files).items():
        entry = ledger.already_sent(sha)
        if entry is not None:
            for number in numbers:
                sent[int(number)] = entry.new_job or "(outcome unknown)"
    return sent


# --- writing ---------------------------------------------------------------------------------------------


def _write_edited(
    folder: Path,
    worksheet: Path,
    headers: Sequence[str],
    fields: Sequence[str],
    columns: Sequence[str],
    ready: Mapping[int, list[str]],
) -> list[Path]:
    """`edited/<worksheet>_edited_001.csv`...: the ready rows in input order, at most 1000 a file, in the
    input's own headers; the rows of each file recorded by its sha256, for the ledger to refuse them twice."""
    import polars as pl

    out = folder / EDITED_DIR
    stem = _SAFE_STEM.sub("_", worksheet.stem)[:60].strip("._-") or "worksheet"
    numbers = sorted(ready)
    written: list[Path] = []
    record = _rows_record(out)
    for start in range(0, len(numbers), MAX_RECORDS_PER_FILE):
        chunk = numbers[start : start + MAX_RECORDS_PER_FILE]
        path = out / f"{stem}_edited_{len(written) + 1:03d}.csv"
        frame = pl.DataFrame([ready[n] for n in chunk], schema=dict.fromkeys(fields, pl.String), orient="row")
        write_claret_csv(path, headers, frame)
        record[hashlib.sha256(path.read_bytes()).hexdigest()] = chunk
        written.append(path)
    if out.is_dir():
        for stale in out.iterdir():
            if (
                stale.name.startswith(f"{stem}_edited_")
                and _EDITED_NAME.search(stale.name)
                and stale not in written
            ):
                stale.unlink()
    if written:
        atomic_write_json(out / ROWS_FILE, record)
    return written


def _rows_record(out: Path) -> dict[str, list[int]]:
    try:
        data = json.loads((out / ROWS_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {str(k): [int(n) for n in v] for k, v in dict(data).items()}
