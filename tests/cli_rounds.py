"""Helpers for the tests that drive the CLI or the API against the simulator: where the master data is,
the settings of a run against it (`sim_settings`), the flags every command of such a test takes, a first
round that leaves a fetched, analysed job folder, and the rows of it a person could fix in a worksheet.
The simulator they run against is conftest's `sim` fixture."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from claret_errors.cli import main
from claret_errors.config import Settings
from claret_errors.errors import ExitCode
from claret_errors.fix.worksheet import SHEET
from claret_errors.simulator import Simulator, make_nightly_csv

# The `resubmit` fixture: `claret-errors resubmit ARGS...` -> exit code, stdout, stderr.
Resubmit = Callable[..., tuple[int, str, str]]

MASTER = Path(__file__).resolve().parents[1] / "fixtures" / "master"


def common(sim: Simulator, tmp_path: Path) -> list[str]:
    """The simulator's URL, the output folder in tmp_path and a fast poll."""
    return ["--base-url", sim.base_url, "--out", str(tmp_path / "out"), "--poll-interval", "0.02"]


def first_round(sim: Simulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    """A nightly import of 300 rows, 30% of them bad, run and analysed; its job folder."""
    job = str(sim.submit_csv(make_nightly_csv(300, seed=8, error_share=0.3)))
    assert main(["run", job, "--tenant", "demo", *common(sim, tmp_path)]) == ExitCode.RECORDS_FAILED
    capsys.readouterr()
    return tmp_path / "out" / "demo" / job


# What a person types to fix a row whose one message is about this field.
FIXES = {"quantity": "7", "date_filled": "2024-01-15", "uom": "Gallon"}


def csv_rows(path: Path) -> list[dict[str, str]]:
    """A CSV the tool wrote, as one dict a row."""
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"), newline="")))


def fixable(folder: Path) -> dict[int, str]:
    """input_row -> the field to change, for rows with a single message about a field a person can fix."""
    by_row: dict[int, list[dict[str, str]]] = {}
    for m in csv_rows(folder / "messages.csv"):
        by_row.setdefault(int(m["input_row"]), []).append(m)
    attention = {int(r["input_row"]) for r in csv_rows(folder / "needs_attention.csv")}
    return {
        n: ms[0]["field"]
        for n, ms in sorted(by_row.items())
        if n in attention and len(ms) == 1 and ms[0]["field"] in FIXES and ms[0]["category"] != "duplicate"
    }


def edit(
    path: Path, changes: dict[tuple[int, str], object], *, save_as: Path | None = None
) -> dict[int, int]:
    """Change cells as a person would, by input_row and column; returns input_row -> sheet line."""
    book = openpyxl.load_workbook(path)
    sheet = book[SHEET]
    header = [c.value for c in sheet[1]]
    lines = {int(row[0].value): row[0].row for row in sheet.iter_rows(min_row=2) if row[0].value}
    for (number, column), value in changes.items():
        sheet.cell(row=lines[number], column=header.index(column) + 1, value=value)
    book.save(save_as or path)
    return lines


def edit_csv(path: Path, changes: dict[tuple[int, str], str]) -> None:
    """Change cells of a needs_attention.csv by input_row and column, saved back as UTF-8 with commas."""
    lines = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"), newline="")))
    header = lines[0]
    for line in lines[1:]:
        for (number, column), value in changes.items():
            if line[0] == str(number):
                line[header.index(column)] = value
    buffer = io.StringIO()
    csv.writer(buffer).writerows(lines)
    path.write_text(buffer.getvalue(), encoding="utf-8", newline="")


def sim_settings(sim: Simulator, out: Path, **overrides: Any) -> Settings:
    """Settings for a run against `sim` with its own login, polling fast and giving up after 10 s."""
    values: dict[str, Any] = {
        "tenant": sim.tenant,
        "base_url": sim.base_url,
        "email": sim.email,
        "password": sim.password,
        "out": out,
        "poll_interval": 0.01,
        "max_wait": 10.0,
    }
    values.update(overrides)
    return Settings(**values)
