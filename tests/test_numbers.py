"""Every number a report shows, against the one counts model: each simulator scenario is run and analysed,
then the numbers of every Markdown and HTML artifact (job reports, owner reports, the run index and its
trends) and of the CLI's lines are parsed and checked against summary.json and the accounting identities:
input = imported + failed + unaccounted; owners' failed records sum to the job's; a night's outstanding
rows = failed + unaccounted - landed on resubmission."""

from __future__ import annotations

import csv
import html
import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from cli_rounds import FIXES, MASTER, Resubmit, edit, first_round, fixable
from plain_jobs import plain_job

from claret_errors.cli import main
from claret_errors.config import Settings
from claret_errors.errors import ExitCode
from claret_errors.pipeline import analyze_job
from claret_errors.simulator import Simulator, make_nightly_csv
from claret_errors.simulator.scenario import FaultRule, Scenario

SCENARIOS = sorted(
    p.stem for p in (Path(__file__).resolve().parents[1] / "fixtures" / "scenarios").glob("*.toml")
)
OWNERS = Path(__file__).resolve().parents[1] / "fixtures" / "owners.example.toml"
COUNT_KEYS = ("input_rows", "imported", "failed", "unaccounted", "anomalies")
NUMBER = r"(\d[\d,]*)"


pytestmark = pytest.mark.usefixtures("no_claret_env")


def n(text: str) -> int:
    return int(text.replace(",", ""))


def text_of(path: Path) -> str:
    """An artifact's words: Markdown as it is, HTML without tags and entities, whitespace made single."""
    raw = path.read_text(encoding="utf-8")
    if path.suffix == ".html":
        raw = re.sub(r"<style.*?</style>|<svg.*?</svg>", " ", raw, flags=re.S)
        raw = html.unescape(re.sub(r"<[^>]+>", " ", raw))
    return re.sub(r"[\s*|\\]+", " ", raw)


def md_table(path: Path, first_header: str) -> list[dict[str, str]]:
    """The rows of the first Markdown table whose first header is `first_header`, as header -> cell."""
    lines = path.read_text(encoding="utf-8").splitlines()
    for i, line in enumerate(lines):
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("|") and cells[0] == first_header:
            rows = []
            for body in lines[i + 2 :]:
                if not body.startswith("|"):
                    break
                rows.append(
                    dict(zip(cells, (c.strip() for c in body.strip().strip("|").split("|")), strict=True))
                )
            return rows
    return []


def check_headline(text: str, counts: dict[str, int], where: Path) -> None:
    """A job's verdict: its numbers are summary.json's, and they add up."""
    landed = re.search(rf"Every one of the {NUMBER} rows landed", text)
    lost = re.search(
        rf"{NUMBER} of {NUMBER} rows did not land: {NUMBER} failed, {NUMBER} unaccounted for", text
    )
    if landed:
        assert n(landed[1]) == counts["input_rows"] and counts["failed"] + counts["unaccounted"] == 0, where
    else:
        assert lost, f"{where}: no verdict"
        assert [n(g) for g in lost.groups()] == [
            counts["failed"] + counts["unaccounted"],
            counts["input_rows"],
            counts["failed"],
            counts["unaccounted"],
        ], where


def check_reading(text: str, classified: dict[str, int] | None, where: Path) -> None:
    """How Claret's messages were read: the parts add up to the total, and are summary.json's when given."""
    found = re.search(
        rf"Of Claret's {NUMBER} messages?: {NUMBER} matched a known Claret wording"
        rf"(?:; {NUMBER} read by our best guess from the wording, so check them)?"
        rf"(?:; {NUMBER} not understood)?",
        text,
    )
    if classified is not None and not sum(classified.values()):
        assert found is None and "Of Claret's" not in text, where
        return
    assert found, f"{where}: no line on how messages were read"
    total, rule, guessed, none = (n(g) if g else 0 for g in found.groups())
    assert total == rule + guessed + none, where
    if classified is not None:
        assert (rule, guessed, none) == (classified["rule"], classified["guessed"], classified["none"]), where


