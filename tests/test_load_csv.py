"""The awkward-CSV corpus of fixtures/csv: each file read exactly, or refused with the file and line named."""

from __future__ import annotations

import shutil
from pathlib import Path

import polars as pl
import pytest

from claret_errors.config import Settings
from claret_errors.errors import ArtifactError
from claret_errors.load.csvread import read_text_csv
from claret_errors.load.job import load_job

CSV = Path(__file__).resolve().parent.parent / "fixtures" / "csv"
FIELDS = ("item_name", "bin_name", "lot_name", "date_filled", "quantity", "uom")


def _as_input(tmp_path: Path, name: str) -> Path:
    """A plain folder whose only file is the fixture, named as an input."""
    folder = tmp_path / "job"
    folder.mkdir()
    shutil.copy(CSV / name, folder / "input.csv")
    return folder


def _rows(name: str) -> list[tuple[object, ...]]:
    return read_text_csv(CSV / name, name).frame.rows()


def test_every_fixture_is_described_in_the_readme() -> None:
    """A fixture nobody documented is a fixture nobody will understand when it breaks."""
    readme = (CSV / "README.md").read_text(encoding="utf-8")
    assert [p.name for p in sorted(CSV.glob("*.csv")) if f"`{p.name}`" not in readme] == []


def test_bom_and_crlf_are_read_as_they_are() -> None:
    """Excel's UTF-8 export has a BOM and CRLF; neither may leak into headers or values."""
    table = read_text_csv(CSV / "utf8_bom_crlf.csv", "f.csv")
    assert table.headers == FIELDS
    assert table.findings == []
    assert table.frame.rows()[1][2] == "LOT\r\nTWO"
    assert table.frame.get_column("_source_line").to_list() == [2, 3]


def test_windows_1252_is_decoded_with_a_finding() -> None:
    """A file saved by Excel on Windows must read correctly and say it was not UTF-8."""
    table = read_text_csv(CSV / "windows1252.csv", "w.csv")
    assert table.encoding == "windows-1252"
    assert table.frame.rows()[0][:3] == ("Château Rosé", "SS-01", "LOT\u20131")
    assert [f.check for f in table.findings] == ["encoding"]
    assert "line 2" in table.findings[0].message


def test_byte_undefined_in_windows_1252_falls_back_to_latin_1() -> None:
    """Every byte sequence decodes somehow; the finding says which decoding was used."""
    table = read_text_csv(CSV / "latin1.csv", "l.csv")
    assert table.encoding == "latin-1"
    assert table.frame.rows()[0][0] == "café\x81"
    assert "Latin-1" in table.findings[0].message


def test_utf16_with_bom_is_decoded_with_a_finding() -> None:
    """Spreadsheet 'Unicode text' exports are UTF-16; still readable, but not what Claret expects."""
    table = read_text_csv(CSV / "utf16_bom.csv", "u.csv")
    assert table.headers == FIELDS
    assert table.frame.rows()[0][0] == "122-16"
    assert table.encoding == "utf-16"
    assert [f.check for f in table.findings] == ["encoding"]


def test_quoted_newlines_and_quotes_keep_values_and_physical_lines() -> None:
    """A multi-line lot name shifts every later record's line; reports cite lines, so they must be right."""
    rows = _rows("quoted_fields.csv")
    assert rows[0][2] == "multi\nline\nlot"
    assert rows[1][:3] == ('say "hi"', "SS-02", "a,b")
    assert [r[-1] for r in rows] == [2, 5, 6]


def test_ragged_rows_become_findings_not_crashes() -> None:
    """A short or long row is the data's problem, reported with its line; the rest still loads."""
    table = read_text_csv(CSV / "ragged_rows.csv", "r.csv")
    assert table.frame.height == 4
    assert table.frame.rows()[1] == ("124", "SS-02", "L2", "2023-08-02", None, None, 3)
    assert table.frame.rows()[2][:6] == ("125", "SS-03", "L3", "2023-08-03", "7", "Each")
    checks = {f.check: f for f in table.findings}
    assert checks["short_row"].message.startswith("line 3:")
    assert checks["long_row"].value == "EXTRA,MORE"


def test_blank_lines_are_skipped_and_still_counted() -> None:
    """Blank lines are not records, but the lines after them keep their true numbers."""
    table = read_text_csv(CSV / "blank_lines.csv", "b.csv")
    assert table.frame.get_column("_source_line").to_list() == [2, 4]
    assert [f.check for f in table.findings] == ["blank_line", "blank_line"]


