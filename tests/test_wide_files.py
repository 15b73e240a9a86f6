"""Wide files: time grows with the number of cells, not with the width squared."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

from claret_errors.cli import main
from claret_errors.errors import ExitCode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))

from make_job import make_wide_job


def test_a_file_with_10000_extra_columns_is_analysed_with_every_column_kept(tmp_path: Path) -> None:
    """10,000 extra columns finish (quadratic column scans made this take minutes) and keep every column."""
    folder = make_wide_job(tmp_path / "wide", extra=10000, rows=10)
    code = main(["analyze", str(folder), "--out", str(tmp_path / "out"), "--quiet"])
    job = tmp_path / "out" / "local" / "wide"
    summary = json.loads((job / "summary.json").read_text())
    assert code == ExitCode.RECORDS_FAILED
    assert summary["counts"]["failed"] == 5 and summary["counts"]["imported"] == 5
    with (job / "needs_attention.csv").open(newline="", encoding="utf-8") as handle:
        header, *rows = list(csv.reader(handle))
    assert "extra_9999" in header and len(rows) == 5
    # The formula in the last extra column of row 1 is found by the scan and neutralised for people.
    first = dict(zip(header, next(r for r in rows if r[0] == "1"), strict=True))
    assert first["extra_9999"] == "'=HYPERLINK(1)"
    assert "extra_9999 starts with '='" in first["note"]