def check_categories(path: Path, categories: list[dict[str, Any]]) -> None:
    """Each line of the categories table: its records, and how many of them were only guessed, as the model
    counts them."""
    model = {(c["category"], c["field"] or "—"): (c["records"], c["guessed"]) for c in categories}
    for row in md_table(path, "category"):
        how = row["how we read it"].strip("_")
        part = re.fullmatch(rf"{NUMBER} of {NUMBER} records: our best guess from the wording", how)
        records = n(row["records"])
        guessed = n(part[1]) if part else records if how == "our best guess from the wording" else 0
        if part:
            assert n(part[2]) == records, (path, row)
        assert model[(row["category"], row["field"])] == (records, guessed), (path, row)


def csv_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def owners_messages(folder: Path) -> dict[str, list[dict[str, str]]]:
    """messages.csv's lines by the owner of their failed record (failed_records.csv; blank is
    `unassigned`), as each owner's page counts them."""
    owner_of = {
        r["input_row"]: r.get("owner", "").strip() or "unassigned"
        for r in csv_rows(folder / "failed_records.csv")
    }
    mine: dict[str, list[dict[str, str]]] = {}
    for line in csv_rows(folder / "messages.csv"):
        mine.setdefault(owner_of.get(line["input_row"], "unassigned"), []).append(line)
    return mine


def classified(lines: list[dict[str, str]]) -> dict[str, int]:
    """Messages by how they were read, counted from messages.csv's `confidence`."""
    return {k: sum(line["confidence"] == k for line in lines) for k in ("rule", "guessed", "none")}


def category_lines(lines: list[dict[str, str]]) -> list[dict[str, Any]]:
    """Category lines as summary.json gives them, counted from messages.csv: records and guessed records."""
    rows: dict[tuple[str, str], tuple[set[str], set[str]]] = {}
    for line in lines:
        records, guessed = rows.setdefault((line["category"], line["field"]), (set(), set()))
        records.add(line["input_row"])
        if line["confidence"] == "guessed":
            guessed.add(line["input_row"])
    return [
        {"category": c, "field": f, "records": len(r), "guessed": len(g)} for (c, f), (r, g) in rows.items()
    ]


def check_todo_guesses(path: Path, todo: list[dict[str, Any]]) -> int:
    """Each to-do line marked as resting on a guess counts the rows summary.json's todo says; the number
    of lines checked."""
    model = {(i["rows"], i["action"][:1].lower() + i["action"][1:]): i["guessed"] for i in todo}
    checked = 0
    for line in text_of(path).split("- "):
        found = re.match(
            rf"{NUMBER} rows? ?: (.+?) _?\((?:{NUMBER} of these rows: )?our best guess from the wording\)",
            line,
        )
        if found:
            rows = n(found[1])
            guessed = n(found[3]) if found[3] else rows
            assert model.get((rows, found[2])) == guessed, (path, line)
            checked += 1
    return checked


def landed_lines(path: Path, whose: str) -> Counter[str]:
    """Rows a report says a resubmission imported since, by job: `12 of the failed rows have since...`."""
    found = re.findall(
        rf"{NUMBER} of {whose} failed rows ha(?:s|ve) since been imported by job (\S+)", text_of(path)
    )
    assert len({job for _, job in found}) == len(found), path  # one line a job
    return Counter({job: n(rows) for rows, job in found})


