"""Numbers a data owner can trust, against the simulator over loopback: a failed rerun never overwrites a
good analysis, and a tenant's run index tells the whole night whatever commands were run in between."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
import stamina

from claret_errors.cli import main
from claret_errors.errors import ExitCode
from claret_errors.history import History
from claret_errors.simulator import Simulator, make_nightly_csv

REPORT_FILES = ("report.html", "report.md", "summary.json", "failed_records.csv", "needs_attention.csv")


def common(sim: Simulator, out: Path) -> list[str]:
    return ["--tenant", sim.tenant, "--base-url", sim.base_url, "--out", str(out), "--poll-interval", "0.02"]


def numbers(folder: Path) -> dict[str, int]:
    counts: dict[str, int] = json.loads((folder / "summary.json").read_text())["counts"]
    return counts


def test_a_rerun_that_cannot_log_in_keeps_the_last_good_analysis(
    sim: Simulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A wrong password on the second run leaves report, CSVs, summary and history line as they were, and
    records the failed attempt beside them, saying when and why and which analysis is shown."""
    out = tmp_path / "out"
    job = str(sim.submit_csv(make_nightly_csv(200, seed=31, error_share=0.2)))
    assert main(["run", job, *common(sim, out)]) == ExitCode.RECORDS_FAILED
    folder = out / sim.tenant / job
    good = numbers(folder)
    csvs = {name: (folder / name).read_text() for name in ("failed_records.csv", "needs_attention.csv")}
    [entry] = History.open(folder.parent).entries()

    monkeypatch.setenv("CLARET_PASSWORD", "not-the-password")
    capsys.readouterr()
    assert main(["run", job, *common(sim, out)]) == ExitCode.AUTH
    line = capsys.readouterr().out

    assert numbers(folder) == good and good["failed"] > 0
    assert {name: (folder / name).read_text() for name in csvs} == csvs
    assert History.open(folder.parent).entries() == [entry]
    attempt = json.loads((folder / "last_attempt.json").read_text())
    assert attempt["exit_code"] == ExitCode.AUTH and attempt["shown"] == entry.run_at
    assert json.loads((folder / "summary.json").read_text())["last_attempt"] == attempt
    for name in ("report.md", "report.html"):
        text = (folder / name).read_text()
        assert "could not be analysed" not in text and "the last attempt" in text, name
        assert f"{good['failed']} failed" in text, name
    index = (out / sim.tenant / "index.md").read_text()
    assert "Every one of the 0 rows" not in index and "still outstanding" in index.splitlines()[2]
    assert "last good analysis is shown" in index.splitlines()[2]
    assert "the last good analysis is kept" in line or "the last attempt" in line

    monkeypatch.setenv("CLARET_PASSWORD", sim.password)
    assert main(["run", job, *common(sim, out)]) == ExitCode.RECORDS_FAILED
    assert not (folder / "last_attempt.json").exists()
    assert "the last attempt" not in (folder / "report.md").read_text()


