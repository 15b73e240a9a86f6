"""The worksheets a person fixes rows in: every row that needs a person, the cells to change highlighted,
drop-downs of known names, values kept as text, and the job they belong to written inside."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pytest
from cli_rounds import common, csv_rows

from claret_errors.cli import main
from claret_errors.errors import ExitCode
from claret_errors.fix.worksheet import INFO_SHEET, LISTS_SHEET, SHEET
from claret_errors.simulator import Simulator, make_nightly_csv

OWNERS_EXAMPLE = Path(__file__).parent.parent / "fixtures" / "owners.example.toml"
FORMULA = '=HYPERLINK("http://x.invalid","click")'


@pytest.fixture
def folder(sim: Simulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    """A nightly import with failures of every kind, one of them an item name a spreadsheet would run."""
    data = make_nightly_csv(120, seed=8, error_share=0.3)
    data += f'"{FORMULA.replace(chr(34), chr(34) * 2)}",SS-01,RM19CASRUT.ZAM,2024-01-02,5,Gallon\r\n'.encode()
    job = str(sim.submit_csv(data))
    assert main(["run", job, "--tenant", "demo", *common(sim, tmp_path)]) == ExitCode.RECORDS_FAILED
    capsys.readouterr()
    return tmp_path / "out" / "demo" / job


def test_worksheet_holds_every_row_to_fix_with_the_cells_to_change_highlighted(folder: Path) -> None:
    """A person sees the same rows as needs_attention.csv, and which cell of each Claret refused."""
    book = openpyxl.load_workbook(folder / "needs_attention.xlsx")
    sheet = book[SHEET]
    header = [c.value for c in sheet[1]]
    assert header[:7] == ["input_row", "item_name", "bin_name", "lot_name", "date_filled", "quantity", "uom"]
    assert {"messages", "advice"} <= set(header)
    assert sheet.freeze_panes == "B2"
    lines = {int(r[0].value): r for r in sheet.iter_rows(min_row=2)}
    attention = csv_rows(folder / "needs_attention.csv")
    assert set(lines) == {int(r["input_row"]) for r in attention}
    wanted = {
        (int(m["input_row"]), m["field"])
        for m in csv_rows(folder / "messages.csv")
        if int(m["input_row"]) in lines and m["field"] in header[1:7]
    }
    marked = {
        (number, header[i])
        for number, cells in lines.items()
        for i, cell in enumerate(cells)
        if cell.fill.fill_type == "solid"
    }
    assert wanted and marked == wanted
    advice = header.index("advice")
    assert all(lines[int(r["input_row"])][advice].value == (r["advice"] or None) for r in attention)


def test_formula_like_values_stay_text_and_reference_columns_offer_known_names(folder: Path) -> None:
    """A value a spreadsheet would run is a text cell; the item column's drop-down lists master items."""
    book = openpyxl.load_workbook(folder / "needs_attention.xlsx")
    sheet = book[SHEET]
    [cell] = [c for c in sheet["B"] if c.value == FORMULA]
    assert cell.data_type == "s"
    rules = {str(v.sqref).split(":")[0]: v for v in sheet.data_validations.dataValidation}
    assert rules["B2"].type == "list" and rules["B2"].errorStyle == "warning"
    source = rules["B2"].formula1.split("!")[1].replace("$", "")
    items = [c.value for row in book[LISTS_SHEET][source] for c in row]
    assert "122-16" in items and items == sorted(items)
    assert book[LISTS_SHEET].sheet_state == book[INFO_SHEET].sheet_state == "hidden"


def test_each_worksheet_says_which_job_it_is_of_and_each_owner_gets_their_rows(folder: Path) -> None:
    """The job id travels inside the file (so another job's worksheet is recognised); owners get theirs.
    Without an owners file every row is unassigned: the one owner's workbook is the job's, byte for byte."""
    info = dict(openpyxl.load_workbook(folder / "needs_attention.xlsx")[INFO_SHEET].values)
    assert (info["tenant"], info["job_log_id"], info["owner"]) == ("demo", folder.name, "unassigned")
    original = json.loads((folder / "worksheet.json").read_text())
    assert original["job_log_id"] == folder.name and original["rows"]
    owners = {r["owner"] for r in csv_rows(folder / "needs_attention.csv") if r["owner"]}
    assert owners == {"unassigned"}
    book = openpyxl.load_workbook(folder / "owners" / "unassigned.xlsx")
    assert dict(book[INFO_SHEET].values)["owner"] == "unassigned"
    shown = [r[-1] for r in book[SHEET].iter_rows(min_row=2, values_only=True)]
    assert shown and set(shown) == {"unassigned"}
    owner_book = (folder / "owners" / "unassigned.xlsx").read_bytes()
    assert owner_book == (folder / "needs_attention.xlsx").read_bytes()
    written = json.loads((folder / "worksheet.json").read_text())["written"]
    assert written["owners/unassigned.xlsx"] == written["needs_attention.xlsx"]


def test_with_several_owners_each_workbook_holds_and_names_its_owner_only(
    sim: Simulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The job's workbook holds every owner's rows and names none; each owner's holds and names theirs."""
    job = str(sim.submit_csv(make_nightly_csv(200, seed=8, error_share=0.3)))
    args = ["run", job, "--tenant", "demo", "--owners", str(OWNERS_EXAMPLE), *common(sim, tmp_path)]
    assert main(args) == ExitCode.RECORDS_FAILED
    capsys.readouterr()
    folder = tmp_path / "out" / "demo" / job
    info = dict(openpyxl.load_workbook(folder / "needs_attention.xlsx")[INFO_SHEET].values)
    assert info["owner"] == ""
    owners = {r["owner"] for r in csv_rows(folder / "needs_attention.csv")}
    assert len(owners) > 1
    for path in (folder / "owners").glob("*.xlsx"):
        book = openpyxl.load_workbook(path)
        shown = {r[-1] for r in book[SHEET].iter_rows(min_row=2, values_only=True)}
        assert len(shown) == 1 and shown <= owners
        assert dict(book[INFO_SHEET].values)["owner"] == shown.pop()
        assert path.read_bytes() != (folder / "needs_attention.xlsx").read_bytes()


def test_the_reports_say_how_rows_fixed_in_a_worksheet_go_back(folder: Path) -> None:
    """The road back to Claret for rows fixed by hand is written where the runner and the owners look."""
    sentence = "claret-errors resubmit WORKSHEET --confirm"
    for report in ("report.md", "report.html", "owners/unassigned.md", "owners/unassigned.html"):
        text = (folder / report).read_text(encoding="utf-8")
        assert sentence in text and "needs_attention.xlsx" in text, report
