"""The demo end to end, as a new user runs it: a real subprocess, a fresh simulated tenant, both rounds."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

from claret_errors.config import CATEGORIES
from claret_errors.demo import chunks
from claret_errors.fix.corrections import MAX_RECORDS_PER_FILE
from claret_errors.resources import fixtures_dir


def demo(out: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-m", "claret_errors", "demo", "--out", str(out), *extra]
    return subprocess.run(argv, capture_output=True, text=True, timeout=90, cwd=out.parent)


def test_the_demo_runs_three_rounds_and_the_second_and_third_land(tmp_path: Path) -> None:
    done = demo(tmp_path / "reports", "--json")
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    uploads = doc["uploaded"]
    assert len(uploads) >= 3 and sum(u["records"] for u in uploads) >= 2500
    assert all(u["records"] <= MAX_RECORDS_PER_FILE for u in uploads)
    first = doc["first_round"]["jobs"]
    assert {c["category"] for job in first for c in job["categories"]} == set(CATEGORIES)
    assert all(job["exit_code"] == 3 for job in first)
    second = doc["second_round"]["jobs"]
    fixed = sum(job["corrections"]["auto_fixed_rows"] for job in first)
    assert second and all(job["exit_code"] == 0 and job["counts"]["failed"] == 0 for job in second)
    assert sum(job["counts"]["imported"] for job in second) == fixed > 0
    # Round 3: the rows a person fixed in a worksheet land too; the rest stay with their advice.
    third = doc["third_round"]
    [sheet] = third["worksheets"]
    [edited] = third["jobs"]
    assert sheet["ready"] and not sheet["still_invalid"] and sheet["conversions"]
    assert edited["counts"]["imported"] == len(sheet["ready"]) and edited["counts"]["failed"] == 0
    tenant_dir = tmp_path / "reports" / "demo"
    assert (tenant_dir / "index.html").is_file() and (tenant_dir / "resubmissions.json").is_file()
    verdict = (tenant_dir / "index.md").read_text().splitlines()[2]
    assert (
        "of 2,600 rows are still outstanding" in verdict
        and f"{fixed + len(sheet['ready'])} of them landed on resubmission" in verdict
    )
    for job in first + second:
        assert (Path(job["folder"]) / "report.html").is_file()


def test_the_demo_prints_where_the_reports_are_and_replaces_its_own_folder(tmp_path: Path) -> None:
    out = tmp_path / "reports"
    assert demo(out).returncode == 0
    again = demo(out)
    assert again.returncode == 0, again.stderr
    lines = again.stdout.splitlines()
    assert lines[0].startswith("Uploaded 2600 records in 3 imports")
    assert lines[-1].startswith(f"Open {out / 'demo' / 'index.html'}")
    assert "Round 2:" in again.stdout and "Round 3:" in again.stdout and "[exit 0]" in again.stdout
    assert sorted(p.name for p in (out / "demo").iterdir() if p.name.isdigit()) == [
        "1",
        "2",
        "3",
        "4",
        "5",
        "6",
        "7",
    ]


def test_the_demo_never_clears_a_folder_it_did_not_make(tmp_path: Path) -> None:
    mine = tmp_path / "reports" / "demo" / "notes.txt"
    mine.parent.mkdir(parents=True)
    mine.write_text("keep me")
    refused = demo(tmp_path / "reports")
    assert refused.returncode == 2 and "was not made by the demo" in refused.stderr
    assert mine.read_text() == "keep me"


def test_chunks_keep_the_header_and_every_record_including_quoted_newlines() -> None:
    data = b'a,b\n1,"x\ny"\n2,z\n3,w\n'
    parts = chunks(data, "f.csv", size=2)
    assert [(name, n) for name, _, n in parts] == [("f_part1.csv", 2), ("f_part2.csv", 1)]
    rows = [list(csv.reader(io.StringIO(p.decode(), newline=""))) for _, p, _ in parts]
    assert rows == [[["a", "b"], ["1", "x\ny"], ["2", "z"]], [["a", "b"], ["3", "w"]]]


def test_the_sample_file_is_large_enough_for_several_imports() -> None:
    text = (fixtures_dir() / "demo" / "nightly_inventory.csv").read_text(encoding="utf-8")
    assert len(list(csv.reader(io.StringIO(text, newline="")))) - 1 >= 2500
