"""The Markdown reports read as plain text: values keep `>`, `&` and `<` as written (no HTML entities),
while Markdown's own syntax in a value stays inert when the file is rendered."""

from __future__ import annotations

import html
import re
from pathlib import Path

import polars as pl
from markdown_it import MarkdownIt

from claret_errors.config import Settings
from claret_errors.pipeline import analyze_job
from claret_errors.report.markdown import code
from claret_errors.report.write import write_job_reports
from claret_errors.results import JobResult

OWNERS = Path(__file__).resolve().parents[1] / "fixtures" / "owners.example.toml"

PLAIN = "a > b & c"
MARKUP = "# big _x_ *y* <b>z</b> &amp;"


def _with_values(result: JobResult) -> JobResult:
    """The fixture job with `PLAIN` as a bin, a message and an owner, and `MARKUP` as an item."""
    recon = result.reconciliation
    assert recon is not None
    recon.failed = recon.failed.with_columns(
        pl.when(pl.col("input_row") == 3).then(pl.lit(PLAIN)).otherwise(pl.col("bin_name")).alias("bin_name"),
        pl.when(pl.col("input_row") == 8)
        .then(pl.lit(MARKUP))
        .otherwise(pl.col("item_name"))
        .alias("item_name"),
        pl.when(pl.col("owner") == "sales").then(pl.lit(PLAIN)).otherwise(pl.col("owner")).alias("owner"),
    )
    recon.messages = recon.messages.with_columns(
        pl.when(pl.col("input_row") == 3).then(pl.lit(PLAIN)).otherwise(pl.col("message")).alias("message")
    )
    return result


def test_markdown_report_keeps_angle_brackets_and_ampersands_as_written(job_result: JobResult) -> None:
    """`a > b & c` in a cell, a message and an owner name reads as such in report.md, never `&gt;`/`&amp;`."""
    result = _with_values(job_result)
    written = write_job_reports(result, result.folder)
    for path in [p for p in written if p.suffix == ".md"]:
        text = path.read_text(encoding="utf-8")
        assert "&gt;" not in text and "&lt;" not in text and "&amp;amp;" not in text, path
    report = (result.folder / "report.md").read_text(encoding="utf-8")
    assert report.count(PLAIN) >= 3  # the bin, the message, the owner's to-do line
    assert "(Locations > Bins)" in report  # shipped advice with a `>` in it


def test_markdown_syntax_in_a_value_stays_text_when_rendered(job_result: JobResult) -> None:
    """Rendered (raw HTML allowed), a value's `#`, `_`, `*`, `<b>` and `&amp;` show as typed, not markup."""
    result = _with_values(job_result)
    write_job_reports(result, result.folder)
    md = (result.folder / "report.md").read_text(encoding="utf-8")
    html = MarkdownIt("gfm-like", options_update={"linkify": False, "html": True}).render(md)
    assert "<b>" not in html and "<em>x" not in html and "<em>y" not in html
    # the renderer writes the text back as HTML: entities there are HTML's, one level, as typed
    assert "# big _x_ *y* &lt;b&gt;z&lt;/b&gt; &amp;amp;" in html
    assert "a &gt; b &amp; c" in html


def test_claret_files_with_markdown_characters_read_as_written_in_every_markdown_report(
    tmp_path: Path,
) -> None:
    """A job on disk whose values and Claret message hold `|`, a leading `#`, `*`, `_`, backticks, `<b>`,
    `>` and `&`: each Markdown report, rendered, shows them as typed, its tables keep their columns, and the
    plain text has no HTML entity."""
    folder = tmp_path / "job"
    folder.mkdir()
    header = "item_name,bin_name,lot_name,date_filled,quantity,uom"
    item, bin_, lot = "a > b & c", "T|1 `x`", "#5 _new_ *lot*"
    message = "Row <b>refused</b>: `bin` *tank* & _cellar_ > 0"  # no pipe: Claret joins messages so
    sent = f'"{item}","{bin_}","{lot}",2023-08-01,3,Gallon'
    landed = "124,SS-01,L1,2023-08-01,2,Gallon"
    (folder / "input.csv").write_text(f"{header}\n{sent}\n{landed}\n", encoding="utf-8")
    (folder / "output.csv").write_text(f"{header}\n{landed}\n", encoding="utf-8")
    (folder / "errors.csv").write_text(f'{header},Error Message\n{sent},"{message}"\n', encoding="utf-8")
    result = analyze_job(folder, Settings(out=tmp_path / "out", owners=OWNERS), use_history=False)
    pages = [result.folder / "report.md", *sorted((result.folder / "owners").glob("*.md"))]
    assert len(pages) == 2
    renderer = MarkdownIt("gfm-like", options_update={"linkify": False, "html": True})
    for page in pages:
        text = page.read_text(encoding="utf-8")
        assert not re.search(r"&(gt|lt|amp|quot|#\d+);", text), page
        assert item in text, page  # `>` and `&` need no escape in Markdown: the plain text reads as typed
        rendered = renderer.render(text)
        markup = re.findall(r"<(b|em|strong|code|h1)>(refused|new|lot|tank|cellar|bin|x|5)\b", rendered)
        assert markup == [], (page, markup)  # none of the values' characters became markup
        words = html.unescape(re.sub(r"<[^>]+>", "", rendered))
        for value in (item, bin_, lot, message):
            assert value in words, (page, value)
        for table in re.findall(r"<table>.*?</table>", rendered, flags=re.S):
            widths = {len(re.findall(r"<t[hd]\b", row)) for row in re.findall(r"<tr>.*?</tr>", table, re.S)}
            assert len(widths) == 1, (page, widths)  # an escaped `|` never splits a cell


def test_a_file_name_in_a_code_span_is_shown_as_written() -> None:
    """Backslash escapes show literally inside backticks: a file name there is fenced, never escaped."""
    renderer = MarkdownIt("gfm-like", options_update={"linkify": False})
    for name in ("corrected/_night_corrected_001.csv", "a`b*_c_.csv", "`tick`.csv"):
        rendered = renderer.renderInline(f"in {code(name)}")
        assert html.unescape(re.sub(r"</?code>", "", rendered)) == f"in {name}", rendered
