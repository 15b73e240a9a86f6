"""The reports tell what Claret said from what we guessed it means: a message read only by its cue words,
or not read at all, is marked in plain words in the job's and each owner's HTML and Markdown report, and
the counts come from summary.json's model. Plain job folders on disk, analysed for real."""

from __future__ import annotations

import csv
import html
import json
import re
from pathlib import Path

import openpyxl
from plain_jobs import plain_job

from claret_errors.config import Settings
from claret_errors.pipeline import analyze_job
from claret_errors.reconcile.advice import GUESSED
from claret_errors.report.tables import KNOWN_WORDING

OWNERS = Path(__file__).resolve().parents[1] / "fixtures" / "owners.example.toml"
RULE_MESSAGE = "The selected bin name is invalid."
GUESSED_MESSAGE = "The bin name does not exist in the system."
UNREAD_MESSAGE = "Row rejected by policy 17."


def _analysed(tmp_path: Path) -> Path:
    """A job whose three failed rows are read by a rule, by a guess, and not at all; its folder."""
    rows = [
        "122-16,SS-01,L1,2023-08-01,10,Gallon",
        "124,ss-01,L2,2023-08-02,5,Gallon",
        "125,ss-01,L3,2023-08-03,3,Gallon",
        "126,T-04,L4,2023-08-04,3,Gallon",
    ]
    failed = zip(rows[1:], (RULE_MESSAGE, GUESSED_MESSAGE, UNREAD_MESSAGE), strict=True)
    folder = plain_job(tmp_path / "job", rows, rows[:1], failed)
    result = analyze_job(folder, Settings(out=tmp_path / "out", owners=OWNERS), use_history=False)
    return result.folder


def _text(path: Path) -> str:
    """A report's words: HTML without tags and entities, Markdown without its emphasis and table pipes."""
    raw = path.read_text(encoding="utf-8")
    if path.suffix == ".html":
        raw = html.unescape(re.sub(r"<[^>]+>", " ", re.sub(r"<style.*?</style>", " ", raw, flags=re.S)))
    return " ".join(re.sub(r"[|_*]", " ", raw).split())


def test_guessed_and_unread_messages_are_marked_in_every_report(tmp_path: Path) -> None:
    """Job and owner reports, HTML and Markdown, say which reading is a guess and count messages as
    summary.json does."""
    folder = _analysed(tmp_path)
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    assert summary["classification"] == {"rule": 1, "guessed": 1, "none": 1}
    [guessed_line] = [c for c in summary["categories"] if c["guessed"]]
    assert (guessed_line["category"], guessed_line["field"], guessed_line["guessed"]) == (
        "unknown_reference",
        "bin_name",
        1,
    )
    reading = (
        f"Of Claret's 3 messages: 1 matched {KNOWN_WORDING}; 1 read by {GUESSED}, so check them; "
        "1 not understood (kept as Claret wrote them)."
    )
    for name in ("report.md", "report.html"):
        text = _text(folder / name)
        assert reading in text, name
        # the rule's and the guess's rows share a category line: it says how many of them were guessed
        assert f"1 of 2 records: {GUESSED}" in text, name
        assert "not understood: see Claret's words" in text, name
        assert f"{GUESSED_MESSAGE} (meaning: {GUESSED})" in text, name
        assert f"{RULE_MESSAGE} (meaning" not in text, name
    owner_pages = sorted(p for p in (folder / "owners").iterdir() if p.suffix in (".md", ".html"))
    marked = [p for p in owner_pages if f"(meaning: {GUESSED})" in _text(p)]
    assert {p.suffix for p in marked} == {".md", ".html"}  # the owner of the guessed row sees it marked
    for page in marked:
        assert re.search(
            rf"Of Claret's \d+ messages?: \d+ matched {KNOWN_WORDING}; 1 read by {GUESSED}", _text(page)
        )


