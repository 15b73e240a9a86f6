"""The hostile fixture: markup, pipes, backticks and formulas from CSVs and messages stay inert text."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from claret_errors.report.markdown import escape, md_table
from claret_errors.report.write import write_job_reports
from claret_errors.results import JobResult

HOSTILE_TEXT = (
    "<script>alert(1)</script>",
    "</table>",
    "a|b|c",
    "=cmd|' /C calc'!A0",
    "`rm -rf`",
    "<img src=x onerror=alert(2)>",
)


class Structure(HTMLParser):
    """Tags, event-handler attributes, text, and the rows and cells of each table."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.handlers: list[str] = []
        self.hrefs: list[str] = []
        self.text: list[str] = []
        self.tables: list[list[int]] = []  # per table: cells of each row

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.handlers += [k for k, _ in attrs if k.startswith("on")]
        self.hrefs += [v or "" for k, v in attrs if k == "href"]
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append(0)
        elif tag in ("td", "th") and self.tables and self.tables[-1]:
            self.tables[-1][-1] += 1

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def structure(html: str) -> Structure:
    parsed = Structure()
    parsed.feed(html)
    return parsed


def render_md(text: str) -> str:
    """GFM-like rendering with raw HTML allowed, as a ticket system might: escaping must not rely on it."""
    return MarkdownIt("gfm-like", options_update={"linkify": False, "html": True}).render(text)


def test_hostile_cells_are_text_in_html(hostile_result: JobResult) -> None:
    """Markup in a cell or message must show as text: no element, no handler, no javascript: link."""
    written = write_job_reports(hostile_result, hostile_result.folder)
    for path in (p for p in written if p.suffix == ".html"):
        page = structure(path.read_text())
        assert not {"script", "img", "iframe", "object", "b"} & set(page.tags), path
        assert page.handlers == [], path
        assert not [h for h in page.hrefs if h.strip().lower().startswith("javascript")], path
    text = "".join(structure((hostile_result.folder / "report.html").read_text()).text)
    for hostile in HOSTILE_TEXT:
        assert hostile in text


def test_hostile_cells_do_not_break_html_tables(hostile_result: JobResult) -> None:
    """A `</table>` in a cell must not end the table: the failed records keep one row per record."""
    write_job_reports(hostile_result, hostile_result.folder)
    page = structure((hostile_result.folder / "report.html").read_text())
    # one table per to-do line, one record each: row, 6 columns, Claret's words (and any suggestion)
    records = [t for t in page.tables if t and t[0] in (8, 9)]
    assert sorted(records) == [[8, 8], [9, 9], [9, 9]]


def test_hostile_markdown_keeps_its_tables_and_renders_no_html(hostile_result: JobResult) -> None:
    """Pasted into a ticket, the Markdown must keep every row and column and carry no live HTML."""
    write_job_reports(hostile_result, hostile_result.folder)
    md = (hostile_result.folder / "report.md").read_text()
    rendered = render_md(md)
    page = structure(rendered)
    assert not {"script", "img", "b", "a"} & set(page.tags)
    records = [t for t in page.tables if t and t[0] in (8, 9)]
    assert sorted(records) == [[8, 8], [9, 9], [9, 9]]
    assert all(len(set(t)) == 1 for t in page.tables), "a row lost or gained cells"
    text = "".join(page.text)
    assert "<script>alert(1)</script>" in text
    assert "a|b|c" in text
    assert "`rm -rf`" in text


def test_markdown_cells_defuse_spreadsheet_formulas(hostile_result: JobResult) -> None:
    """A cell pasted from the Markdown into a spreadsheet must not run as a formula."""
    write_job_reports(hostile_result, hostile_result.folder)
    md = (hostile_result.folder / "report.md").read_text()
    assert "'=cmd\\|' /C calc'!A0" in md
    assert "'+SUM(A1:A9)" in md
    assert "'@HYPERLINK" in md
    assert "| =cmd" not in md


def test_hostile_owners_get_confined_report_files(hostile_result: JobResult) -> None:
    """An owner called `../../etc/<script>` must get a file inside owners/, never elsewhere."""
    written = write_job_reports(hostile_result, hostile_result.folder)
    owners_dir = (hostile_result.folder / "owners").resolve()
    owner_files = [p for p in written if p.parent.name == "owners"]
    assert len(owner_files) == 6
    assert all(p.resolve().parent == owners_dir for p in owner_files)
    assert all(
        set(p.stem) <= set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_")
        for p in owner_files
    )


def test_hostile_fixture_file_holds_the_attacks() -> None:
    """The fixture must keep its teeth: a cleaned-up fixture would make the tests above pass vacuously."""
    raw = (Path(__file__).resolve().parent.parent / "fixtures" / "hostile" / "failed_records.csv").read_text()
    for hostile in ("<script>alert(1)</script>", "</table>", "=cmd|' /C calc'!A0", "`rm -rf`", "javascript:"):
        assert hostile in raw


@settings(max_examples=150, deadline=None)
@given(st.lists(st.text(max_size=40), min_size=3, max_size=3))
def test_any_cell_text_keeps_a_gfm_table_whole_and_inert(cells: list[str]) -> None:
    """Whatever a CSV holds, each cell stays one cell of one row and never becomes HTML."""
    rendered = render_md(md_table(["a", "b", "c"], [cells, ["x", "y", "z"]]))
    page = structure(rendered)
    assert page.tables == [[3, 3, 3]]
    assert set(page.tags) <= {"table", "thead", "tbody", "tr", "th", "td", "em", "strong", "s", "code"}


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [
        ("a|b", "a\\|b"),
        ("`x`", "\\`x\\`"),
        ("<b>&", "\\<b>&"),
        ("a > b & c", "a > b & c"),
        ("&amp;", "\\&amp;"),
        ("# not a heading", "\\# not a heading"),
        ("> not a quote", "\\> not a quote"),
        ("1. not a list", "1\\. not a list"),
        ("12.5", "12.5"),
        ("_x_ and *y*", "\\_x\\_ and \\*y\\*"),
        ("bin_name", "bin_name"),
        ("[x](javascript:y)", "\\[x\\](javascript:y)"),
        ("=1+1", "'=1+1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("-5", "-5"),
        ("two\nlines", "two lines"),
        ("back\\slash", "back\\\\slash"),
    ],
)
def test_markdown_escape_of_one_cell(raw: str, escaped: str) -> None:
    """Each escape rule on its own, so a regression names the character it lets through."""
    assert escape(raw) == escaped