def check_job(folder: Path) -> dict[str, Any]:
    """One job folder's reports against its summary.json; returns the summary."""
    summary: dict[str, Any] = json.loads((folder / "summary.json").read_text())
    counts = summary["counts"]
    if summary["error"] is not None:
        assert "could not be analysed" in text_of(folder / "report.md")
        return summary
    assert counts["imported"] + counts["failed"] + counts["unaccounted"] == counts["input_rows"], folder
    fixes = summary["corrections"]
    assert fixes["auto_fixed_rows"] + fixes["suggested_rows"] + fixes["manual_rows"] == counts["failed"], (
        folder
    )
    for name in ("report.md", "report.html"):
        check_headline(text_of(folder / name), counts, folder / name)
        check_reading(text_of(folder / name), summary["classification"], folder / name)
    check_categories(folder / "report.md", summary["categories"])
    [row] = md_table(folder / "report.md", "input rows")
    assert [
        n(row[h]) for h in ("input rows", "imported", "failed records", "unaccounted rows", "anomalies")
    ] == [counts[k] for k in COUNT_KEYS]
    page = (folder / "report.html").read_text()
    for label, key in (
        ("input rows", "input_rows"),
        ("failed records", "failed"),
        ("unaccounted rows", "unaccounted"),
    ):
        [shown] = re.findall(rf"<dt>{label}</dt><dd>{NUMBER}</dd>", page)
        assert n(shown) == counts[key], (folder, label)
    to_fix = [
        n(m)
        for m in re.findall(rf"\*\*[^*:]+: {NUMBER} rows? to fix\*\*", (folder / "report.md").read_text())
    ]
    landed = Counter(str(r["job_log_id"]) for r in summary["landed_on_resubmission"])
    for name in ("report.md", "report.html"):
        assert landed_lines(folder / name, "the") == landed, folder / name
    assert sum(to_fix) == fixes["suggested_rows"] + fixes["manual_rows"] - landed.total(), folder
    check_todo_guesses(folder / "report.md", summary["todo"])
    owners = sorted((folder / "owners").glob("*.md")) if (folder / "owners").is_dir() else []
    by_owner = owners_messages(folder)
    yours = []
    owners_landed: Counter[str] = Counter()
    rows_of_owner: dict[str, set[int]] = {}
    if owners:
        for r in csv_rows(folder / "failed_records.csv"):
            rows_of_owner.setdefault(r["owner"], set()).add(int(r["input_row"]))
    for owner in owners:
        owners_landed += landed_lines(owner, "your")
        assert landed_lines(owner.with_suffix(".html"), "your") == landed_lines(owner, "your"), owner
        text = text_of(owner)
        mine = re.search(rf"{NUMBER} rows? of yours failed", text)
        assert mine, owner
        yours.append(n(mine[1]))
        check_headline(text, counts, owner)
        name = re.match(r"# .* records for (.+)", owner.read_text(encoding="utf-8").splitlines()[0])
        assert name, owner
        lines = by_owner.get(name[1], [])
        check_reading(text, classified(lines), owner)
        check_categories(owner, category_lines(lines))
        check_todo_guesses(owner, [i for i in summary["todo"] if i["owner"] == name[1]])
        page_text = text_of(owner.with_suffix(".html"))
        check_reading(page_text, classified(lines), owner.with_suffix(".html"))
        assert f"{mine[1]} row" in page_text, owner
        held = [
            len(set(u["input_rows"]) & rows_of_owner.get(name[1], set()))
            for u in summary["outcome_unknown"]
            if u["input_rows"] is not None
        ]
        for said in (text, page_text):
            assert [n(m) for m in re.findall(rf"{NUMBER} of its rows (?:is|are) yours", said)] == [
                h for h in held if h
            ], owner
    assert sum(yours) == (counts["failed"] if owners else 0), folder
    assert owners_landed == (landed if owners else Counter()), folder
    return summary


