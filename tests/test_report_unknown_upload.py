"""A resend whose answer Claret lost is shown in the job's report and the run index, in plain words, from
the ledger fact `resubmit` holds the file back by; once settled, the reports stop saying it. Against the
simulator over real sockets, files on disk."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pytest
from cli_rounds import FIXES, MASTER, common, csv_rows, edit, first_round, fixable

from claret_errors.cli import main
from claret_errors.errors import ExitCode
from claret_errors.simulator import Simulator
from claret_errors.simulator.scenario import FaultRule, Scenario

OWNERS = Path(__file__).resolve().parents[1] / "fixtures" / "owners.example.toml"


def _words(path: Path) -> str:
    """A report's words: HTML without tags and entities, Markdown without its bold and escapes."""
    raw = path.read_text(encoding="utf-8")
    if path.suffix == ".html":
        raw = html.unescape(re.sub(r"<[^>]+>", " ", re.sub(r"<style.*?</style>", " ", raw, flags=re.S)))
    return " ".join(re.sub(r"[*\\]", "", raw).split())


def _lost_answer(sim: Simulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[Path, str, int]:
    """A first round, then a resend whose answer is dropped; the job folder, the file sent and its rows."""
    folder = first_round(sim, tmp_path, capsys)
    sim.set_scenario(Scenario(faults=(FaultRule("upload", "drop", first=1),)))
    argv = ["resubmit", str(folder), "--confirm", "--json", *common(sim, tmp_path)]
    assert main(argv) == ExitCode.UNAVAILABLE
    doc = json.loads(capsys.readouterr().out)
    [unsure] = doc["outcome_unknown"]
    [planned] = [f for f in doc["files"] if f["file"] == unsure["file"]]
    return folder, Path(unsure["file"]).name, int(planned["records"])


def test_a_lost_resend_is_shown_in_the_job_report_and_the_run_index(
    sim: Simulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Right after the lost answer, the original's reports, its owners' pages and the index say the resend
    of N rows may or may not have reached Claret, and how to settle it; none tells the runner to upload it
    again as is."""
    folder, name, rows = _lost_answer(sim, tmp_path, capsys)
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    [recorded] = summary["outcome_unknown"]
    assert (recorded["file"], recorded["rows"]) == (name, rows)
    said = f"A resend of {rows:,} rows from {name}"
    for report in (folder / "report.html", folder / "report.md"):
        text = _words(report)
        assert f"{said}, started" in text and "may or may not have reached Claret" in text, report
        assert "--sent-as JOB_ID" in text and "--confirm --force" in text, report
        assert "re-upload the corrected files" not in text, report  # it may be in Claret already
    pages = sorted((folder / "owners").glob("*.md")) + sorted((folder / "owners").glob("*.html"))
    assert pages  # the ledger knows the file, not whose rows it holds: every owner's page says it
    for page in pages:
        text = _words(page)
        assert f"{said}, started" in text and "It may hold rows of yours" in text, page
        assert "--sent-as JOB_ID" in text, page
    for index in (folder.parent / "index.html", folder.parent / "index.md"):
        text = _words(index)
        assert f"a resend of {rows:,} rows from {name} may or may not have reached Claret" in text, index
        assert "1 resend with an unknown outcome" in text, index


def test_a_settled_resend_is_no_longer_shown_as_unknown(
    sim: Simulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Sent again with --force, the resend is a job: the reports drop the unknown-outcome note."""
    folder, _, _ = _lost_answer(sim, tmp_path, capsys)
    argv = ["resubmit", str(folder), "--confirm", "--force", "--json", *common(sim, tmp_path)]
    assert main(argv) == ExitCode.OK
    capsys.readouterr()
    assert json.loads((folder / "summary.json").read_text(encoding="utf-8"))["outcome_unknown"] == []
    owners = sorted((folder / "owners").glob("*.html"))
    for report in (folder / "report.html", folder / "report.md", folder.parent / "index.html", *owners):
        assert "may or may not have reached Claret" not in _words(report), report


def test_a_lost_worksheet_resend_is_shown_to_the_owners_whose_rows_it_holds(
    sim: Simulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A worksheet's edited file names its rows: the owners whose rows it holds are told how many of them
    may be in Claret already; an owner with none of its rows is not told about it."""
    (tmp_path / "claret-errors.toml").write_text(f'master_data = "{MASTER}"\nowners = "{OWNERS}"\n')
    folder = first_round(sim, tmp_path, capsys)
    owner_of = {int(r["input_row"]): r["owner"] for r in csv_rows(folder / "failed_records.csv")}
    rows = fixable(folder)
    mine = next(iter(rows))
    owner = owner_of[mine]
    sent = [r for r in rows if owner_of[r] == owner][:3]
    others = {o for o in owner_of.values() if o != owner}
    assert others, owner_of  # an owner with no row in the file, whose page must not name it
    edit(folder / "needs_attention.xlsx", {(r, rows[r]): FIXES[rows[r]] for r in sent})
    sim.set_scenario(Scenario(faults=(FaultRule("upload", "drop", first=1),)))
    argv = ["resubmit", str(folder / "needs_attention.xlsx"), "--confirm", "--json", *common(sim, tmp_path)]
    assert main(argv) == ExitCode.UNAVAILABLE
    capsys.readouterr()

    [recorded] = json.loads((folder / "summary.json").read_text(encoding="utf-8"))["outcome_unknown"]
    assert recorded["input_rows"] == sorted(sent)
    said = f"A resend of {len(sent)} rows from {recorded['file']}"
    for page in sorted((folder / "owners").glob("*.md")) + sorted((folder / "owners").glob("*.html")):
        text = _words(page)
        if page.stem == owner:
            assert f"{said}, started" in text and f"{len(sent)} of its rows are yours" in text, page
        else:
            assert "may or may not have reached Claret" not in text, page
    assert f"{said}, started" in _words(folder / "report.md")
