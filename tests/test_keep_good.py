"""A damaged job folder never replaces its good analysis: jobs fetched from the simulator over loopback,
their files then cut short, grown, replaced or removed on disk, and analysed again through the CLI. The
kept reports say so in a banner, which the next good analysis removes."""

from __future__ import annotations

import errno
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
from claret_errors.files.mdtext import markdown_text
from claret_errors.report.format import when
from claret_errors.report.html import ATTEMPT_MARK
from claret_errors.report.markdown import ATTEMPT_LEAD
from claret_errors.simulator import FaultRule, Scenario, Simulator, make_nightly_csv

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


def reports(folder: Path) -> list[Path]:
    """The job's reports and its owners'."""
    return [folder / name for name in REPORTS] + sorted((folder / "owners").glob("*.*[dl]"))


def banner_of(path: Path) -> tuple[str, str]:
    """The report's failed-attempt banner and the report without it (the banner empty if it has none)."""
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".html":
        start, end = f"<!-- {ATTEMPT_MARK} -->", f"<!-- /{ATTEMPT_MARK} -->"
        head, found, rest = text.partition(start)
        inside, _, tail = rest.partition(end)
        return (start + inside + end, head + tail.removeprefix("\n")) if found else ("", text)
    title, _, rest = text.partition("\n\n")
    if not rest.startswith(ATTEMPT_LEAD):
        return "", text
    inside, _, tail = rest.partition("\n\n")
    return inside, f"{title}\n\n{tail}"


def good_state(folder: Path) -> dict[str, str]:
    """The files of the good analysis a failed attempt must leave as they are (a report's banner aside)."""
    found = {p.name: banner_of(p)[1] for p in reports(folder)}
    return found | {n: (folder / n).read_text() for n in ("failed_records.csv", "messages.csv")}


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
        ("input", remove, "listed in manifest.json but missing"),
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
    assert "last good analysis is shown" in (out / sim.tenant / "index.md").read_text()


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


