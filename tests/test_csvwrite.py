"""CSV writing: files for Claret byte-exact in its input format, files for people safe in a spreadsheet."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from claret_errors.files.csvwrite import (
    is_formula_like,
    neutralise,
    render_csv,
    write_claret_csv,
    write_people_csv,
)


def test_claret_csv_keeps_the_inputs_headers_and_quotes_per_rfc4180(tmp_path: Path) -> None:
    """Claret reads the header names as sent and RFC 4180: whitespace, commas and quotes are quoted."""
    rows = pl.DataFrame(
        {
            "item_name": ["122-16", 'say "hi", ok'],
            "uom": ["9LE Case", None],
            "note": ["line\nbreak", "plain"],
        }
    )
    path = tmp_path / "out" / "x.csv"
    write_claret_csv(path, ["Item Name", "UOM", "Note"], rows)
    data = path.read_bytes()
    assert data == (b'"Item Name",UOM,Note\r\n122-16,"9LE Case","line\nbreak"\r\n"say ""hi"", ok",,plain\r\n')
    parsed = list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))
    assert parsed[2] == ['say "hi", ok', "", "plain"]


def test_claret_csv_is_utf8_without_bom_and_values_untouched(tmp_path: Path) -> None:
    """Claret gets the exact text: no BOM, accents as UTF-8, formula-looking values not altered."""
    path = tmp_path / "x.csv"
    write_claret_csv(path, ["lot_name"], pl.DataFrame({"lot_name": ["Rosé-01", "-5"]}))
    assert path.read_bytes() == "lot_name\r\nRosé-01\r\n-5\r\n".encode()


def test_claret_csv_refuses_headers_that_do_not_fit_the_columns(tmp_path: Path) -> None:
    """A header list of the wrong length would shift every value into the wrong column."""
    with pytest.raises(ValueError, match="2 headers for 1 columns"):
        write_claret_csv(tmp_path / "x.csv", ["a", "b"], pl.DataFrame({"a": ["1"]}))
    assert not (tmp_path / "x.csv").exists()


def test_write_replaces_the_file_in_one_step(tmp_path: Path) -> None:
    """A rerun replaces the old file whole and leaves no temporary file behind."""
    path = tmp_path / "x.csv"
    write_claret_csv(path, ["a"], pl.DataFrame({"a": ["old"] * 3}))
    write_claret_csv(path, ["a"], pl.DataFrame({"a": ["new"]}))
    assert path.read_bytes() == b"a\r\nnew\r\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.csv"]


@pytest.mark.parametrize(
    ("value", "numeric", "expected"),
    [
        ("=1+1", False, True),
        ("+SUM(A1)", False, True),
        ("-5", False, True),
        ("-5", True, False),
        ("+12.5", True, False),
        ("-1+cmd|' /C calc'!A0", True, True),
        ("@SUM(1)", True, True),
        ("\tx", False, True),
        ("\rx", False, True),
        ("SS-01", False, False),
        ("", False, False),
        (None, False, False),
    ],
)
def test_formula_like_cells_are_recognised(value: str | None, numeric: bool, expected: bool) -> None:
    """= + - @ tab CR start a formula; in a numeric column a signed plain number is just a number."""
    assert is_formula_like(value, numeric=numeric) is expected


def test_people_csv_neutralises_formulas_but_not_negative_numbers(tmp_path: Path) -> None:
    """Spreadsheets must not run a cell from a CSV we hand to people; -5 stays a readable number."""
    frame = pl.DataFrame(
        {
            "input_row": [1, 2],
            "=cmd": ['=HYPERLINK("http://x")', "ok"],
            "quantity": ["-5", "@x"],
            "messages": [["a", "=b"], []],
        }
    )
    path = tmp_path / "people.csv"
    write_people_csv(path, frame)
    parsed = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"), newline="")))
    assert parsed == [
        ["input_row", "'=cmd", "quantity", "messages"],
        ["1", '\'=HYPERLINK("http://x")', "-5", "a | =b"],
        ["2", "ok", "'@x", ""],
    ]


def test_neutralise_prefixes_a_single_quote() -> None:
    """The quote is the convention spreadsheets honour to show a cell as text."""
    assert neutralise("=1") == "'=1"
    assert neutralise("SS-01") == "SS-01"


@given(
    st.lists(
        st.lists(
            st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00")),
            min_size=2,
            max_size=2,
        ),
        max_size=5,
    )
)
def test_any_text_round_trips_through_a_standard_csv_reader(rows: list[list[str]]) -> None:
    """Whatever a cell holds (quotes, commas, line breaks, formulas, any script), it reads back as sent."""
    data = render_csv(["a", "b"], rows)
    parsed = list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))
    assert parsed == [["a", "b"], *rows]


_CELLS = st.one_of(
    st.none(),
    st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=8),
    st.sampled_from(["-5", "+1.5", "=1+1", "@x", "\tx", "a b", 'q"q', "1,5", "\x1e", "\u2028", "-5\n"]),
)


@given(st.lists(st.tuples(_CELLS, _CELLS), max_size=6))
def test_frame_writers_give_the_bytes_of_the_cell_by_cell_definition(
    tmp_path_factory: pytest.TempPathFactory, rows: list[tuple[str | None, str | None]]
) -> None:
    """The polars-built files are byte for byte what render_csv (and neutralise, for people) define."""
    folder = tmp_path_factory.mktemp("w")
    frame = pl.DataFrame(rows, schema={"a b": pl.String, "=c": pl.String}, orient="row")
    write_claret_csv(folder / "claret.csv", ["a b", "=c"], frame)
    assert (folder / "claret.csv").read_bytes() == render_csv(["a b", "=c"], rows)
    write_people_csv(folder / "people.csv", frame)
    safe = [[None if v is None else neutralise(v) for v in row] for row in rows]
    assert (folder / "people.csv").read_bytes() == render_csv(["a b", "'=c"], safe)
