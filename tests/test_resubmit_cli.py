"""`claret-errors resubmit` against the simulator: the plan without --confirm, the second round with it,
the ledger that refuses to send a file twice, and the links in both jobs' summaries."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from cli_rounds import common, first_round

from claret_errors.cli import main
from claret_errors.errors import ExitCode
from claret_errors.simulator import Simulator


def records(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"), newline="")))[1:]


def test_without_confirm_it_only_shows_the_plan(
    sim: Simulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = first_round(sim, tmp_path, capsys)
    [corrected] = sorted((folder / "corrected").iterdir())
    assert main(["resubmit", str(folder), *common(sim, tmp_path)]) == ExitCode.OK
    out = capsys.readouterr().out
    assert f"{corrected} ({len(records(corrected))} records, from job {folder.name}): would be sent" in out
    assert "add --confirm to send" in out
    assert not (folder.parent / "resubmissions.json").exists()


def test_confirmed_the_fixed_rows_land_and_both_jobs_are_linked(
    sim: Simulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = first_round(sim, tmp_path, capsys)
    original = json.loads((folder / "summary.json").read_text())
    attention = {r[0] for r in records(folder / "needs_attention.csv")}
    code = main(["resubmit", str(folder), "--confirm", "--json", *common(sim, tmp_path)])
    doc = json.loads(capsys.readouterr().out)
    [new] = doc["jobs"]
    assert code == ExitCode.OK == doc["exit_code"] and new["exit_code"] == 0
    assert new["counts"]["failed"] == 0 and new["counts"]["unaccounted"] == 0
    assert new["counts"]["imported"] == original["corrections"]["auto_fixed_rows"] > 0
    assert attention and new["counts"]["input_rows"] == sum(f["records"] for f in doc["files"])
    assert new["links"][0]["relation"] == "resubmission_of" and new["links"][0]["job_log_id"] == folder.name
    again = json.loads((folder / "summary.json").read_text())
    assert [(link["relation"], link["job_log_id"]) for link in again["links"]] == [
        ("resubmitted_as", new["job_log_id"])
    ]
    href = f'href="../{new["job_log_id"]}/report.html"'
    assert href in (folder / "report.html").read_text()
    assert (folder / ".." / new["job_log_id"] / "report.html").is_file()  # the link leads somewhere
    back = Path(new["folder"]) / "report.html"
    assert f'href="../{folder.name}/report.html"' in back.read_text()
    index = (folder.parent / "index.md").read_text()
    assert f"{new['job_log_id']}/report.md" in index and f"{folder.name}/report.md" in index


def test_the_ledger_refuses_a_second_send_unless_forced(
    sim: Simulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = first_round(sim, tmp_path, capsys)
    argv = ["resubmit", str(folder), "--confirm", *common(sim, tmp_path)]
    assert main(argv) == ExitCode.OK
    capsys.readouterr()
    ledger = folder.parent / "resubmissions.json"
    assert len(json.loads(ledger.read_text())["sent"]) == 1
    assert main(argv) == ExitCode.OK
    assert "skipped: sent before as job" in capsys.readouterr().out
    assert len(json.loads(ledger.read_text())["sent"]) == 1
    # Forced, the same records go again; they exist now and updates are off, so Claret refuses each one.
    assert main([*argv, "--force", "--json"]) == ExitCode.RECORDS_FAILED
    [new] = json.loads(capsys.readouterr().out)["jobs"]
    assert new["counts"]["failed"] == new["counts"]["input_rows"] > 0
    assert {c["category"] for c in new["categories"]} == {"not_allowed"}
    assert len(json.loads(ledger.read_text())["sent"]) == 2


def test_files_from_outside_the_job_folder_are_refused(
    sim: Simulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = first_round(sim, tmp_path, capsys)
    outside = tmp_path / "outside.csv"
    outside.write_text("item_name,bin_name\nx,y\n")
    (folder / "corrected" / "zz_link.csv").symlink_to(outside)
    assert main(["resubmit", str(folder), "--confirm", *common(sim, tmp_path)]) == ExitCode.USAGE
    assert "symbolic link" in capsys.readouterr().err
    assert not (folder.parent / "resubmissions.json").exists()


def test_bad_targets_are_usage_errors(
    sim: Simulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = first_round(sim, tmp_path, capsys)
    bare = tmp_path / "bare"
    bare.mkdir()
    assert main(["resubmit", str(bare), *common(sim, tmp_path)]) == ExitCode.USAGE
    assert "holds no summary.json" in capsys.readouterr().err
    assert main(["resubmit", str(folder), "--tenant", "other", *common(sim, tmp_path)]) == ExitCode.USAGE
    assert "is a job of tenant 'demo'" in capsys.readouterr().err
    assert main(["resubmit", str(folder / "summary.json"), *common(sim, tmp_path)]) == ExitCode.USAGE
    assert "not a corrected file" in capsys.readouterr().err


def test_the_ledger_records_the_bytes_actually_sent(
    sim: Simulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A corrected file edited between the plan and the send is recorded by what was sent."""
    import asyncio
    import hashlib

    from claret_errors.claret.client import ClaretClient
    from claret_errors.config import Settings
    from claret_errors.resubmit.send import plan, send

    folder = first_round(sim, tmp_path, capsys)
    settings = Settings(tenant="demo", base_url=sim.base_url, token=sim.mint_token(), out=tmp_path / "out")
    [planned] = plan([folder], settings)
    edited = planned.file.read_bytes().replace(b"\r\n", b"\n")  # re-saved with LF line ends
    planned.file.write_bytes(edited)

    async def go() -> None:
        async with ClaretClient(settings) as client:
            await send([planned], settings, client, force=False)

    asyncio.run(go())
    [entry] = json.loads((folder.parent / "resubmissions.json").read_text())["sent"]
    assert entry["sha256"] == hashlib.sha256(edited).hexdigest() != planned.sha256