def test_the_index_tells_the_whole_night_whatever_was_run_last(
    sim: Simulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """After a run of two jobs, a resubmission of one and a rerun of the other, the index lists the night's
    jobs and the resubmission, and its headline counts the rows still outstanding."""
    out = tmp_path / "out"
    first = str(sim.submit_csv(make_nightly_csv(300, seed=32, error_share=0.3)))
    second = str(sim.submit_csv(make_nightly_csv(200, seed=33, error_share=0.2)))
    assert main(["run", first, second, *common(sim, out)]) == ExitCode.RECORDS_FAILED
    tenant_dir = out / sim.tenant
    assert main(["resubmit", str(tenant_dir / first), "--confirm", *common(sim, out)]) in (0, 3)
    assert main(["analyze", str(tenant_dir / second), "--out", str(out)]) == ExitCode.RECORDS_FAILED
    capsys.readouterr()

    links = json.loads((tenant_dir / first / "summary.json").read_text())["links"]
    [resent] = [k["job_log_id"] for k in links if k["relation"] == "resubmitted_as"]
    index = (tenant_dir / "index.md").read_text()
    rows = [line.split("|") for line in index.splitlines() if line.startswith("| ") and "/report" in line]
    jobs = [row[1].strip() for row in rows]
    assert sorted(jobs) == sorted([first, second, resent])
    a, b, r = numbers(tenant_dir / first), numbers(tenant_dir / second), numbers(tenant_dir / resent)
    outstanding = a["failed"] + a["unaccounted"] + b["failed"] + b["unaccounted"] - r["imported"]
    assert outstanding > 0
    headline = index.splitlines()[2]
    assert f"{outstanding:,} of {a['input_rows'] + b['input_rows']:,} rows are still outstanding" in headline
    assert "Every one" not in headline


def test_analyze_with_out_writes_there_and_keeps_the_owners_file_used_before(
    sim: Simulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`analyze FOLDER --out X` leaves the fetched folder alone, and routes records with the owners file
    the first analysis recorded in summary.json, though it is not given again."""
    owners = Path(__file__).resolve().parents[1] / "fixtures" / "owners.example.toml"
    out = tmp_path / "out"
    job = str(sim.submit_csv(make_nightly_csv(200, seed=34, error_share=0.3)))
    assert main(["run", job, "--owners", str(owners), *common(sim, out)]) == ExitCode.RECORDS_FAILED
    folder = out / sim.tenant / job
    before = {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}
    index_before = (out / sim.tenant / "index.md").read_text()
    assert json.loads((folder / "summary.json").read_text())["settings"]["owners"] == str(owners)

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # no config file here: nothing names the owners file
    assert main(["analyze", str(folder), "--out", str(tmp_path / "x")]) == ExitCode.RECORDS_FAILED

    assert {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()} == before
    assert (out / sim.tenant / "index.md").read_text() == index_before
    copy = tmp_path / "x" / sim.tenant / job
    summary = json.loads((copy / "summary.json").read_text())
    assert summary["settings"]["owners"] == str(owners)
    assert summary["counts"] == json.loads(before["summary.json"])["counts"]
    assert (copy / "failed_records.csv").read_bytes() == before["failed_records.csv"]
    assert (tmp_path / "x" / sim.tenant / "index.html").is_file()


def test_an_output_folder_that_cannot_be_written_exits_8_as_the_readme_documents(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Exit 8 names the folder that cannot be written, and the README's table of codes says 8 means it."""
    job = Path(__file__).resolve().parents[1] / "fixtures" / "jobs" / "plain_line_numbers"
    (tmp_path / "a-file").write_text("not a folder")
    out = tmp_path / "a-file" / "out"
    assert main(["analyze", str(job), "--out", str(out)]) == ExitCode.UNREADABLE
    assert f"cannot write the results in {out}" in capsys.readouterr().out
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    [row] = [line for line in readme.splitlines() if line.startswith("| 8 |")]
    assert "cannot be written" in row


def test_an_unaccounted_row_is_in_needs_attention_and_can_be_sent_again(
    sim: Simulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A row in neither output nor errors gets a needs_attention line saying why and what to do, a file of
    its own that a job's resubmission leaves alone, and `resubmit FILE` sends it as a new import."""
    sim.set_scenario("anomalies")
    out = tmp_path / "out"
    job = str(sim.submit_csv(make_nightly_csv(20, seed=35, error_share=0)))
    assert main(["run", job, *common(sim, out)]) == ExitCode.RECORDS_FAILED
    folder = out / sim.tenant / job
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["counts"]["unaccounted"] == 1
    [lost] = summary["corrections"]["unaccounted_files"]
    attention = list(csv.DictReader(io.StringIO((folder / "needs_attention.csv").read_text())))
    [row] = [r for r in attention if "neither" in r["note"]]
    assert "Look the row up in Claret" in row["advice"] and f"unaccounted/{lost}" in row["advice"]
    sent = list(csv.reader(io.StringIO((folder / "unaccounted" / lost).read_text())))
    assert len(sent) == 2 and sent[1][0] == row["item_name"]
    assert "neither Claret's output nor its errors file" in (folder / "report.md").read_text()

    sim.set_scenario("default")
    capsys.readouterr()
    assert main(["resubmit", str(folder), "--json", *common(sim, out)]) == ExitCode.OK
    planned = json.loads(capsys.readouterr().out)["files"]
    assert all("unaccounted" not in f["file"] for f in planned)
    argv = ["resubmit", str(folder / "unaccounted" / lost), "--confirm", "--json", *common(sim, out)]
    main(argv)
    [new] = json.loads(capsys.readouterr().out)["jobs"]
    assert new["counts"]["input_rows"] == 1
    assert ("resubmission_of", job) in [(k["relation"], k["job_log_id"]) for k in new["links"]]


def test_a_base_url_where_nothing_listens_is_given_up_at_the_first_poll(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Before Claret ever answered, a refused connection is not forgiven and polled again: exit 7 at once,
    naming the URL."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again at once: nothing listens there
    monkeypatch.setenv("CLARET_TOKEN", "1|not-a-real-token-at-all")
    base = f"http://127.0.0.1:{port}"
    argv = ["run", "5", "--tenant", "demo", "--base-url", base, "--out", str(tmp_path / "out")]
    with stamina.set_testing(True, attempts=2):
        code = main([*argv, "--poll-interval", "0.01"])
    said = capsys.readouterr()
    assert code == ExitCode.UNAVAILABLE
    assert f"{base}/demo/api/v1/imports/status/5" in said.out
    assert "status poll failed" in said.err or "status failed" in said.err  # the log is on stderr
    assert "polling again" not in said.err
