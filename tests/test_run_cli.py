"""`claret-errors run` against the simulator over loopback: exit codes, files on disk and the --json output
for a clean job, a job with errors, a failed job, a job that never ends, a wrong token and several jobs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from claret_errors.cli import main
from claret_errors.errors import ExitCode
from claret_errors.history import History
from claret_errors.simulator import Simulator, make_nightly_csv

JOB_FILES = (
    "summary.json",
    "report.html",
    "report.md",
    "failed_records.csv",
    "messages.csv",
    "needs_attention.csv",
    "corrections_log.csv",
    "status.json",
    "manifest.json",
)


pytestmark = pytest.mark.usefixtures("no_claret_env")


def login(sim: Simulator, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLARET_EMAIL", sim.email)
    monkeypatch.setenv("CLARET_PASSWORD", sim.password)


def run(sim: Simulator, out: Path, *extra: str) -> int:
    argv = ["run", *extra, "--tenant", sim.tenant, "--base-url", sim.base_url, "--out", str(out)]
    return main([*argv, "--poll-interval", "0.02", "--max-wait", "5"])


def run_json(
    sim: Simulator, out: Path, capsys: pytest.CaptureFixture[str], *ids: str
) -> tuple[int, dict[str, object]]:
    code = run(sim, out, *ids, "--json")
    captured = capsys.readouterr()
    return code, json.loads(captured.out)


def test_a_clean_job_exits_0_with_every_output_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with Simulator(seed=1, speed=0.0) as sim:
        login(sim, monkeypatch)
        job = str(sim.submit_csv(make_nightly_csv(40, seed=1, error_share=0)))
        code, doc = run_json(sim, tmp_path / "out", capsys, job)
    folder = tmp_path / "out" / "demo" / job
    assert code == 0 and doc["exit_code"] == 0
    [entry] = doc["jobs"]  # type: ignore[misc]
    assert entry["counts"] == {
        "input_rows": 40,
        "imported": 40,
        "failed": 0,
        "unaccounted": 0,
        "anomalies": 0,
    }
    assert entry["status"] == "completed" and entry["folder"] == str(folder)
    for name in JOB_FILES:
        assert (folder / name).is_file(), name
    assert json.loads((folder / "summary.json").read_text())["counts"] == entry["counts"]
    assert doc["index"] == [
        str(tmp_path / "out" / "demo" / "index.html"),
        str(tmp_path / "out" / "demo" / "index.md"),
    ]


def test_a_job_with_errors_exits_3_and_accounts_for_every_row(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with Simulator(seed=2, speed=0.0) as sim:
        login(sim, monkeypatch)
        job = str(sim.submit_csv(make_nightly_csv(300, seed=2, error_share=0.2)))
        truth = sim.ground_truth(int(job))
        code = run(sim, tmp_path / "out", job)
    line = capsys.readouterr().out.splitlines()[0]
    folder = tmp_path / "out" / "demo" / job
    summary = json.loads((folder / "summary.json").read_text())
    failed_truth = sum(1 for t in truth if t.outcome == "failed")
    assert code == ExitCode.RECORDS_FAILED == summary["exit_code"]
    assert summary["counts"]["failed"] == failed_truth and summary["counts"]["input_rows"] == 300
    assert (
        summary["counts"]["imported"] + summary["counts"]["failed"] + summary["counts"]["unaccounted"] == 300
    )
    assert line.startswith(f"job {job} (demo): completed, 300 rows") and "[exit 3]" in line
    categories = {c["category"] for c in summary["categories"]}
    assert {"missing_value", "unknown_reference", "invalid_date", "duplicate"} <= categories
    auto = summary["corrections"]["auto_fixed_rows"]
    assert auto > 0 and sum(c["auto_fixed"] for c in summary["categories"]) >= auto
    assert summary["corrections"]["files"] == [p.name for p in sorted((folder / "corrected").iterdir())]
    failed_csv = (folder / "failed_records.csv").read_text().splitlines()
    assert failed_csv[0].split(",")[-4:] == ["categories", "owner", "fix", "suggestion"]
    assert len(failed_csv) - 1 == failed_truth


def test_a_failed_job_exits_4_and_is_still_analysed(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with Simulator("failing-job", seed=3, speed=0.0) as sim:
        login(sim, monkeypatch)
        job = str(sim.submit_csv(make_nightly_csv(30, seed=3)))
        code, doc = run_json(sim, tmp_path / "out", capsys, job)
    [entry] = doc["jobs"]  # type: ignore[misc]
    assert code == ExitCode.JOB_FAILED and entry["exit_code"] == ExitCode.JOB_FAILED
    assert entry["status"] == "failed" and entry["counts"]["input_rows"] == 30
    assert (tmp_path / "out" / "demo" / job / "report.html").is_file()


def test_a_job_that_never_ends_exits_5_with_a_command_that_resumes_the_whole_work(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The command printed on exit 5 is `run` (fetch alone would not analyse) with a wait that lasts."""
    with Simulator("never-finish", seed=4, speed=0.0) as sim:
        login(sim, monkeypatch)
        stuck = str(sim.submit_csv(make_nightly_csv(20, seed=4)))
        done = str(sim.submit_csv(make_nightly_csv(20, seed=5, error_share=0)))
        argv = ["run", stuck, done, "--json", "--tenant", "demo", "--base-url", sim.base_url]
        code = main([*argv, "--out", str(tmp_path / "out"), "--poll-interval", "0.05", "--max-wait", "0.5"])
    doc = json.loads(capsys.readouterr().out)
    first, second = doc["jobs"]
    assert code == ExitCode.WAIT_TIMEOUT
    assert first["job_log_id"] == stuck and first["exit_code"] == ExitCode.WAIT_TIMEOUT
    assert "gave up waiting" in first["error"] and f"claret-errors run {stuck}" in first["error"]
    assert "--max-wait 600" in first["error"]  # the 0.5 s that ran out would give up again at once
    assert second["job_log_id"] == done and second["exit_code"] == 0
    assert json.loads((tmp_path / "out" / "demo" / stuck / "summary.json").read_text())["exit_code"] == 5


