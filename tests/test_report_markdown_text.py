"""The Markdown reports read as plain text: values keep `>`, `&` and `<` as written (no HTML entities),
while Markdown's own syntax in a value stays inert when the file is rendered."""

from __future__ import annotations

import polars as pl
from markdown_it import MarkdownIt

from claret_errors.report.write import write_job_reports
from claret_errors.results import JobResult

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