def check_index(tenant_dir: Path, summaries: dict[str, dict[str, Any]]) -> None:
    """The run index: each job's row is its summary, the totals follow the identities of a night."""
    analysed = {k: s for k, s in summaries.items() if s["error"] is None}
    resent = {
        k
        for k, s in analysed.items()
        if any(x["relation"] == "resubmission_of" and x["job_log_id"] in summaries for x in s["links"])
    }
    first = [s["counts"] for k, s in analysed.items() if k not in resent]
    landed = sum(analysed[k]["counts"]["imported"] for k in resent)
    failed = sum(c["failed"] for c in first)
    unaccounted = sum(c["unaccounted"] for c in first)
    outstanding = failed + unaccounted - landed
    [totals] = md_table(tenant_dir / "index.md", "input rows")
    assert {h: n(v) for h, v in totals.items()} == {
        "input rows": sum(c["input_rows"] for c in first),
        "imported on first sending": sum(c["imported"] for c in first),
        "failed records": failed,
        "unaccounted rows": unaccounted,
        "landed on resubmission": landed,
        "still outstanding": outstanding,
        "anomalies": sum(s["counts"]["anomalies"] for s in analysed.values()),
    }
    assert n(totals["input rows"]) == failed + unaccounted + n(totals["imported on first sending"])
    for name in ("index.md", "index.html"):
        text = text_of(tenant_dir / name)
        if outstanding:
            assert f"{outstanding:,} of {n(totals['input rows']):,} rows are still outstanding" in text, name
            assert "Every one" not in text, name
        else:
            assert f"Every one of the {n(totals['input rows']):,} rows landed" in text, name
    page = (tenant_dir / "index.html").read_text()
    for label, value in (
        ("failed records", failed),
        ("unaccounted rows", unaccounted),
        ("landed on resubmission", landed),
        ("still outstanding", outstanding),
    ):
        [shown] = re.findall(rf"<dt>{label}</dt><dd>{NUMBER}</dd>", page)
        assert n(shown) == value, (tenant_dir, label)
    jobs = md_table(tenant_dir / "index.md", "job")
    assert sorted(r["job"] for r in jobs) == sorted(summaries)
    for row in jobs:
        counts = summaries[row["job"]]["counts"]
        if row["input rows"].strip("'") != "-":
            assert [n(row[h]) for h in ("input rows", "imported", "failed records", "unaccounted rows")] == [
                counts[k] for k in COUNT_KEYS[:4]
            ]
    [night] = md_table(tenant_dir / "index.md", "night")
    assert [
        n(night[h]) for h in ("input rows", "failed records", "landed on resubmission", "still outstanding")
    ] == [
        n(totals["input rows"]),
        failed,
        landed,
        outstanding,
    ]