def test_a_wrong_token_exits_6_and_the_token_is_nowhere(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    token = "9|wrongwrongwrongwrongwrong"
    with Simulator(seed=5, speed=0.0) as sim:
        monkeypatch.setenv("CLARET_TOKEN", token)
        job = str(sim.submit_csv(make_nightly_csv(10, seed=6)))
        code = run(sim, tmp_path / "out", job)
    captured = capsys.readouterr()
    assert code == ExitCode.AUTH
    assert "refused the token" in captured.out + captured.err
    assert token not in captured.out + captured.err and "wrongwrong" not in captured.out + captured.err
    for path in (tmp_path / "out").rglob("*"):
        if path.is_file():
            assert "wrongwrong" not in path.read_text(errors="replace"), path


def test_several_jobs_at_once_from_a_file_one_history_entry_each_even_on_rerun(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    with Simulator(seed=6, speed=0.0) as sim:
        login(sim, monkeypatch)
        ids = [str(sim.submit_csv(make_nightly_csv(60, seed=n, error_share=0.1 * (n % 2)))) for n in range(5)]
        listing = tmp_path / "ids.txt"
        listing.write_text("# tonight\n" + "\n".join(ids) + "\n")
        code, doc = run_json(sim, out, capsys, "--from-file", str(listing))
        again, _ = run_json(sim, out, capsys, *ids[:2])
        expected = [3 if any(t.outcome != "imported" for t in sim.ground_truth(int(j))) else 0 for j in ids]
    assert code == ExitCode.RECORDS_FAILED and again == ExitCode.RECORDS_FAILED
    assert [j["job_log_id"] for j in doc["jobs"]] == ids  # type: ignore[index]
    assert [j["exit_code"] for j in doc["jobs"]] == expected and 0 in expected  # type: ignore[index]
    entries = History.open(out / "demo").entries()
    assert sorted(e.job_log_id for e in entries) == sorted(ids)
    index = (out / "demo" / "index.md").read_text()
    assert all(f"{job}/report.md" in index for job in ids[:2])


def test_a_rerun_after_an_interruption_downloads_nothing_twice(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A half-done run left files on disk: the rerun keeps them (same bytes, same mtime) and finishes."""
    out = tmp_path / "out"
    with Simulator(seed=7, speed=0.0) as sim:
        login(sim, monkeypatch)
        job = str(sim.submit_csv(make_nightly_csv(50, seed=7, error_share=0.2)))
        assert run(sim, out, job) == ExitCode.RECORDS_FAILED
        folder = out / "demo" / job
        for name in ("summary.json", "report.html", "failed_records.csv"):
            (folder / name).unlink()  # as if the run died after the downloads
        artifacts = {p: p.stat().st_mtime_ns for p in (folder / "artifacts").rglob("*.csv")}
        assert run(sim, out, job) == ExitCode.RECORDS_FAILED
    assert {p: p.stat().st_mtime_ns for p in (folder / "artifacts").rglob("*.csv")} == artifacts
    assert (folder / "summary.json").is_file() and (folder / "failed_records.csv").is_file()
    capsys.readouterr()


def test_no_job_ids_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--tenant", "demo"]) == ExitCode.USAGE
    assert "no job ids" in capsys.readouterr().err
    assert main(["run", "12x", "--tenant", "demo"]) == ExitCode.USAGE


def test_claret_unreachable_exits_7_and_leaves_no_folder(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import socket

    with socket.socket() as sock:  # a port that was free a moment ago: nothing listens there
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("CLARET_TOKEN", "5|abcdefghijklmnopqrstuvwxyz")
    argv = ["run", "17", "--tenant", "acme", "--base-url", f"http://127.0.0.1:{port}", "--json"]
    code = main([*argv, "--out", str(tmp_path / "out"), "--max-wait", "2", "--poll-interval", "0.05"])
    [job] = json.loads(capsys.readouterr().out)["jobs"]
    assert code == ExitCode.UNAVAILABLE == job["exit_code"]
    assert job["status"] == "unknown" and "ConnectError" in job["error"]
    assert not (tmp_path / "out" / "acme" / "17").exists()
