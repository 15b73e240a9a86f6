"""Write CSVs exactly as Claret takes them (the input's headers and order, UTF-8, RFC 4180), and for people.

Files for Claret carry values untouched; files for people neutralise cells a spreadsheet would run as a
formula. Both land atomically. Never decides what goes into a file: that is the fix stage's job.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from claret_errors.atomic import atomic_write_bytes

if TYPE_CHECKING:
    import polars as pl

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
# A plain number is data to a spreadsheet, never a formula, even with a sign ("-5", "+12.5").
_PLAIN_NUMBER = re.compile(r"^[+-]?(\d+([.,]\d+)?|[.,]\d+)$")
_NEEDS_QUOTES = re.compile(r'[\s,"]')
LIST_SEPARATOR = " | "


def is_formula_like(value: str | None, *, numeric: bool = False) -> bool:
    """Whether a spreadsheet would run the cell: it starts with = + - @ tab or CR.

    In a numeric column a signed plain number (`-5`) is a number, not a formula.
    """
    if not value or not value.startswith(FORMULA_TRIGGERS):
        return False
    return not (numeric and _PLAIN_NUMBER.match(value))


def neutralise(value: str) -> str:
    """A formula-like cell made inert for spreadsheets by a leading single quote; plain numbers stay."""
    return "'" + value if is_formula_like(value, numeric=True) else value


def _field(value: str) -> str:
    """One RFC 4180 field: quoted when it holds whitespace, a comma or a quote; quotes doubled."""
    if _NEEDS_QUOTES.search(value):
        return '"' + value.replace('"', '""') + '"'
    return value


def render_csv(headers: Sequence[str], rows: Iterable[Sequence[str | None]]) -> bytes:
    """The CSV bytes: UTF-8 without BOM, comma-delimited, CRLF line ends, nulls as empty fields."""
    lines = [",".join(_field(h) for h in headers)]
    lines.extend(",".join(_field("" if v is None else v) for v in row) for row in rows)
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")


def write_claret_csv(path: Path, headers: Sequence[str], rows: pl.DataFrame) -> None:
    """`rows` (String columns, in the order of `headers`) as a file Claret's CSV import takes, atomically."""
    if len(headers) != rows.width:
        raise ValueError(f"{len(headers)} headers for {rows.width} columns")
    atomic_write_bytes(path, render_csv(headers, rows.iter_rows()))


def _cell_text(frame: pl.DataFrame) -> pl.DataFrame:
    """Every column as text: lists joined with ` | `, other types by their string form."""
    import polars as pl

    columns = []
    for name, dtype in frame.schema.items():
        column = pl.col(name)
        if isinstance(dtype, pl.List):
            columns.append(column.cast(pl.List(pl.String)).list.join(LIST_SEPARATOR))
        else:
            columns.append(column.cast(pl.String))
    return frame.select(columns)


def write_people_csv(path: Path, frame: pl.DataFrame) -> None:
    """A CSV for people to open in a spreadsheet: formula-like cells and headers neutralised, atomically."""
    text = _cell_text(frame)
    rows = ([None if v is None else neutralise(v) for v in row] for row in text.iter_rows())
    atomic_write_bytes(path, render_csv([neutralise(h) for h in text.columns], rows))
