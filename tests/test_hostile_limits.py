"""Hostile artifact files meet documented limits: a clear error with its exit code, or correct handling;
never exit 1 (a bug), never unbounded memory."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from claret_errors.cli import main
from claret_errors.errors import ExitCode

HEADER = "item_name,bin_name,lot_name,date_filled,quantity,uom,note,last"


pytestmark = pytest.mark.usefixtures("no_claret_env")


def plain_job(folder: Path, note: str) -> Path:
    """A plain folder: two input rows, the first with `note` and an empty last cell, failed on its bin."""
    folder.mkdir()
    first = f"124,SS-99,L1,2023-08-01,5,Gallon,{note},"
    (folder / "input.csv").write_text(f"{HEADER}\n{first}\n125,SS-01,L2,2023-08-01,3,Gallon,ok,x\n")
    (folder / "output.csv").write_text(f"{HEADER}\n125,SS-01,L2,2023-08-01,3,Gallon,ok,x\n")
    (folder / "errors.csv").write_text(f"{HEADER},Error Message\n{first},The selected bin name is invalid.\n")
    return folder


def test_a_140000_character_cell_before_an_empty_last_cell_is_read(tmp_path: Path) -> None:
    """Past the csv module's 131,072-character field limit the row is still read and reported, not a crash."""
    folder = plain_job(tmp_path / "long", "x" * 140_000)
    code = main(["analyze", str(folder), "--out", str(tmp_path / "out"), "--quiet"])
    summary = json.loads((tmp_path / "out" / "local" / "long" / "summary.json").read_text())
    assert code == ExitCode.RECORDS_FAILED
    assert summary["counts"] == {**summary["counts"], "input_rows": 2, "failed": 1, "imported": 1}


def test_an_artifact_above_the_size_limit_is_refused_with_exit_8(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A file above limits.file_mb is refused unread (exit 8, naming it), so memory stays bounded."""
    folder = plain_job(tmp_path / "big", "ok")
    message = "The selected bin name is invalid. " + "x" * 10_000
    line = f"124,SS-99,L1,2023-08-01,5,Gallon,ok,,{message}\n"
    with (folder / "errors.csv").open("a") as handle:
        handle.writelines(line for _ in range(150))  # 1.5 MB
    (tmp_path / "claret-errors.toml").write_text("[limits]\nfile_mb = 1\n")
    code = main(["analyze", str(folder), "--out", str(tmp_path / "out")])
    shown = capsys.readouterr()
    assert code == ExitCode.UNREADABLE
    assert "errors.csv: 1.4 MiB, above the 1.0 MiB limit for one file (limits.file_mb" in shown.out
    assert "Traceback" not in shown.err
