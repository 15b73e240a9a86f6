"""`claret-errors resubmit WORKSHEET` against the simulator: a person edits the worksheet in another program
(openpyxl here), fixes some rows, breaks one, leaves the rest; only the fixed rows are sent and land, the
broken one is named by its cell, and nothing is sent twice."""

from __future__ import annotations

import csv
import io
import json
import shutil
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest
from cli_rounds import FIXES, Resubmit, edit, first_round, fixable

from claret_errors.cli import main
from claret_errors.errors import ExitCode
from claret_errors.fix.worksheet import SHEET
from claret_errors.simulator import Simulator


@pytest.fixture
def folder(sim: Simulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    return first_round(sim, tmp_path, capsys)


def test_fixed_rows_land_and_the_broken_one_is_named_by_its_cell(folder: Path, resubmit: Resubmit) -> None:
    """The loop a person closes: three rows fixed land in a new job, a row made worse is reported by cell."""
    rows = fixable(folder)
    assert len(rows) >= 4, rows
    *good, broken = list(rows)[:4]
    changes: dict[tuple[int, str], object] = {(n, rows[n]): FIXES[rows[n]] for n in good}
    changes[(broken, "date_filled")] = "2024-13-45"
    sheet = folder / "needs_attention.xlsx"
    lines = edit(sheet, changes)

    code, out, _ = resubmit(str(sheet))
    assert code == ExitCode.RECORDS_FAILED
    assert f"E{lines[broken]} (date_filled, input row {broken}): '2024-13-45' fails the input check" in out
    assert "3 changed and ready" in out and "nothing was sent" in out
    assert not (folder.parent / "resubmissions.json").exists()

    code, out, _ = resubmit(str(sheet), "--confirm", "--json")
    doc = json.loads(out)
    assert code == ExitCode.RECORDS_FAILED == doc["exit_code"]
    [new] = doc["jobs"]
    assert new["counts"] == {**new["counts"], "input_rows": 3, "imported": 3, "failed": 0, "unaccounted": 0}
    [checked] = doc["worksheets"]
    assert checked["ready"] == sorted(good)
    assert [(p["cell"], p["input_row"]) for p in checked["still_invalid"]] == [(f"E{lines[broken]}", broken)]
    assert checked["unchanged"] == checked["rows"] - 4
    again = json.loads((folder / "summary.json").read_text())
    assert ("resubmitted_as", new["job_log_id"]) in [(k["relation"], k["job_log_id"]) for k in again["links"]]

    # The same worksheet again: the rows went already, so nothing goes unless forced.
    code, out, _ = resubmit(str(sheet), "--confirm")
    assert code == ExitCode.RECORDS_FAILED
    assert f"input row {good[0]} was sent before as job {new['job_log_id']}" in out
    assert "nothing to send" in out
    assert len(json.loads((folder.parent / "resubmissions.json").read_text())["sent"]) == 1


def test_what_a_spreadsheet_makes_of_typed_values_is_read_back_for_sure(
    folder: Path, resubmit: Resubmit
) -> None:
    """A date typed as a date, a day number, a quantity with thousands separators: certain conversions."""
    rows = fixable(folder)
    dates = [n for n, f in rows.items() if f == "date_filled"]
    quantities = [n for n, f in rows.items() if f == "quantity"]
    assert len(dates) >= 2 and quantities, rows
    sheet = folder / "needs_attention.xlsx"
    changes = {
        (dates[0], "date_filled"): datetime(2024, 3, 5),
        (dates[1], "date_filled"): 45123,
        (quantities[0], "quantity"): "1,234.5",
    }
    edit(sheet, changes)
    code, out, _ = resubmit(str(sheet), "--json")
    [checked] = json.loads(out)["worksheets"]
    assert code == ExitCode.OK
    assert checked["ready"] == sorted([dates[0], dates[1], quantities[0]])
    [file] = checked["files"]
    sent = {tuple(r) for r in csv.reader(io.StringIO(Path(file).read_text(encoding="utf-8")))}
    assert any("2024-03-05" in r for r in sent) and any("2023-07-16" in r for r in sent)
    assert any("1234.5" in r for r in sent)


def test_a_worksheet_that_cannot_be_used_gets_a_clear_message(folder: Path, resubmit: Resubmit) -> None:
    """Open elsewhere, columns deleted, another job's: each refused with a message naming the cause."""
    sheet = folder / "needs_attention.xlsx"
    lock = folder / "~$needs_attention.xlsx"
    lock.write_bytes(b"owner")
    code, _, err = resubmit(str(sheet))
    assert code == ExitCode.USAGE and "is open in a spreadsheet program" in err
    lock.unlink()

    book = openpyxl.load_workbook(sheet)
    book[SHEET].delete_cols(3)  # bin_name
    book[SHEET].title = "Rows"
    cut = folder.parent.parent / "cut.xlsx"
    book.save(cut)
    code, _, err = resubmit(str(cut))
    assert code == ExitCode.USAGE and "column(s) bin_name deleted or renamed" in err

    other = folder.parent / "999"
    other.mkdir()
    (other / "summary.json").write_text(json.dumps({"tenant": "demo", "job_log_id": "999"}))
    shutil.copy(sheet, other / "needs_attention.xlsx")
    code, _, err = resubmit(str(other / "needs_attention.xlsx"))
    assert code == ExitCode.USAGE
    assert f"is the worksheet of job {folder.name} (tenant demo), but it is in the folder of job 999" in err


def test_a_csv_resaved_by_a_spreadsheet_in_cp1252_with_semicolons_is_read(
    folder: Path, resubmit: Resubmit
) -> None:
    """needs_attention.csv saved back by a European Excel: Windows-1252, semicolons; the changed row goes."""
    rows = fixable(folder)
    number = next(n for n, f in rows.items() if f == "quantity")
    path = folder / "needs_attention.csv"
    lines = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"), newline="")))
    header = lines[0]
    for line in lines[1:]:
        if line[0] == str(number):
            line[header.index("quantity")] = "12"
        line[header.index("advice")] += " Café."  # a character cp1252 writes as one byte
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=";").writerows(lines)
    path.write_bytes(buffer.getvalue().encode("cp1252"))
    code, out, _ = resubmit(str(path), "--json")
    [checked] = json.loads(out)["worksheets"]
    assert code == ExitCode.OK
    assert checked["ready"] == [number] and checked["unchanged"] == checked["rows"] - 1
    notes = " ".join(checked["notes"])
    assert "Windows-1252" in notes and "semicolon" in notes

    # Analysed again, the job gets a fresh needs_attention.csv; the person's edited one is set aside, whole.
    edited = path.read_bytes()
    assert main(["analyze", str(folder), "--out", str(folder.parent.parent)]) == ExitCode.RECORDS_FAILED
    assert (folder / "needs_attention_edited.csv").read_bytes() == edited
    assert path.read_text(encoding="utf-8").startswith("input_row,")