def check_cli(lines: list[str], summaries: dict[str, dict[str, Any]]) -> None:
    """The CLI's line of each analysed job says what summary.json says."""
    for line in lines:
        found = re.match(
            rf"job (\S+) \([^)]*\): \w+, {NUMBER} rows, {NUMBER} imported, {NUMBER} failed records", line
        )
        if found:
            counts = summaries[found[1]]["counts"]
            assert [n(g) for g in found.groups()[1:]] == [counts[k] for k in COUNT_KEYS[:3]], line


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_every_number_shown_agrees_with_the_model(
    scenario: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Run a scenario's night (and, with corrected files, its resubmission), then check every artifact."""
    out = tmp_path / "out"
    (tmp_path / "claret-errors.toml").write_text(f'master_data = "{MASTER}"\nowners = "{OWNERS}"\n')
    with Simulator(scenario, seed=41, speed=0.0) as sim:
        monkeypatch.setenv("CLARET_EMAIL", sim.email)
        monkeypatch.setenv("CLARET_PASSWORD", sim.password)
        jobs = [str(sim.submit_csv(make_nightly_csv(40, seed=41 + i, error_share=0.25))) for i in range(2)]
        common = [
            "--tenant",
            sim.tenant,
            "--base-url",
            sim.base_url,
            "--out",
            str(out),
            "--poll-interval",
            "0.01",
        ]
        code = main(["run", *jobs, *common, "--max-wait", "0.5"])
        assert code in (
            ExitCode.OK,
            ExitCode.RECORDS_FAILED,
            ExitCode.JOB_FAILED,
            ExitCode.WAIT_TIMEOUT,
            7,
            8,
        )
        tenant_dir = out / sim.tenant
        if any((tenant_dir / j / "corrected").is_dir() for j in jobs) and scenario in ("default", "demo"):
            first = next(j for j in jobs if (tenant_dir / j / "corrected").is_dir())
            main(["resubmit", str(tenant_dir / first), "--confirm", *common])
    lines = capsys.readouterr().out.splitlines()
    folders = [p for p in tenant_dir.iterdir() if (p / "summary.json").is_file()]
    summaries = {p.name: check_job(p) for p in folders}
    check_index(tenant_dir, summaries)
    check_cli(lines, summaries)


def test_guessed_readings_are_counted_as_the_model_counts_them(tmp_path: Path) -> None:
    """No scenario's wording is only guessed: a job on disk whose bin messages are read by a rule and by a
    guess shows, in every report, the reading and to-do counts summary.json and messages.csv give."""
    rows = [f"12{i},XX-9{i},L{i},2023-08-0{i},{i},Gallon" for i in range(1, 6)]
    said = ["The selected bin name is invalid."] * 2 + ["The bin name does not exist in the system."] * 2
    folder = plain_job(tmp_path / "job", rows, rows[4:], zip(rows, said, strict=False))
    result = analyze_job(folder, Settings(out=tmp_path / "out", owners=OWNERS), use_history=False)
    summary = check_job(result.folder)
    assert summary["classification"] == {"rule": 2, "guessed": 2, "none": 0}
    # one to-do line for the four rows, two of them resting on the guess: its count is checked above
    [line] = [i for i in summary["todo"] if i["guessed"]]
    assert (line["rows"], line["guessed"]) == (4, 2)
    assert check_todo_guesses(result.folder / "report.md", summary["todo"]) == 1


def test_rows_landed_since_are_counted_as_summary_lists_them(
    sim: Simulator, tmp_path: Path, capsys: pytest.CaptureFixture[str], resubmit: Resubmit
) -> None:
    """No scenario resends a worksheet: after a worksheet round with owners, the original's reports and its
    owners' pages say how many rows each resubmission imported since, as landed_on_resubmission lists them,
    and the to-do counts leave exactly those rows out; after a resend whose answer is lost, each owner's
    page says how many of its rows are theirs, as outcome_unknown's input_rows and failed_records.csv."""
    (tmp_path / "claret-errors.toml").write_text(f'master_data = "{MASTER}"\nowners = "{OWNERS}"\n')
    folder = first_round(sim, tmp_path, capsys)
    rows = fixable(folder)
    fixed = list(rows)[:5]
    edit(folder / "needs_attention.xlsx", {(r, rows[r]): FIXES[rows[r]] for r in fixed})
    code, out, _ = resubmit(str(folder / "needs_attention.xlsx"), "--confirm", "--json")
    assert code in (ExitCode.OK, ExitCode.RECORDS_FAILED), out
    summary = check_job(folder)
    assert sorted(r["input_row"] for r in summary["landed_on_resubmission"]) == fixed
    assert len(list((folder / "owners").glob("*.md"))) > 1  # the lines are split among several owners
    check_job(folder.parent / json.loads(out)["jobs"][0]["job_log_id"])

    # More rows resent, the answer lost: owners are told how many of their rows the resend holds.
    more = [r for r in rows if r not in fixed][:6]
    edit(folder / "needs_attention.xlsx", {(r, rows[r]): FIXES[rows[r]] for r in more})
    sim.set_scenario(Scenario(faults=(FaultRule("upload", "drop", first=1),)))
    code, out, _ = resubmit(str(folder / "needs_attention.xlsx"), "--confirm")
    assert code == ExitCode.UNAVAILABLE, out
    summary = check_job(folder)
    [unsure] = summary["outcome_unknown"]
    assert unsure["input_rows"] == more
