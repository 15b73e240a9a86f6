"""Property: whatever Python's csv module writes, the loader reads back the same cells and line numbers."""

from __future__ import annotations

import csv
import io
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from claret_errors.config import Settings
from claret_errors.errors import ArtifactError
from claret_errors.load.csvread import _read_exact, _read_fast, read_text_csv
from claret_errors.load.job import load_job
from claret_errors.validate import validate

# Any text but NUL (a binary file) and a lone CR: the loader counts lines by LF, as editors show them,
# while Python's reader also ends lines at a lone CR. CRLF inside fields is covered by the line terminator.
CELL = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00\r"), max_size=12)
# Header names without ';', tab or '|': a header line with one of those and no comma is read as a
# regional export separated by it (fixtures/csv/semicolon.csv); cells may hold anything.
NAME = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00\r;\t|"), max_size=12)


@st.composite
def tables(draw: st.DrawFn) -> tuple[list[str], list[list[str]]]:
    """A header of 1-5 columns and up to 8 rows of the same width."""
    width = draw(st.integers(1, 5))
    header = draw(st.lists(NAME.filter(lambda c: c.strip() != ""), min_size=width, max_size=width))
    rows = draw(st.lists(st.lists(CELL, min_size=width, max_size=width), max_size=8))
    return header, rows


def _write(header: list[str], rows: list[list[str]], terminator: str, bom: bool) -> tuple[bytes, list[int]]:
    """The file's bytes and the physical line each data row starts on."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator=terminator, quoting=csv.QUOTE_MINIMAL)
    writer.writerow(header)
    starts = []
    for row in rows:
        starts.append(out.getvalue().count("\n") + 1)
        writer.writerow(row)
    return (("\ufeff" if bom else "") + out.getvalue()).encode("utf-8"), starts


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tables(), st.sampled_from(["\n", "\r\n"]), st.booleans())
def test_what_csv_writes_loads_back_the_same(
    table: tuple[list[str], list[list[str]]], terminator: str, bom: bool
) -> None:
    """Values are never trimmed, unquoted or re-encoded on the way in, and every row keeps its line."""
    header, rows = table
    data, starts = _write(header, rows, terminator, bom)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "input.csv"
        path.write_bytes(data)
        loaded = read_text_csv(path, "input.csv")
    assert loaded.headers == tuple(header)
    assert [tuple(r[:-1]) for r in loaded.frame.rows()] == [tuple(r) for r in rows]
    assert loaded.frame.get_column("_source_line").to_list() == starts


JUNK = st.lists(
    st.sampled_from(
        [
            b",",
            b'"',
            b"\n",
            b"\r\n",
            b"\r",
            b"a",
            b"1",
            b"\xe9",
            b"\xff",
            b";",
            b" ",
            b"\x00",
            b"\xef\xbb\xbf",
        ]
    ),
    max_size=40,
).map(b"".join)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(JUNK, JUNK)
def test_any_bytes_load_or_exit_eight(input_bytes: bytes, errors_bytes: bytes) -> None:
    """Bad input never ends in a traceback: every file either loads or raises ArtifactError (exit 8)."""
    header = b"item_name,bin_name,lot_name,date_filled,quantity,uom\n"
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "input.csv").write_bytes(header + input_bytes)
        (folder / "errors.csv").write_bytes(errors_bytes)
        try:
            job = load_job(folder, Settings())
        except ArtifactError as exc:
            assert exc.exit_code == 8
            assert str(exc).startswith(("input.csv", "errors.csv"))
        else:
            validate(job)
            assert job.input.get_column("input_row").to_list() == list(range(1, job.input.height + 1))


PLAIN = st.text(st.sampled_from('ab1 -.é,"\n'), max_size=4)


@st.composite
def ragged_files(draw: st.DrawFn) -> bytes:
    """Short rows, empty last cells, blank lines and quoted fields: what hand-edited files look like."""
    width = draw(st.integers(1, 4))
    rows = draw(st.lists(st.lists(PLAIN, min_size=0, max_size=width), max_size=10))
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator=draw(st.sampled_from(["\n", "\r\n"])))
    writer.writerow([f"h{i}" for i in range(width)])
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ragged_files())
def test_polars_path_reads_ragged_files_as_the_csv_module_does(data: bytes) -> None:
    """The fast path settles short rows and blank lines itself; it must agree with the exact reader."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "input.csv"
        path.write_bytes(data)
        fast = _read_fast(path, "input.csv", ",")
        exact = _read_exact(path, "input.csv", ",", retry_fast=False)
    assert fast is not None
    assert fast.headers == exact.headers
    assert fast.frame.rows() == exact.frame.rows()
    assert fast.findings == exact.findings