def test_formulas_and_rows_added_by_hand_are_listed_moved_columns_and_renamed_sheets_read(
    folder: Path, resubmit: Resubmit
) -> None:
    """A formula is never taken for a value, a row without input_row is no row of the job, order is free."""
    rows = fixable(folder)
    first, second = list(rows)[:2]
    sheet = folder / "needs_attention.xlsx"
    lines = edit(sheet, {(first, "quantity"): "=2+3", (second, rows[second]): FIXES[rows[second]]})
    book = openpyxl.load_workbook(sheet)
    table = book[SHEET]
    table.append([None, "122-16", "SS-01", "RM19CASRUT.ZAM", "2024-01-02", "5", "Gallon"])
    added = table.max_row
    table.move_range(f"B1:B{added}", cols=table.max_column)  # item_name moved to the end
    table.title = "Rows to fix"
    book.save(sheet)
    code, out, _ = resubmit(str(sheet), "--json")
    [checked] = json.loads(out)["worksheets"]
    assert code == ExitCode.RECORDS_FAILED
    problems = {(p["cell"], p["input_row"]): p["why"] for p in checked["still_invalid"]}
    assert "holds a formula" in problems[(f"F{lines[first]}", first)]
    assert "a row added by hand" in problems[(f"A{added}", None)]
    assert checked["ready"] == [second]
    assert checked["notes"] == ["the sheet 'needs_attention' was renamed to 'Rows to fix'; read that one"]
