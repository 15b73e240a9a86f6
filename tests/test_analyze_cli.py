"""`claret-errors analyze`: the offline half on folders already on disk, plain or fetched."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from polars.exceptions import PanicException

from claret_errors.cli import main
from claret_errors.errors import ExitCode

JOBS = Path(__file__).resolve().parents[1] / "fixtures" / "jobs"


pytestmark = pytest.mark.usefixtures("no_claret_env")


def test_a_plain_folder_goes_to_local_and_its_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["analyze", str(JOBS / "plain_semicolon_errors"), "--out", str(tmp_path / "out")])
    folder = tmp_path / "out" / "local" / "plain_semicolon_errors"
    summary = json.loads((folder / "summary.json").read_text())
    assert code == ExitCode.RECORDS_FAILED == summary["exit_code"]
    assert summary["tenant"] == "local" and summary["job_log_id"] == "plain_semicolon_errors"
    counts = summary["counts"]
    assert (
        counts["failed"] > 0
        and counts["imported"] + counts["failed"] + counts["unaccounted"] == counts["input_rows"]
    )
    for name in ("report.html", "report.md", "failed_records.csv", "messages.csv", "needs_attention.csv"):
        assert (folder / name).is_file(), name
    assert not any(p.name == "summary.json" for p in (JOBS / "plain_semicolon_errors").iterdir())
    assert capsys.readouterr().out.startswith("job plain_semicolon_errors (local): ")


def test_tenant_and_job_id_name_the_output_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["analyze", str(JOBS / "plain_fields_only"), "--tenant", "acme", "--job-id", "42", "--json"]
    code = main([*argv, "--out", str(tmp_path / "out")])
    doc = json.loads(capsys.readouterr().out)
    [job] = doc["jobs"]
    assert code == job["exit_code"] and job["tenant"] == "acme" and job["job_log_id"] == "42"
    assert job["folder"] == str(tmp_path / "out" / "acme" / "42")
    assert doc["index"][0] == str(tmp_path / "out" / "acme" / "index.html")


def test_a_fetched_folder_is_analysed_in_place_unless_out_is_given(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without --out a fetched folder holds its own results; with it, they go there and the folder is left."""
    folder = tmp_path / "acme" / "1234"
    shutil.copytree(JOBS / "job_json_messages", folder)
    code = main(["analyze", str(folder)])
    assert code == ExitCode.JOB_FAILED  # the fixture is a job that ended failed
    assert (folder / "summary.json").is_file() and (folder / "report.html").is_file()
    assert (tmp_path / "acme" / "index.html").is_file()
    before = {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}
    assert main(["analyze", str(folder), "--out", str(tmp_path / "elsewhere")]) == ExitCode.JOB_FAILED
    assert {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()} == before
    assert (tmp_path / "elsewhere" / "acme" / "4242" / "report.html").is_file()
    capsys.readouterr()


def test_bad_paths_get_clear_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["analyze", str(tmp_path / "missing")]) == ExitCode.USAGE
    assert "does not exist" in capsys.readouterr().err
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["analyze", str(empty), "--out", str(tmp_path / "out")]) == ExitCode.UNREADABLE
    assert "no input file" in capsys.readouterr().out
    two = [str(JOBS / "plain_fields_only"), str(JOBS / "plain_line_numbers")]
    assert main(["analyze", *two, "--job-id", "1"]) == ExitCode.USAGE
    assert "--job-id" in capsys.readouterr().err


def test_several_folders_exit_with_the_worst_code(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    code = main(["analyze", str(JOBS / "plain_fields_only"), str(empty), "--out", str(tmp_path / "out")])
    lines = capsys.readouterr().out.splitlines()
    assert code == ExitCode.UNREADABLE
    assert len([line for line in lines if line.startswith("job ")]) == 2


@pytest.mark.parametrize(
    ("stage", "error"),
    [
        ("load_job", RuntimeError),
        ("validate_input", RuntimeError),
        ("reconcile", RuntimeError),
        ("reconcile", PanicException),
    ],
)
def test_a_bug_in_one_job_costs_only_that_job(
    stage: str,
    error: type[BaseException],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """No real input makes a stage crash (that would be a bug we fix), so the stage is made to raise: while
    loading (before the job's folder exists), while validating (in a thread of its own), or later; and as
    polars' own panics do, as a BaseException that `except Exception` lets through."""
    import claret_errors.pipeline as pipeline

    real = getattr(pipeline, stage)
    calls: list[object] = []

    def crash_once(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(args[0])
        if len(calls) == 1:
            raise error("boom")
        return real(*args, **kwargs)

    monkeypatch.setattr(pipeline, stage, crash_once)
    first, second = JOBS / "plain_fields_only", JOBS / "plain_semicolon_errors"
    code = main(["analyze", str(first), str(second), "--out", str(tmp_path / "out"), "--json"])
    captured = capsys.readouterr()
    jobs = json.loads(captured.out)["jobs"]
    assert [j["exit_code"] for j in jobs] == [ExitCode.BUG, ExitCode.RECORDS_FAILED] and code == 3
    assert jobs[0]["error"] == f"internal error (a bug in claret-errors): {error.__name__}: boom"
    assert "Traceback" not in captured.err and "boom" in captured.err
    if stage == "reconcile":  # the job's folder exists by then, and keeps its summary
        summary = tmp_path / "out" / "local" / "plain_fields_only" / "summary.json"
        assert json.loads(summary.read_text())["exit_code"] == 1


def test_a_plain_folder_analysed_again_keeps_the_owners_file_it_was_analysed_with(tmp_path: Path) -> None:
    """The owners file given the first time is recorded in summary.json and routes the records again when
    the folder is re-analysed without it; giving one again wins."""
    owners = Path(__file__).resolve().parents[1] / "fixtures" / "owners.example.toml"
    job = JOBS / "plain_line_numbers"
    out = tmp_path / "out"
    assert main(["analyze", str(job), "--out", str(out), "--owners", str(owners)]) == ExitCode.RECORDS_FAILED
    folder = out / "local" / "plain_line_numbers"
    routed = (folder / "failed_records.csv").read_text()
    assert json.loads((folder / "summary.json").read_text())["settings"]["owners"] == str(owners)
    assert main(["analyze", str(job), "--out", str(out)]) == ExitCode.RECORDS_FAILED
    assert (folder / "failed_records.csv").read_text() == routed and "data-team" in routed
    other = tmp_path / "owners.toml"
    other.write_text('default = "someone-else"\n')
    assert main(["analyze", str(job), "--out", str(out), "--owners", str(other)]) == ExitCode.RECORDS_FAILED
    assert "someone-else" in (folder / "failed_records.csv").read_text()
