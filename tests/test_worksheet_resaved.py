"""A needs_attention.csv opened and saved again by a spreadsheet: dates re-spelt in the program's locale,
numbers re-spelt, characters its encoding lacks saved as `?`. Untouched rows stay untouched, a fixed row goes
with the dates as written, and a changed date is read in the order the file itself proves."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import date
from pathlib import Path

import pytest
from cli_rounds import common, first_round, fixable

from claret_errors.cli import main
from claret_errors.errors import ExitCode
from claret_errors.resubmit.respelt import DAY_FIRST, MONTH_FIRST, as_written, date_order
from claret_errors.simulator import Simulator


def us_spelling(value: str) -> str:
    """2024-05-09 -> 5/9/2024, as a US spreadsheet saves a date cell in a CSV; not-a-date stays text."""
    try:
        day = date.fromisoformat(value) if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value) else None
    except ValueError:
        day = None
    return f"{day.month}/{day.day}/{day.year}" if day else value


def test_a_csv_resaved_with_local_dates_sends_only_the_rows_a_person_changed(
    sim: Simulator,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Every date re-spelt by the program: one fixed quantity and one retyped date go, dates as Y-m-d."""
    folder = first_round(sim, tmp_path, capsys)
    rows = fixable(folder)
    quantity = next(n for n, f in rows.items() if f == "quantity")
    date_row = next(n for n, f in rows.items() if f == "date_filled")
    path = folder / "needs_attention.csv"
    lines = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"), newline="")))
    header = lines[0]
    day, amount = header.index("date_filled"), header.index("quantity")
    written_date = {line[0]: line[day] for line in lines[1:]}
    for line in lines[1:]:
        line[day] = us_spelling(line[day])
        if line[0] == str(quantity):
            line[amount] = "12"
        if line[0] == str(date_row):
            line[day] = "9/30/2024"
    assert any(int(d.split("/")[1]) > 12 for d in (line[day] for line in lines[1:]) if "/" in d)
    buffer = io.StringIO()
    csv.writer(buffer).writerows(lines)
    path.write_text(buffer.getvalue(), encoding="utf-8")

    code = main(["resubmit", str(path), "--json", *common(sim, tmp_path)])
    [checked] = json.loads(capsys.readouterr().out)["worksheets"]
    assert code == ExitCode.OK
    assert checked["ready"] == sorted([quantity, date_row])
    assert checked["unchanged"] == checked["rows"] - 2 and checked["still_invalid"] == []
    assert any("'9/30/2024' read as '2024-09-30' (month first" in c for c in checked["conversions"])
    [file] = checked["files"]
    sent = list(csv.DictReader(io.StringIO(Path(file).read_text(encoding="utf-8"), newline="")))
    dates = sorted(r["date_filled"] for r in sent)
    assert dates == sorted([written_date[str(quantity)], "2024-09-30"])


def test_the_file_proves_its_date_order_or_none_is_assumed() -> None:
    """A re-spelt 13th day proves the order; both orders proven, or none, leaves the dates alone."""
    assert date_order([("2024-05-13", "5/13/2024"), ("2024-05-09", "5/9/2024")]) == MONTH_FIRST
    assert date_order([("2024-05-13", "13.05.2024")]) == DAY_FIRST
    assert date_order([("2024-05-13", "5/13/2024"), ("2024-05-14", "14/5/2024")]) is None
    assert date_order([("2024-05-09", "5/9/2024")]) is None
    # Without a proven order, 5/9/2024 might be the 5th of September: not taken for the written date.
    assert as_written("2024-05-09", "5/9/2024", is_date=True, order=None) == ("5/9/2024", None)
    assert as_written("2024-05-05", "5/5/24", is_date=True, order=None) == ("2024-05-05", None)
    assert as_written("2024-05-09", "5/9/2024", is_date=True, order=MONTH_FIRST) == ("2024-05-09", None)
    assert as_written("2024-05-09", "9/5/2024", is_date=True, order=MONTH_FIRST) == (
        "2024-09-05",
        "'9/5/2024' read as '2024-09-05' (month first, as the file's dates)",
    )


def test_numbers_and_characters_a_spreadsheet_re_spelt_are_the_written_values() -> None:
    """12.50 saved as 12.5, 0123 as 123, ő as ? by Windows-1252: what was written; a real edit is not."""
    assert as_written("12.50", "12.5", is_date=False, order=None) == ("12.50", None)
    assert as_written("12.50", "12.6", is_date=False, order=None) == ("12.6", None)
    assert as_written("Kőfal-01", "K?fal-01", is_date=False, order=None) == ("Kőfal-01", None)
    assert as_written("Café-01", "Caf?-01", is_date=False, order=None) == ("Caf?-01", None)
    assert as_written("0123", "123", is_date=False, order=None) == ("0123", None)