def test_header_only_file_has_columns_and_no_rows() -> None:
    """A header-only staging file is a normal empty result, not an error."""
    table = read_text_csv(CSV / "header_only.csv", "h.csv")
    assert table.headers == FIELDS
    assert table.frame.height == 0
    assert table.findings == []


def test_empty_file_is_a_finding() -> None:
    """An empty errors file (no failures) must not stop the run."""
    table = read_text_csv(CSV / "empty.csv", "e.csv")
    assert table.headers == ()
    assert [f.check for f in table.findings] == ["empty_file"]


def test_semicolon_file_is_read_with_its_separator() -> None:
    """A regional spreadsheet export splits on ';': the decimal comma must stay inside its field."""
    table = read_text_csv(CSV / "semicolon.csv", "s.csv")
    assert table.frame.rows()[0][4] == "10,5"
    assert [f.check for f in table.findings] == ["separator"]


def test_binary_file_exits_eight_naming_file_and_line(tmp_path: Path) -> None:
    """A ZIP named .csv is unusable: exit 8 with a message that tells the user which file."""
    with pytest.raises(ArtifactError) as caught:
        load_job(_as_input(tmp_path, "binary.csv"), Settings())
    assert str(caught.value) == "input.csv, line 1: looks binary (NUL bytes), not a CSV file"


def test_unterminated_quote_exits_eight_naming_the_line(tmp_path: Path) -> None:
    """A quote never closed swallows the rest of the file: refuse it, naming where it opened."""
    with pytest.raises(ArtifactError) as caught:
        load_job(_as_input(tmp_path, "unterminated_quote.csv"), Settings())
    assert str(caught.value).startswith("input.csv, line 3: cannot be parsed as CSV")


def test_duplicate_and_blank_headers_get_distinct_names(tmp_path: Path) -> None:
    """Two `Item` columns and a nameless one must all survive, under names that do not clash."""
    job = load_job(_as_input(tmp_path, "duplicate_blank_headers.csv"), Settings())
    assert job.profile == "generic"  # two inventory fields of six: not an inventory file
    assert job.input_columns == ("item", "item_2", "column_3", "qty")
    assert job.input.row(0)[:5] == (1, "122-16", "124", "x", "10")


def test_messy_headers_map_to_canonical_fields(tmp_path: Path) -> None:
    """Case, spaces, stray quotes, a BOM and aliases must not make a column unrecognisable."""
    job = load_job(_as_input(tmp_path, "messy_headers.csv"), Settings())
    assert job.input_columns == ("item_name", "bin_name", "lot_name", "date_filled", "quantity", "uom")
    assert job.profile == "inventory"


def test_config_aliases_extend_the_builtin_ones(tmp_path: Path) -> None:
    """A tenant's own header (`Tank No`) is mapped when the config says so."""
    folder = tmp_path / "job"
    folder.mkdir()
    (folder / "input.csv").write_text(
        "Item,Tank No,Lot,Date,Qty,Unit\n1,2,3,2023-01-01,4,Each\n", encoding="utf-8"
    )
    assert "tank_no" in load_job(folder, Settings()).input_columns
    job = load_job(folder, Settings(aliases={"bin_name": ("Tank No",)}))
    assert job.input_columns == FIELDS


def test_generic_profile_keeps_normalised_headers(tmp_path: Path) -> None:
    """A sales import is analysed too: its `date` must not be renamed to the inventory's `date_filled`."""
    job = load_job(_as_input(tmp_path, "generic_sales.csv"), Settings())
    assert job.profile == "generic"
    assert job.input_columns == ("item", "location", "date", "quantity", "supply_type")


def test_findings_name_files_relative_to_the_job(tmp_path: Path) -> None:
    """Findings end up in shared reports: they name the artifact, never the local absolute path."""
    job = load_job(_as_input(tmp_path, "windows1252.csv"), Settings())
    assert [f.file for f in job.findings if f.check == "encoding"] == ["input.csv"]
    assert job.detection.encodings == {"input.csv": "windows-1252"}


def test_ragged_input_rows_carry_their_input_row(tmp_path: Path) -> None:
    """A short input row is a record the owner must fix: the finding must point at its input_row."""
    job = load_job(_as_input(tmp_path, "ragged_rows.csv"), Settings())
    rows = {f.check: f.row for f in job.findings if f.check in ("short_row", "long_row")}
    assert rows == {"short_row": 2, "long_row": 3}
    assert job.input.filter(pl.col("input_row") == 2).get_column("quantity").to_list() == [None]
