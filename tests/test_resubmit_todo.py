"""After a worksheet round against the simulator, the original job's to-do list (summary.json, the reports,
the owners' e-mail) asks nobody to fix a row its resubmission imported, by the new job's own output; a row
Claret refused again stays on it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_rounds import FIXES, Resubmit, csv_rows, edit, first_round, fixable

from claret_errors.cli import main
from claret_errors.errors import ExitCode
from claret_errors.notify.shares import read_job
from claret_errors.simulator import Simulator


@pytest.fixture
def folder(sim: Simulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    return first_round(sim, tmp_path, capsys)


def todo_rows(folder: Path) -> set[int]:
    """The input rows the job's summary.json asks a person to fix (the runner's lines have no owner)."""
    todo = json.loads((folder / "summary.json").read_text())["todo"]
    return {n for item in todo if item["owner"] for n in item["input_rows"]}


def words(path: Path) -> str:
    """A Markdown report's words, without its bold and with whitespace made single."""
    return " ".join(path.read_text(encoding="utf-8").replace("**", "").split())


def test_rows_landed_on_resubmission_leave_the_originals_todo(folder: Path, resubmit: Resubmit) -> None:
    """Two fixed rows land and leave the to-do, and the reports say by which job; a row Claret refuses
    again (a duplicate) stays on it."""
    rows = fixable(folder)
    quantities = [n for n, f in rows.items() if f == "quantity"]
    first, twin = quantities[:2]
    other = next(n for n, f in rows.items() if f != "quantity")
    sheet = {int(r["input_row"]): r for r in csv_rows(folder / "needs_attention.csv")}
    # The twin takes the first row's item, bin and lot: no local check sees a duplicate, Claret refuses it.
    key = {(twin, c): sheet[first][c] for c in ("item_name", "bin_name", "lot_name")}
    changes = {(first, "quantity"): "7", (twin, "quantity"): "8", (other, rows[other]): FIXES[rows[other]]}
    edit(folder / "needs_attention.xlsx", {**changes, **key})
    before = todo_rows(folder)
    assert {first, twin, other} <= before
    to_fix = read_job(folder).share("unassigned").to_fix_rows

    code, out, _ = resubmit(str(folder / "needs_attention.xlsx"), "--confirm", "--json")
    doc = json.loads(out)
    [new] = doc["jobs"]
    assert new["counts"] == {**new["counts"], "input_rows": 3, "imported": 2, "failed": 1}
    assert code == ExitCode.RECORDS_FAILED

    summary = json.loads((folder / "summary.json").read_text())
    job = new["job_log_id"]
    assert summary["landed_on_resubmission"] == [
        {"input_row": n, "job_log_id": job} for n in sorted([first, other])
    ]
    assert todo_rows(folder) == before - {first, other}
    assert twin in todo_rows(folder)
    said = f"2 of the failed rows have since been imported by job {job}"
    linked = f"{said} (resent from a worksheet; its report: `../{job}/report.md`)"
    assert linked in words(folder / "report.md")
    page = (folder / "report.html").read_text(encoding="utf-8")
    assert f'imported by <a href="../{job}/report.html">job {job}</a>' in page
    assert (folder / f"../{job}/report.html").is_file()
    [original] = doc["originals"]
    people = [i for i in original["todo"] if i["owner"]]
    assert {n for i in people for n in i["input_rows"]} == todo_rows(folder)
    assert read_job(folder).share("unassigned").to_fix_rows == to_fix - 2

    # The twin fixed in its own resubmission's worksheet (its key as it was): it lands in a third job, and
    # leaves the first job's to-do too.
    second = folder.parent / job
    [refused] = [int(r["input_row"]) for r in csv_rows(second / "needs_attention.csv")]
    back = {(refused, c): sheet[twin][c] for c in ("item_name", "bin_name", "lot_name")}
    edit(second / "needs_attention.xlsx", back)
    code, out, _ = resubmit(str(second / "needs_attention.xlsx"), "--confirm", "--json")
    assert code == ExitCode.OK, out
    [third] = json.loads(out)["jobs"]
    landed = json.loads((folder / "summary.json").read_text())["landed_on_resubmission"]
    assert {r["input_row"]: r["job_log_id"] for r in landed} == {
        first: job,
        other: job,
        twin: third["job_log_id"],
    }
    assert todo_rows(folder) == before - {first, other, twin}
    text = words(folder / "report.md")
    assert f"{said} (resent from a worksheet" in text
    assert f"1 of the failed rows has since been imported by job {third['job_log_id']}" in text


def test_a_resubmission_whose_input_is_not_the_file_sent_lands_nothing(
    folder: Path, resubmit: Resubmit
) -> None:
    """Without proof that the new job's input is the file sent, no row leaves the to-do list."""
    rows = fixable(folder)
    number = next(iter(rows))
    edit(folder / "needs_attention.xlsx", {(number, rows[number]): FIXES[rows[number]]})
    code, out, _ = resubmit(str(folder / "needs_attention.xlsx"), "--confirm", "--json")
    assert code == ExitCode.OK
    [new] = json.loads(out)["jobs"]
    assert number not in todo_rows(folder)

    [sent] = (folder.parent / new["job_log_id"] / "artifacts" / "input").iterdir()
    sent.write_bytes(sent.read_bytes() + b"\r\n")  # no longer byte for byte the file sent
    assert main(["analyze", str(folder), "--out", str(folder.parent.parent)]) == ExitCode.RECORDS_FAILED
    assert number in todo_rows(folder)


def test_the_corrected_files_stay_on_the_todo_until_they_are_sent(folder: Path, resubmit: Resubmit) -> None:
    """A worksheet round sends no corrected file: re-uploading them stays on the runner's list till done."""
    rows = fixable(folder)
    number = next(iter(rows))
    edit(folder / "needs_attention.xlsx", {(number, rows[number]): FIXES[rows[number]]})

    def runner_lines() -> list[str]:
        todo = json.loads((folder / "summary.json").read_text())["todo"]
        return [i["action"] for i in todo if not i["owner"]]

    upload = "Check the automatic corrections and re-upload the corrected files to Claret."
    assert upload in runner_lines()
    code, _, _ = resubmit(str(folder / "needs_attention.xlsx"), "--confirm")
    assert code == ExitCode.OK
    assert upload in runner_lines()
    code, _, _ = resubmit(str(folder), "--confirm")
    assert code == ExitCode.OK
    assert upload not in runner_lines()