def test_a_file_added_to_a_fetched_folder_keeps_the_good_analysis(
    sim: Simulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A second errors file dropped beside the fetched one (the input's rows unchanged) is no file of the
    job: exit 8 naming it, the good analysis kept; moved out again, the job analyses as before."""
    out = tmp_path / "out"
    _job, folder = fetched(sim, out, seed=46)
    before, good = good_state(folder), counts(folder)
    fetched_errors = only_file(folder, "errors")
    added = fetched_errors.with_name("zz_more_errors.csv")
    shutil.copyfile(fetched_errors, added)
    capsys.readouterr()

    assert main(["analyze", str(folder)]) == ExitCode.UNREADABLE

    said = capsys.readouterr().out
    assert f"artifacts/errors/{added.name}: not among the files fetched for this job" in said
    assert "move it out of the job folder" in said
    assert counts(folder) == good and good_state(folder) == before
    attempt = json.loads((folder / "last_attempt.json").read_text())
    assert attempt["exit_code"] == ExitCode.UNREADABLE and added.name in attempt["error"]

    added.unlink()
    assert main(["analyze", str(folder)]) == ExitCode.RECORDS_FAILED
    assert counts(folder) == good and not (folder / "last_attempt.json").exists()


def test_a_damaged_manifest_keeps_the_good_analysis_until_the_job_is_fetched_again(
    sim: Simulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A manifest cut short vouches for no file, so a changed errors file would pass unseen: exit 8 naming
    manifest.json, the good analysis kept; a new fetch writes manifest and files anew."""
    out = tmp_path / "out"
    job, folder = fetched(sim, out, seed=47)
    before, good = good_state(folder), counts(folder)
    truncate(folder / "manifest.json")
    append_garbage(only_file(folder, "errors"))
    capsys.readouterr()

    assert main(["analyze", str(folder)]) == ExitCode.UNREADABLE

    said = capsys.readouterr().out
    assert "manifest.json: damaged (not JSON)" in said and "fetch the job again" in said
    assert counts(folder) == good and good_state(folder) == before
    assert "manifest.json" in json.loads((folder / "last_attempt.json").read_text())["error"]

    assert main(["fetch", job, *common(sim, out)]) == ExitCode.OK
    assert main(["analyze", str(folder)]) == ExitCode.RECORDS_FAILED
    assert counts(folder) == good and not (folder / "last_attempt.json").exists()


@pytest.mark.usefixtures("no_backoff")
@pytest.mark.retry_attempts(2)
def test_a_run_that_cannot_fetch_a_damaged_file_again_keeps_the_good_analysis(
    sim: Simulator, tmp_path: Path
) -> None:
    """A damaged errors file is dropped from the manifest when its new download fails (Claret answers 500):
    the analysis of what is on disk must not read it, so the good figures stay, under the fetch's banner."""
    out = tmp_path / "out"
    job, folder = fetched(sim, out, seed=48)
    before, good = good_state(folder), counts(folder)
    append_garbage(only_file(folder, "errors"))
    fault = FaultRule(endpoint="download", kind="http_error", status=500, probability=1.0, match="errors")
    sim.set_scenario(Scenario(name="errors-download-fails", faults=(fault,)))

    assert main(["run", job, *common(sim, out)]) == ExitCode.UNAVAILABLE

    assert counts(folder) == good and good_state(folder) == before
    attempt = json.loads((folder / "last_attempt.json").read_text())
    assert attempt["exit_code"] == ExitCode.UNAVAILABLE
    assert banner_of(folder / "report.html")[0] and banner_of(folder / "report.md")[0]


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


def test_the_kept_reports_say_the_attempt_failed_and_the_next_good_one_clears_it(
    sim: Simulator, tmp_path: Path
) -> None:
    """Every kept report, the owners' too, opens with what failed and when, which analysis its figures
    are from and what to do; the figures below are the good ones; a good analysis renders no banner."""
    owners = Path(__file__).resolve().parents[1] / "fixtures" / "owners.example.toml"
    out = tmp_path / "out"
    job = str(sim.submit_csv(make_nightly_csv(60, seed=46, error_share=0.3)))
    assert main(["run", job, "--owners", str(owners), *common(sim, out)]) == ExitCode.RECORDS_FAILED
    folder = out / sim.tenant / job
    assert len(reports(folder)) > 2 and all(not banner_of(p)[0] for p in reports(folder))
    before = good_state(folder)
    shown = when(json.loads((folder / "summary.json").read_text())["analysed_at"])
    path = only_file(folder, "errors")
    original = path.read_bytes()
    truncate(path)

    assert main(["analyze", str(folder)]) == ExitCode.UNREADABLE

    assert good_state(folder) == before
    at = when(json.loads((folder / "last_attempt.json").read_text())["at"])
    label = path.relative_to(folder).as_posix()
    for report in reports(folder):
        banner = banner_of(report)[0]
        words = label if report.suffix == ".html" else markdown_text(label)
        assert f"the last attempt to analyse this job, {at}, failed" in banner, report
        assert words in banner and "exit 8" in banner, report
        assert f"The figures below are from the last good analysis, of {shown}" in banner, report
        assert "What to do: the job" in banner and "files on disk are damaged" in banner, report
        assert "fetch the job again (or restore its files)" in banner, report

    path.write_bytes(original)  # restored as it was fetched: the next analysis is good
    assert main(["analyze", str(folder)]) == ExitCode.RECORDS_FAILED
    assert all(not banner_of(p)[0] for p in reports(folder))
    assert all("the last attempt" not in p.read_text() for p in reports(folder))
    assert not (folder / "last_attempt.json").exists()


def test_a_second_failed_attempt_replaces_the_first_banner(sim: Simulator, tmp_path: Path) -> None:
    """Two failed nights in a row: the report carries the latest attempt's banner once, not two."""
    out = tmp_path / "out"
    _job, folder = fetched(sim, out, seed=47)
    before = good_state(folder)
    staging = only_file(folder, "staging")
    fetched_bytes = staging.read_bytes()
    append_garbage(staging)
    assert main(["analyze", str(folder)]) == ExitCode.UNREADABLE
    staging.write_bytes(fetched_bytes)
    only_file(folder, "output").unlink()

    assert main(["analyze", str(folder)]) == ExitCode.UNREADABLE

    assert good_state(folder) == before
    for report in reports(folder):
        text = report.read_text()
        assert text.count("the last attempt to analyse this job") == 1, report
        assert "listed in manifest.json but missing" in text and "staging" not in banner_of(report)[0]


def test_the_banner_escapes_what_the_error_quotes(sim: Simulator, tmp_path: Path) -> None:
    """A file name is outside text: quoted in the banner, it is inert in the HTML and the Markdown."""
    out = tmp_path / "out"
    _job, folder = fetched(sim, out, seed=48)
    plain = out.parent / "tonight"
    plain.mkdir()
    name = "<img src=x onload=alert(1)>input.csv"
    shutil.copyfile(only_file(folder, "input"), plain / name)
    shutil.copyfile(only_file(folder, "errors"), plain / "errors.csv")
    assert main(["analyze", str(plain), "--out", str(out)]) == ExitCode.RECORDS_FAILED
    (plain / name).write_bytes((plain / name).read_bytes().splitlines(keepends=True)[0])

    assert main(["analyze", str(plain), "--out", str(out)]) == ExitCode.UNREADABLE

    results = out / "local" / "tonight"
    html = banner_of(results / "report.html")[0]
    assert "&lt;img src=x onload=alert(1)&gt;input.csv" in html and "<img" not in html
    md = banner_of(results / "report.md")[0]
    assert markdown_text(name) in md and "now reads 0 rows" in md


def test_a_banner_that_cannot_be_written_leaves_the_good_report(
    sim: Simulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A disk that fills up as the banner is written (a stand-in: a test cannot fill a disk on purpose)
    costs the banner, never the report: each stays whole, and the attempt is still recorded."""
    out = tmp_path / "out"
    _job, folder = fetched(sim, out, seed=49)
    before = {p: p.read_bytes() for p in reports(folder)}
    truncate(only_file(folder, "input"))
    real_fsync = os.fsync

    def full_for_reports(fd: int) -> None:
        """ENOSPC for the temporary file of a report, as atomic writes name them (`.report.html.x.part`)."""
        name = Path(f"/proc/self/fd/{fd}").readlink().name
        if name.startswith(".") and name.endswith(".part") and (".html." in name or ".md." in name):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", full_for_reports)
    capsys.readouterr()

    assert main(["analyze", str(folder)]) == ExitCode.UNREADABLE

    monkeypatch.setattr(os, "fsync", real_fsync)
    warned = capsys.readouterr().err
    assert "report.html: cannot add the failed attempt's banner" in warned and "No space left" in warned
    assert {p: p.read_bytes() for p in reports(folder)} == before
    assert not [p for p in folder.rglob(".*.part")]
    assert json.loads((folder / "last_attempt.json").read_text())["exit_code"] == ExitCode.UNREADABLE
