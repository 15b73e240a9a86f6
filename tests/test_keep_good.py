"""A damaged job folder never replaces its good analysis: jobs fetched from the simulator over loopback,
their files then cut short, grown, replaced or removed on disk, and analysed again through the CLI."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from claret_errors.cli import main
from claret_errors.errors import ExitCode
from claret_errors.simulator import Simulator, make_nightly_csv

REPORTS = ("report.html", "report.md")


def common(sim: Simulator, out: Path) -> list[str]:
    return ["--tenant", sim.tenant, "--base-url", sim.base_url, "--out", str(out), "--poll-interval", "0.02"]


def fetched(sim: Simulator, out: Path, seed: int) -> tuple[str, Path]:
    """A job of 60 rows run (fetched and analysed) into `out`: its id and folder."""
    job = str(sim.submit_csv(make_nightly_csv(60, seed=seed, error_share=0.2)))
    assert main(["run", job, *common(sim, out)]) == ExitCode.RECORDS_FAILED
    return job, out / sim.tenant / job


def only_file(folder: Path, kind: str) -> Path:
    [path] = (folder / "artifacts" / kind).iterdir()
    return path


def good_state(folder: Path) -> dict[str, bytes]:
    """The files of the good analysis a failed attempt must leave as they are."""
    return {name: (folder / name).read_bytes() for name in (*REPORTS, "failed_records.csv", "messages.csv")}


def counts(folder: Path) -> dict[str, int]:
    found: dict[str, int] = json.loads((folder / "summary.json").read_text())["counts"]
    return found


def truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def append_garbage(path: Path) -> None:
    with path.open("ab") as fh:
        fh.write(b"GARBAGE,SS-01,L1,2023-08-01,1,Each\nmore,garbage\n")


def replace_with_another_job(path: Path) -> None:
    """Another night's input, cut to the same size: only its sha256 tells it apart."""
    size = path.stat().st_size
    path.write_bytes(make_nightly_csv(80, seed=99, error_share=0.5)[:size])


def remove(path: Path) -> None:
    path.unlink()


@pytest.mark.parametrize(
    ("kind", "damage", "says"),
    [
        ("input", truncate, "where manifest.json records"),
        ("input", append_garbage, "where manifest.json records"),
        ("input", replace_with_another_job, "content differs from the file fetched"),
        ("errors", append_garbage, "where manifest.json records"),
        ("output", remove, "listed in manifest.json but missing"),
    ],
)
def test_a_fetched_file_damaged_on_disk_keeps_the_good_analysis(
    sim: Simulator,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    kind: str,
    damage: Callable[[Path], None],
    says: str,
) -> None:
    """Cut short, grown, replaced or gone: the file differs from what fetch recorded, so analyze exits 8
    naming it, and the good numbers and reports stay, with the failed attempt beside them."""
    out = tmp_path / "out"
    _job, folder = fetched(sim, out, seed=41)
    before, good = good_state(folder), counts(folder)
    path = only_file(folder, kind)
    damage(path)
    capsys.readouterr()

    assert main(["analyze", str(folder)]) == ExitCode.UNREADABLE

    said = capsys.readouterr().out
    label = path.relative_to(folder).as_posix()
    assert f"{label}: " in said and says in said and "fetch the job again" in said
    assert counts(folder) == good and good_state(folder) == before
    attempt = json.loads((folder / "last_attempt.json").read_text())
    assert attempt["exit_code"] == ExitCode.UNREADABLE and label in attempt["error"]
    assert json.loads((folder / "summary.json").read_text())["last_attempt"] == attempt


def test_fetching_a_damaged_job_again_restores_it_and_clears_the_failed_attempt(
    sim: Simulator, tmp_path: Path
) -> None:
    """Fetch rewrites the damaged file and its manifest together: the next analysis is good again."""
    out = tmp_path / "out"
    job, folder = fetched(sim, out, seed=42)
    good = counts(folder)
    truncate(only_file(folder, "input"))
    assert main(["analyze", str(folder)]) == ExitCode.UNREADABLE
    assert (folder / "last_attempt.json").is_file()

    assert main(["fetch", job, *common(sim, out)]) == ExitCode.OK
    assert main(["analyze", str(folder)]) == ExitCode.RECORDS_FAILED

    assert counts(folder) == good
    assert not (folder / "last_attempt.json").exists()
    assert json.loads((folder / "summary.json").read_text())["last_attempt"] is None


