"""Several edited worksheets of one job against the simulator: the xlsx and the CSV, or owners' workbooks,
given in one `resubmit` or in calls one after another. Every person's edits land, each row once; a row two
people changed differently is named with both files and is not sent."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from cli_rounds import FIXES, Resubmit, common, edit, edit_csv, first_round, fixable

from claret_errors.cli import main
from claret_errors.errors import ExitCode
from claret_errors.simulator import Simulator, make_nightly_csv


@pytest.fixture
def folder(sim: Simulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    return first_round(sim, tmp_path, capsys)


def landed(doc: dict[str, object]) -> int:
    """Rows imported by the new jobs of one `resubmit --json`."""
    jobs = doc["jobs"]
    assert isinstance(jobs, list)
    return sum(int(j["counts"]["imported"]) for j in jobs)


def sent_files_kept(folder: Path) -> None:
    """Every file the ledger says was sent is still in edited/, byte for byte as it was sent."""
    entries = json.loads((folder.parent / "resubmissions.json").read_text())["sent"]
    for entry in entries:
        path = folder / "edited" / entry["file"]
        assert hashlib.sha256(path.read_bytes()).hexdigest() == entry["sha256"], entry["file"]


def test_the_xlsx_and_the_csv_given_together_both_land(folder: Path, resubmit: Resubmit) -> None:
    """One person fixed a row in the workbook, another a row in the CSV: one call sends both rows."""
    rows = fixable(folder)
    first, second = list(rows)[:2]
    edit(folder / "needs_attention.xlsx", {(first, rows[first]): FIXES[rows[first]]})
    edit_csv(folder / "needs_attention.csv", {(second, rows[second]): FIXES[rows[second]]})

    code, out, _ = resubmit(str(folder / "needs_attention.xlsx"), str(folder / "needs_attention.csv"))
    assert code == ExitCode.OK, out
    code, out, _ = resubmit(
        str(folder / "needs_attention.xlsx"), str(folder / "needs_attention.csv"), "--confirm", "--json"
    )
    doc = json.loads(out)
    assert code == ExitCode.OK == doc["exit_code"]
    assert [w["ready"] for w in doc["worksheets"]] == [[first], [second]]
    assert landed(doc) == 2
    assert len({f["file"] for f in doc["files"]}) == 2
    sent_files_kept(folder)


def test_two_calls_in_a_row_keep_what_the_first_sent(folder: Path, resubmit: Resubmit) -> None:
    """The CSV sent first, the workbook after: the first call's file is kept, each row goes once."""
    rows = fixable(folder)
    first, second = list(rows)[:2]
    edit(folder / "needs_attention.xlsx", {(first, rows[first]): FIXES[rows[first]]})
    edit_csv(folder / "needs_attention.csv", {(second, rows[second]): FIXES[rows[second]]})
    csv_copy = folder.parent.parent / "needs_attention.csv"  # kept where the next analysis leaves it be
    csv_copy.write_bytes((folder / "needs_attention.csv").read_bytes())

    code, out, _ = resubmit(str(folder / "needs_attention.csv"), "--confirm", "--json")
    assert code == ExitCode.OK and landed(json.loads(out)) == 1
    code, out, _ = resubmit(str(folder / "needs_attention.xlsx"), "--confirm", "--json")
    assert code == ExitCode.OK and landed(json.loads(out)) == 1
    sent_files_kept(folder)
    assert len(json.loads((folder.parent / "resubmissions.json").read_text())["sent"]) == 2

    # The CSV as the person saved it, once more: its row went already, so nothing goes.
    (folder / "needs_attention.csv").write_bytes(csv_copy.read_bytes())
    code, out, _ = resubmit(str(folder / "needs_attention.csv"), "--confirm")
    assert code == ExitCode.OK and "nothing to send" in out
    assert f"input row {second} was sent before as job" in out
    sent_files_kept(folder)


def test_a_row_edited_alike_in_two_worksheets_is_sent_once(folder: Path, resubmit: Resubmit) -> None:
    """The same fix typed in the workbook and in the CSV is one row, sent once."""
    rows = fixable(folder)
    first, second, third = list(rows)[:3]
    same = {(first, rows[first]): FIXES[rows[first]]}
    edit(folder / "needs_attention.xlsx", {**same, (second, rows[second]): FIXES[rows[second]]})
    edit_csv(folder / "needs_attention.csv", {**same, (third, rows[third]): FIXES[rows[third]]})

    code, out, _ = resubmit(str(folder / "needs_attention.xlsx"), str(folder / "needs_attention.csv"))
    assert f"input row {first} is changed alike in {folder / 'needs_attention.xlsx'}: sent once" in out
    code, out, _ = resubmit(
        str(folder / "needs_attention.xlsx"), str(folder / "needs_attention.csv"), "--confirm", "--json"
    )
    doc = json.loads(out)
    assert code == ExitCode.OK
    assert landed(doc) == 3
    assert [w["ready"] for w in doc["worksheets"]] == [sorted([first, second]), [third]]
    assert doc["worksheets"][1]["also_in"] == {str(first): str(folder / "needs_attention.xlsx")}