def test_guessed_rows_are_marked_in_the_html_table_as_well_as_the_words(tmp_path: Path) -> None:
    """The uncertain reading is set apart on the page (class `guess`), not only in the text."""
    folder = _analysed(tmp_path)
    page = (folder / "report.html").read_text(encoding="utf-8")
    assert f'<td data-label="how we read it" class="guess">1 of 2 records: {GUESSED}</td>' in page
    assert f'<em class="guess">(meaning: {GUESSED})</em>' in page
    assert f'<td data-label="how we read it">{KNOWN_WORDING}</td>' not in page  # every line here is unsure


def test_a_todo_line_resting_on_a_guess_says_so(tmp_path: Path) -> None:
    """The action the guessed row gets is marked where people act on it: the to-do list, job and owner."""
    folder = _analysed(tmp_path)
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    [guessed] = [i for i in summary["todo"] if i["guessed"]]
    assert guessed["input_rows"] == [3] and guessed["guessed"] == guessed["rows"] == 1
    # the rule's row and the unread one rest on no guess
    assert sorted(i["input_rows"] for i in summary["todo"] if not i["guessed"]) == [[2], [4]]
    line = f"1 row: {guessed['action'][:1].lower()}{guessed['action'][1:]} ({GUESSED})"
    pages = [folder / "report.md", folder / "report.html", folder / "owners" / f"{guessed['owner']}.md"]
    for page in [*pages, folder / "owners" / f"{guessed['owner']}.html"]:
        assert line in _text(page).replace("( ", "(").replace(" )", ")"), page


def test_needs_attention_files_mark_a_guessed_action_and_an_unread_message(tmp_path: Path) -> None:
    """needs_attention.csv and the worksheets a person fixes rows in say which advice is only our guess,
    and that a message was not read at all; advice from a known wording stays unmarked."""
    folder = _analysed(tmp_path)
    with (folder / "needs_attention.csv").open(encoding="utf-8", newline="") as handle:
        advice = {int(r["input_row"]): r["advice"] for r in csv.DictReader(handle)}
    lead = "Our best guess from the wording: "
    assert advice[3].startswith(lead + "Choose a bin that exists in Claret"), advice
    assert advice[4].startswith("We could not read this message: read Claret's words"), advice
    assert lead not in advice[4]
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    owner = next(i["owner"] for i in summary["todo"] if i["input_rows"] == [3])
    for book in (folder / "needs_attention.xlsx", folder / "owners" / f"{owner}.xlsx"):
        sheet = openpyxl.load_workbook(book, read_only=True).worksheets[0]
        rows = list(sheet.iter_rows(values_only=True))
        header = [str(h) for h in rows[0]]
        shown = {int(str(r[0])): str(r[header.index("advice")]) for r in rows[1:]}
        assert shown[3] == advice[3] and shown[4] == advice[4], book
    # only the row read by cue words is marked, whatever else the file holds
    assert [row for row, text in advice.items() if text.startswith(lead)] == [3]


def test_a_message_whose_field_alone_was_guessed_is_not_called_a_guessed_action(tmp_path: Path) -> None:
    """ "The bin name was refused." names a column but no meaning: its advice says we could not read it, and
    neither the to-do list nor needs_attention.csv calls that advice our best guess."""
    row = "126,T-04,L4,2023-08-04,3,Gallon"
    folder = plain_job(tmp_path / "job", [row], [], [(row, "The bin name was refused.")])
    out = analyze_job(folder, Settings(out=tmp_path / "out", owners=OWNERS), use_history=False).folder
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["classification"] == {"rule": 0, "guessed": 1, "none": 0}  # its field was guessed
    [item] = summary["todo"]
    assert item["action"].startswith("We could not read this message") and item["guessed"] == 0
    assert "Our best guess" not in (out / "needs_attention.csv").read_text(encoding="utf-8")
    for page in (out / "report.md", out / "report.html"):
        assert f"unclear. ({GUESSED})" not in _text(page), page