def hand_made(folder: Path, out: Path) -> Path:
    """A plain folder holding the fetched job's four files, named as a person would."""
    plain = out.parent / "tonight"
    plain.mkdir()
    for kind in ("input", "staging", "output", "errors"):
        shutil.copyfile(only_file(folder, kind), plain / f"{kind}.csv")
    return plain


def test_a_hand_made_folder_whose_input_reads_other_rows_keeps_the_good_analysis(
    sim: Simulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without a manifest, an input of 50 rows where 60 were read is refused (exit 8, the file named, the
    way out said); deleting summary.json as the message says lets the new files be analysed."""
    out = tmp_path / "out"
    _job, folder = fetched(sim, out, seed=43)
    plain = hand_made(folder, out)
    assert main(["analyze", str(plain), "--out", str(out)]) == ExitCode.RECORDS_FAILED
    results = out / "local" / "tonight"
    before, good = good_state(results), counts(results)
    assert good["input_rows"] == 60
    lines = (plain / "input.csv").read_bytes().splitlines(keepends=True)
    (plain / "input.csv").write_bytes(b"".join(lines[:51]))
    capsys.readouterr()

    assert main(["analyze", str(plain), "--out", str(out)]) == ExitCode.UNREADABLE

    said = capsys.readouterr().out
    assert "input.csv: the job's input now reads 50 rows, where the last good analysis" in said
    assert "read 60" in said and "--job-id" in said
    assert counts(results) == good and good_state(results) == before
    attempt = json.loads((results / "last_attempt.json").read_text())
    assert attempt["exit_code"] == ExitCode.UNREADABLE and "input.csv" in attempt["error"]
    assert f"delete {results / 'summary.json'}" in attempt["error"]

    (results / "summary.json").unlink()
    assert main(["analyze", str(plain), "--out", str(out)]) in (ExitCode.OK, ExitCode.RECORDS_FAILED)
    assert counts(results)["input_rows"] == 50
    assert not (results / "last_attempt.json").exists()


def test_a_hand_made_folder_emptied_keeps_the_good_analysis(sim: Simulator, tmp_path: Path) -> None:
    """An input reduced to its header reads no rows where 60 were read: refused as the other changes are."""
    out = tmp_path / "out"
    _job, folder = fetched(sim, out, seed=44)
    plain = hand_made(folder, out)
    assert main(["analyze", str(plain), "--out", str(out)]) == ExitCode.RECORDS_FAILED
    good = counts(out / "local" / "tonight")
    header = (plain / "input.csv").read_bytes().splitlines(keepends=True)[0]
    (plain / "input.csv").write_bytes(header)

    assert main(["analyze", str(plain), "--out", str(out)]) == ExitCode.UNREADABLE

    assert counts(out / "local" / "tonight") == good
    attempt = json.loads((out / "local" / "tonight" / "last_attempt.json").read_text())
    assert "now reads 0 rows" in attempt["error"]


def test_analyze_as_a_process_refuses_a_damaged_file_with_exit_8(sim: Simulator, tmp_path: Path) -> None:
    """Through `python -m claret_errors`, as cron runs it: exit 8, the file named, no traceback."""
    out = tmp_path / "out"
    _job, folder = fetched(sim, out, seed=45)
    good = counts(folder)
    path = only_file(folder, "input")
    append_garbage(path)
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLARET_")}

    done = subprocess.run(
        [sys.executable, "-m", "claret_errors", "analyze", str(folder)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )

    assert done.returncode == ExitCode.UNREADABLE, done.stderr
    assert path.relative_to(folder).as_posix() in done.stdout and "Traceback" not in done.stderr
    assert counts(folder) == good
    assert (folder / "last_attempt.json").is_file()
