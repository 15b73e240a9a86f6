"""An input read as fewer rows than the other files hold is never "all landed": bare-CR line endings are
lines, and a header-only input beside an errors file listing failures exits 3, not 0."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from claret_errors.cli import main
from claret_errors.errors import ExitCode
from claret_errors.load.csvread import LINE, read_text_csv

HEADER = "item_name,bin_name,lot_name,date_filled,quantity,uom"
ROWS = ("122-16,SS-01,RM19.ZAM,2023-08-01,120,Gallon", "124,SS-02,RM20.ZAM,2023-08-01,40,Gallon")


pytestmark = pytest.mark.usefixtures("no_claret_env")


def write_job(folder: Path, newline: str, *, input_rows: tuple[str, ...] = ROWS) -> Path:
    """A plain folder: input, output with the second row, errors naming the first row."""
    folder.mkdir(parents=True)
    (folder / "inventory_input.csv").write_bytes(newline.join([HEADER, *input_rows, ""]).encode())
    (folder / "inventory_output.csv").write_bytes(newline.join([HEADER, ROWS[1], ""]).encode())
    errors = ["row,error", "1,The selected bin name is invalid.", ""]
    (folder / "inventory_errors.csv").write_bytes(newline.join(errors).encode())
    return folder


def analyze_json(
    folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> tuple[int, dict[str, Any]]:
    code = main(["analyze", str(folder), "--out", str(tmp_path / "out"), "--json"])
    [job] = json.loads(capsys.readouterr().out)["jobs"]
    return code, job


def test_bare_cr_lines_are_read_as_lines_with_their_line_numbers(tmp_path: Path) -> None:
    """An old-Mac export (CR only) has as many rows as lines, each with its own line number."""
    path = tmp_path / "input.csv"
    path.write_bytes("\r".join([HEADER, *ROWS, ""]).encode())
    table = read_text_csv(path, "input.csv")
    assert table.headers == tuple(HEADER.split(","))
    assert table.frame.height == 2 and table.frame.get_column(LINE).to_list() == [2, 3]
    assert table.frame.get_column("c0").to_list() == ["122-16", "124"]
    assert [f.check for f in table.findings] == ["line_endings"]


def test_a_bare_cr_job_is_accounted_row_by_row(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Every file with CR-only line endings: one failed, one imported, exit 3, never 0 rows and exit 0."""
    code, job = analyze_json(write_job(tmp_path / "cr", "\r"), tmp_path, capsys)
    assert code == ExitCode.RECORDS_FAILED == job["exit_code"]
    counts = job["counts"]
    assert (counts["input_rows"], counts["imported"], counts["failed"], counts["unaccounted"]) == (2, 1, 1, 0)


def test_a_header_only_input_beside_failures_is_not_all_landed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Errors and output name rows the input does not have: exit 3, and the job line says why."""
    folder = write_job(tmp_path / "header_only", "\n", input_rows=())
    code, job = analyze_json(folder, tmp_path, capsys)
    assert code == ExitCode.RECORDS_FAILED == job["exit_code"]
    assert job["counts"]["input_rows"] == 0 and job["counts"]["anomalies"] == 2
    assert main(["analyze", str(folder), "--out", str(tmp_path / "out")]) == ExitCode.RECORDS_FAILED
    line = capsys.readouterr().out.splitlines()[0]
    assert "2 records in output or errors match no input row [exit 3]" in line