def test_a_row_edited_differently_in_two_worksheets_names_both_files(
    folder: Path, resubmit: Resubmit
) -> None:
    """Two people disagree on a row: it is not sent, the message names the row and both files; the rest go."""
    rows = fixable(folder)
    quantity = next(n for n, f in rows.items() if f == "quantity")
    other = next(n for n in rows if n != quantity)
    xlsx, csv_file = folder / "needs_attention.xlsx", folder / "needs_attention.csv"
    lines = edit(xlsx, {(quantity, "quantity"): "7"})
    edit_csv(csv_file, {(quantity, "quantity"): "9", (other, rows[other]): FIXES[rows[other]]})

    code, out, _ = resubmit(str(xlsx), str(csv_file))
    assert code == ExitCode.RECORDS_FAILED
    assert (
        f"input row {quantity} is changed differently in {xlsx} (line {lines[quantity]}: quantity '7') "
        f"and in {csv_file} (line"
    ) in out
    code, out, _ = resubmit(str(xlsx), str(csv_file), "--confirm", "--json")
    doc = json.loads(out)
    assert code == ExitCode.RECORDS_FAILED == doc["exit_code"]
    assert [w["ready"] for w in doc["worksheets"]] == [[], [other]]
    assert landed(doc) == 1
    for checked in doc["worksheets"]:
        assert [p["input_row"] for p in checked["still_invalid"]] == [quantity]

    # They agree on 9 in the workbook too, later: the row goes once, from the workbook.
    edit(xlsx, {(quantity, "quantity"): "9"})
    code, out, _ = resubmit(str(xlsx), "--confirm", "--json")
    doc = json.loads(out)
    assert code == ExitCode.OK and landed(doc) == 1
    sent_files_kept(folder)


def test_a_row_sent_from_one_worksheet_and_changed_otherwise_in_another_names_both(
    folder: Path, resubmit: Resubmit
) -> None:
    """A later call with another value for a row already sent says so with both files, and sends nothing."""
    rows = fixable(folder)
    quantity = next(n for n, f in rows.items() if f == "quantity")
    xlsx, csv_file = folder / "needs_attention.xlsx", folder / "needs_attention.csv"
    edit(xlsx, {(quantity, "quantity"): "7"})
    code, out, _ = resubmit(str(xlsx), "--confirm", "--json")
    assert code == ExitCode.OK and landed(json.loads(out)) == 1

    edit_csv(csv_file, {(quantity, "quantity"): "9"})
    code, out, _ = resubmit(str(csv_file), "--confirm")
    assert code == ExitCode.RECORDS_FAILED
    assert f"input row {quantity} is changed differently in {xlsx} (quantity '7') and in {csv_file}" in out
    assert ": quantity '9'); it was sent from" in out
    assert "it was sent from needs_attention.xlsx as job" in out
    assert len(json.loads((folder.parent / "resubmissions.json").read_text())["sent"]) == 1


def test_owners_workbooks_and_the_jobs_workbook_together_send_each_row_once(
    sim: Simulator, tmp_path: Path, resubmit: Resubmit, capsys: pytest.CaptureFixture[str]
) -> None:
    """Owners fix rows in their workbooks, the lead one of them again in the job's: each lands once."""
    owners = tmp_path / "owners.toml"
    owners.write_text('default = "planning"\n[[route]]\nowner = "cellar"\ncategory = "invalid_date"\n')
    job = str(sim.submit_csv(make_nightly_csv(300, seed=8, error_share=0.3)))
    where = [*common(sim, tmp_path), "--owners", str(owners)]
    assert main(["run", job, "--tenant", "demo", *where]) == ExitCode.RECORDS_FAILED
    capsys.readouterr()
    folder = tmp_path / "out" / "demo" / job
    rows = fixable(folder)
    dated = next(n for n, f in rows.items() if f == "date_filled")
    counted = next(n for n, f in rows.items() if f == "quantity")
    edit(folder / "owners" / "cellar.xlsx", {(dated, "date_filled"): FIXES["date_filled"]})
    edit(folder / "owners" / "planning.xlsx", {(counted, "quantity"): FIXES["quantity"]})
    edit(folder / "needs_attention.xlsx", {(dated, "date_filled"): FIXES["date_filled"]})
    sheets = [str(folder / "owners" / "cellar.xlsx"), str(folder / "owners" / "planning.xlsx")]
    code, out, _ = resubmit(
        *sheets, str(folder / "needs_attention.xlsx"), "--owners", str(owners), "--confirm", "--json"
    )
    doc = json.loads(out)
    assert code == ExitCode.OK, doc
    assert [w["ready"] for w in doc["worksheets"]] == [[dated], [counted], []]
    assert landed(doc) == 2
    sent_files_kept(folder)


def test_edited_files_named_directly_never_send_a_row_twice(folder: Path, resubmit: Resubmit) -> None:
    """Two previews wrote a row alike into two files; sent together by name, the second file is held."""
    rows = fixable(folder)
    first, second = list(rows)[:2]
    same = {(first, rows[first]): FIXES[rows[first]]}
    edit(folder / "needs_attention.xlsx", same)
    edit_csv(folder / "needs_attention.csv", {**same, (second, rows[second]): FIXES[rows[second]]})
    _, out, _ = resubmit(str(folder / "needs_attention.xlsx"), "--json")
    [from_xlsx] = json.loads(out)["worksheets"][0]["files"]
    _, out, _ = resubmit(str(folder / "needs_attention.csv"), "--json")
    [from_csv] = json.loads(out)["worksheets"][0]["files"]

    code, out, err = resubmit(from_xlsx, from_csv, "--confirm")
    assert code == ExitCode.RECORDS_FAILED, err
    assert f"{from_csv} (2 records, from job {folder.name}): not sent: input row {first} was sent" in out
    assert len(json.loads((folder.parent / "resubmissions.json").read_text())["sent"]) == 1

    # The worksheet given again (set aside as the job was analysed again) sends what is left, once.
    code, out, _ = resubmit(str(folder / "needs_attention_edited.csv"), "--confirm", "--json")
    doc = json.loads(out)
    assert code == ExitCode.OK and landed(doc) == 1
    assert doc["worksheets"][0]["ready"] == [second]
