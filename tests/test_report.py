"""Job, owner and run-index reports: the files, what they say, what they leave out, and how big they get."""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path

import polars as pl
from markdown_it import MarkdownIt

from claret_errors.history import History
from claret_errors.report.html import environment
from claret_errors.report.tables import findings
from claret_errors.report.view import todo_for
from claret_errors.report.write import owner_filename, write_job_reports, write_run_index
from claret_errors.results import Counts, Finding, FixResult, JobResult, Reconciliation

RUN_AT = datetime(2026, 11, 27, 6, 0, tzinfo=UTC)


class Tags(HTMLParser):
    """Collects start tags with their attributes, and the visible text."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(path: Path) -> Tags:
    tags = Tags()
    tags.feed(path.read_text(encoding="utf-8"))
    return tags


def md_tables(text: str) -> list[int]:
    """Rows (header included) of each table a GFM renderer finds."""
    tokens = MarkdownIt("gfm-like", options_update={"linkify": False}).parse(text)
    sizes: list[int] = []
    for token in tokens:
        if token.type == "table_open":
            sizes.append(0)
        elif token.type == "tr_open":
            sizes[-1] += 1
    return sizes


def test_job_reports_write_report_and_one_pair_per_owner(job_result: JobResult) -> None:
    """The pipeline and the index rely on these exact file names next to summary.json."""
    written = write_job_reports(job_result, job_result.folder)
    names = sorted(p.relative_to(job_result.folder).as_posix() for p in written)
    assert names == [
        "owners/cellar.html",
        "owners/cellar.md",
        "owners/sales.html",
        "owners/sales.md",
        "owners/warehouse.html",
        "owners/warehouse.md",
        "report.html",
        "report.md",
    ]
    assert all(p.is_file() and p.stat().st_size > 0 for p in written)


def test_report_leads_with_the_verdict_then_the_to_do_list(job_result: JobResult) -> None:
    """The first thing a reader sees is whether the import landed, then what to do; details come after."""
    write_job_reports(job_result, job_result.folder)
    text = " ".join(parse(job_result.folder / "report.html").text)
    assert "6 of 20 rows did not land: 5 failed, 1 unaccounted for; 1 anomaly to check." in text
    for md in (
        (job_result.folder / "report.md").read_text(),
        " ".join(parse(job_result.folder / "report.html").text),
    ):
        assert md.index("did not land") < md.index("What to do") < md.index("Failed records, by what to do")
        assert md.index("Failed records, by what to do") < md.index("Technical details, for the data team")


def test_to_do_list_groups_rows_by_action_per_owner_with_count_and_file(job_result: JobResult) -> None:
    """Each owner reads how many rows need which action, and the file to do it in."""
    items = todo_for(job_result)
    assert [(i.owner, i.rows, i.file) for i in items] == [
        ("cellar", 2, "needs_attention.csv"),
        ("cellar", 1, "needs_attention.csv"),
        ("cellar", 1, "needs_attention.csv"),
        ("cellar", 1, "needs_attention.csv"),
        ("sales", 1, "needs_attention.csv"),
    ]
    assert items[0].input_rows == (3, 8)  # row 8 has two more problems, each on its own line
    assert (
        items[0].text == "2 rows: choose a bin that exists in Claret (Locations > Bins); check the spelling."
    )
    assert todo_for(job_result, "sales") == [i for i in items if i.owner == "sales"]
    assert todo_for(job_result, "warehouse") == []  # its one row was corrected automatically
    md = (write_job_reports(job_result, job_result.folder), (job_result.folder / "report.md").read_text())[1]
    assert "**cellar: 3 rows to fix** in `needs_attention.csv`" in md


def test_to_do_list_ends_with_the_re_upload_until_the_job_is_resubmitted(job_result: JobResult) -> None:
    """Corrected files wait for someone to re-upload them; once resubmitted, that line goes."""
    fresh = replace(job_result, links=[])
    [upload] = [i for i in todo_for(fresh) if i.owner == ""]
    assert (upload.rows, upload.file, upload.input_rows) == (1, "corrected/inventory_corrected_001.csv", (5,))
    assert [i for i in todo_for(job_result) if i.owner == ""] == []


def test_html_report_is_self_contained(job_result: JobResult) -> None:
    """No script, stylesheet, font or image is fetched: the report opens offline and leaks nothing."""
    write_job_reports(job_result, job_result.folder)
    html = (job_result.folder / "report.html").read_text()
    tags = parse(job_result.folder / "report.html").tags
    assert not [t for t, _ in tags if t in ("script", "link", "img", "iframe", "object")]
    assert not re.search(r"@import|url\((?!#)", html)
    assert '<meta http-equiv="Content-Security-Policy" content="default-src \'none\';' in html
    external = {a["href"] for t, a in tags if t == "a" and (a.get("href") or "").startswith("http")}
    assert external == {"https://plan.claret.app/acme-wines/imports/4711"}


def test_html_uses_headings_and_table_headers(job_result: JobResult) -> None:
    """Screen readers and printouts need real structure, not styled divs."""
    write_job_reports(job_result, job_result.folder)
    tags = parse(job_result.folder / "report.html").tags
    names = [t for t, _ in tags]
    assert names.count("h1") == 1
    assert names.count("h2") >= 6
    levels = [int(t[1]) for t in names if t in ("h1", "h2", "h3", "h4")]
    assert all(b <= a + 1 for a, b in itertools.pairwise(levels)), "a heading skips a level"
    assert names.count("table") == names.count("caption") >= 8
    assert any(t == "th" and a.get("scope") == "col" for t, a in tags)
    assert ("html", {"lang": "en"}) in tags


def test_faulty_cells_are_marked_in_text_not_only_colour(job_result: JobResult) -> None:
    """A printed or colour-blind reading must still show which cell is wrong and what it became."""
    write_job_reports(job_result, job_result.folder)
    html = (job_result.folder / "report.html").read_text()
    assert '<span class="sr">faulty: </span>SS-99' in html
    assert "<del>08/01/2023</del> → <ins>2023-08-01</ins>" in html
    md = (job_result.folder / "report.md").read_text()
    assert "| ⚠ SS-99 " in md
    assert "08/01/2023 → 2023-08-01" in md


def test_owner_report_holds_only_that_owners_records(job_result: JobResult) -> None:
    """An owner's report goes to that person: other owners' rows must not be in it."""
    write_job_reports(job_result, job_result.folder)
    sales = (job_result.folder / "owners" / "sales.md").read_text()
    assert "999-XX" in sales
    assert "ZAMNVCAS19" not in sales
    assert "SS-99" not in sales
    assert "1 row of yours failed. The whole job: 6 of 20 rows did not land" in sales
    cellar = " ".join(parse(job_result.folder / "owners" / "cellar.html").text)
    assert "ZAMNVCAS19" in cellar
    assert "999-XX" not in cellar
    assert "08/01/2023" not in cellar  # the warehouse's corrected row


def test_owner_report_links_back_to_files_next_to_the_job_report(job_result: JobResult) -> None:
    """Owner pages live in owners/, so their CSV links must climb one folder."""
    write_job_reports(job_result, job_result.folder)
    hrefs = {a.get("href") for t, a in parse(job_result.folder / "owners" / "cellar.html").tags if t == "a"}
    assert "../failed_records.csv" in hrefs
    assert "../report.html" in hrefs


def test_hostile_owner_names_stay_inside_owners_folder() -> None:
    """Owner names come from data: they must never name a path outside owners/ or collide."""
    taken: set[str] = set()
    owners = ("../../etc/passwd", "cellar", "Cellar", "", "a/b", "a b", "j.doe", "..", ".hidden")
    stems = [owner_filename(o, taken) for o in owners]
    assert all("/" not in s and not s.startswith(".") and s not in ("", "..") for s in stems)
    assert (stems[1], stems[6]) == ("cellar", "j.doe")
    assert len({s.lower() for s in stems}) == len(stems)


def test_stale_owner_report_is_removed_on_rerun(job_result: JobResult) -> None:
    """An owner with no failures this time must not keep yesterday's report."""
    write_job_reports(job_result, job_result.folder)
    recon = job_result.reconciliation
    assert recon is not None
    only_cellar = replace(recon, failed=recon.failed.filter(pl.col("owner") == "cellar"))
    write_job_reports(replace(job_result, reconciliation=only_cellar), job_result.folder)
    assert sorted(p.name for p in (job_result.folder / "owners").iterdir()) == ["cellar.html", "cellar.md"]


def test_missing_reconciliation_and_fixes_are_said_plainly(job_result: JobResult) -> None:
    """A job not analysed yet still gets a report that says what is missing instead of empty tables."""
    bare = replace(job_result, reconciliation=None, fixes=None)
    write_job_reports(bare, bare.folder)
    md = (bare.folder / "report.md").read_text()
    assert "The failed records were not reconciled" in md
    assert "No corrections were attempted for this job." in md
    assert "6 of 20 rows did not land" in md
    assert not (bare.folder / "owners").exists()


def test_job_that_could_not_be_analysed_shows_why(job_result: JobResult) -> None:
    """A failed fetch must give a readable page naming the error, not a crash."""
    broken = replace(
        job_result, counts=None, categories=[], reconciliation=None, fixes=None, error="Claret unreachable"
    )
    write_job_reports(broken, broken.folder)
    text = " ".join(parse(broken.folder / "report.html").text)
    assert "This job could not be analysed: Claret unreachable" in text
    assert "Why this job could not be analysed" in text


def test_clean_job_says_every_row_landed(job_result: JobResult) -> None:
    """The good news must be unmistakable too."""
    clean = replace(
        job_result,
        counts=Counts(20, 20, 0, 0, 0),
        categories=[],
        reconciliation=None,
        fixes=None,
        findings=[],
        exit_code=0,
    )
    write_job_reports(clean, clean.folder)
    assert "**✔ Every one of the 20 rows landed.**" in (clean.folder / "report.md").read_text()


def test_non_http_job_link_is_not_clickable(job_result: JobResult) -> None:
    """A `javascript:` link from a status document must never become an anchor."""
    sneaky = replace(
        job_result,
        info=replace(
            job_result.info, claret=replace(job_result.info.claret, job_status_link="javascript:alert(1)")
        ),
    )
    write_job_reports(sneaky, sneaky.folder)
    hrefs = [a.get("href") or "" for t, a in parse(sneaky.folder / "report.html").tags if t == "a"]
    assert not [h for h in hrefs if "javascript" in h]


def test_every_html_template_is_autoescaped() -> None:
    """An unescaped template is an injection hole; the environment must escape every extension."""
    env = environment()
    names = env.list_templates()
    assert {n.rsplit(".", 2)[-2] + "." + n.rsplit(".", 1)[-1] for n in names} <= {
        "html.j2",
        "css.j2",
        "md.j2",
    }
    html_names = [n for n in names if not n.endswith(".md.j2")]
    assert html_names
    assert all(env.autoescape is True or env.autoescape(n) for n in html_names)  # type: ignore[operator]
    assert "&lt;b&gt;" in env.from_string("{{ x }}").render(x="<b>")


def test_markdown_tables_survive_a_gfm_renderer(job_result: JobResult) -> None:
    """The Markdown goes into tickets; its tables must stay tables with every row."""
    write_job_reports(job_result, job_result.folder)
    sizes = md_tables((job_result.folder / "report.md").read_text())
    assert len(sizes) >= 10
    assert 1 + 2 in sizes  # the failed records of the bin line: header + 2 rows
    assert sizes.count(1 + 1) >= 5  # the other lines, each with one record


def test_fifty_thousand_failed_records_give_a_small_capped_html(tmp_path: Path) -> None:
    """A disastrous night must still give a report under 5 MB that opens fast, with all rows a link away."""
    from conftest import make_result

    n = 50_000
    base = make_result(tmp_path / "acme-wines" / "9000", job_log_id="9000")
    rows = pl.int_range(1, n + 1, eager=True).alias("input_row")
    owners = pl.Series("owner", [f"owner-{i % 7}" for i in range(n)])
    failed = pl.DataFrame(
        {
            "input_row": rows,
            "item_name": pl.Series([f"ITEM-{i:06d}-{'x' * 30}" for i in range(n)]),
            "bin_name": pl.Series([f"BIN-{i % 400}" for i in range(n)]),
            "lot_name": "LOT",
            "date_filled": "2023-08-01",
            "quantity": "12",
            "uom": "Gallon",
            "messages": [["The selected bin name is invalid."]] * n,
            "categories": [["unknown_reference"]] * n,
            "fields": [["bin_name"]] * n,
            "owner": owners,
        }
    )
    messages = pl.DataFrame(
        {
            "input_row": rows,
            "message": "The selected bin name is invalid.",
            "category": "unknown_reference",
            "field": "bin_name",
            "fix": "manual",
            "rule": "builtin",
        }
    )
    counts = Counts(n + 10, 10, n, 0, 0)
    anomalies = pl.DataFrame(
        schema={"kind": pl.String, "input_row": pl.Int64, "source": pl.String, "detail": pl.String}
    )
    recon = Reconciliation(counts, failed, messages, anomalies, rows.to_frame().clear(), [])
    fixes = FixResult(
        rows=pl.DataFrame({"input_row": rows, "fix": "manual", "suggestion": ""}),
        corrections=pl.DataFrame(
            schema={
                "input_row": pl.Int64,
                "field": pl.String,
                "before": pl.String,
                "after": pl.String,
                "rule": pl.String,
            }
        ),
        needs_attention=failed.select(
            "input_row", "owner", pl.lit("unknown bin").alias("reason"), pl.lit("").alias("suggestion")
        ),
        corrected_files=[],
        auto_fixed_rows=0,
        suggested_rows=0,
        manual_rows=n,
    )
    big = replace(base, counts=counts, categories=[], reconciliation=recon, fixes=fixes)
    written = write_job_reports(big, big.folder)
    html = big.folder / "report.html"
    assert html.stat().st_size < 5_000_000
    assert all(p.stat().st_size < 5_000_000 for p in written)
    text = " ".join(parse(html).text)
    assert re.search(
        r"The first 7\d of 7,14\d rows of this line; all of them are in +needs_attention.csv", text
    )
    assert "50,000" in text
    assert "ITEM-000499" in text and "ITEM-000500" not in text


def test_run_index_lists_every_job_worst_first_with_relative_links(
    tmp_path: Path, result_factory: Callable[..., JobResult]
) -> None:
    """The index is the morning's entry point: every job, its state, and a link that works offline."""
    tenant_dir = tmp_path / "acme-wines"
    bad = result_factory("4711")
    good = replace(result_factory("4700"), counts=Counts(10, 10, 0, 0, 0), categories=[], exit_code=0)
    lost = replace(result_factory("4720"), counts=None, error="gave up waiting", exit_code=5)
    history = History.open(tenant_dir)
    for r in (bad, good, lost):
        history.record(r, run_at=RUN_AT)
    written = write_run_index([good, bad, lost], tenant_dir, history)
    assert [p.name for p in written] == ["index.html", "index.md"]
    tags = parse(tenant_dir / "index.html")
    hrefs = [
        a.get("href") for t, a in tags.tags if t == "a" and (a.get("href") or "").endswith("report.html")
    ]
    assert list(dict.fromkeys(hrefs)) == ["4720/report.html", "4711/report.html", "4700/report.html"]
    text = " ".join(tags.text)
    assert "1 of 3 jobs could not be analysed" in text
    assert "6 of 30 rows are still outstanding" in text
    md = (tenant_dir / "index.md").read_text()
    assert md.index("| 4720") < md.index("| 4711") < md.index("| 4700")


def test_trends_show_each_night_from_the_history(
    tmp_path: Path, result_factory: Callable[..., JobResult]
) -> None:
    """Failed share per night and per category is what tells a data owner whether things improve."""
    tenant_dir = tmp_path / "acme-wines"
    history = History.open(tenant_dir)
    for day, failed in ((24, 2), (25, 8)):
        r = result_factory(str(day))
        r = replace(
            r,
            info=replace(r.info, claret=replace(r.info.claret, started_at=f"2026-11-{day}T02:00:00+00:00")),
            counts=Counts(100, 100 - failed, failed, 0, 0),
        )
        history.record(r, run_at=RUN_AT)
    job = result_factory("4711")
    write_job_reports(job, job.folder, history=history)
    md = (job.folder / "report.md").read_text()
    trends = md[md.index("## Trends") :]
    rows = [
        [c.strip() for c in line.split("|")[1:8]] for line in trends.splitlines() if line.startswith("| 2026")
    ]
    assert rows == [
        ["2026-11-24", "1", "100", "2", "2.0 %", "0", "2"],
        ["2026-11-25", "1", "100", "8", "8.0 %", "0", "8"],
    ]
    assert "unknown_reference" in trends
    html = (job.folder / "report.html").read_text()
    assert "<title>2026-11-25: 8.0 %</title>" in html


def test_owner_report_counts_only_its_own_fixes(job_result: JobResult) -> None:
    """An owner must see what was done to their rows, not the whole job's fix totals."""
    write_job_reports(job_result, job_result.folder)
    warehouse = (job_result.folder / "owners" / "warehouse.md").read_text()
    assert "1 row of yours failed: 1 corrected automatically, 0 for you to fix." in warehouse
    assert "**Nothing left for you: your failed rows were corrected automatically.**" in warehouse
    cellar = (job_result.folder / "owners" / "cellar.md").read_text()
    assert "3 rows of yours failed." in cellar and "**cellar: 3 rows to fix**" in cellar


def test_damaged_ledger_costs_the_trends_not_the_report(tmp_path: Path, job_result: JobResult) -> None:
    """A hand-edited history must not stop the morning's reports; the trends section says what is wrong."""
    tenant_dir = tmp_path / "acme-wines"
    history = History.open(tenant_dir)
    history.path.parent.mkdir(parents=True, exist_ok=True)
    history.path.write_text("not json\n")
    write_job_reports(job_result, job_result.folder, history=history)
    write_run_index([job_result], tenant_dir, history)
    for page in (job_result.folder / "report.md", tenant_dir / "index.md"):
        text = page.read_text()
        assert "Trends are unavailable:" in text
        assert "history.jsonl, line 1: damaged history entry" in text


def test_report_without_history_says_so(job_result: JobResult) -> None:
    """An empty trends section must say why, not look like a rendering bug."""
    write_job_reports(job_result, job_result.folder)
    assert "No history ledger was given for this report." in (job_result.folder / "report.md").read_text()


def test_index_links_a_job_folder_outside_the_tenant_by_a_safe_name(
    tmp_path: Path, job_result: JobResult
) -> None:
    """A job id from outside must never turn an index link into a path that climbs out of the tenant."""
    elsewhere = replace(job_result, folder=tmp_path / "other", info=replace(job_result.info, job_log_id=".."))
    tenant_dir = tmp_path / "acme-wines"
    write_run_index([elsewhere], tenant_dir, History.open(tenant_dir))
    hrefs = [a.get("href") for t, a in parse(tenant_dir / "index.html").tags if t == "a"]
    assert "job/report.html" in hrefs
    assert not [h for h in hrefs if (h or "").startswith("..")]


def test_each_automatic_change_shows_its_assumption(job_result: JobResult) -> None:
    """A date read day first must say why, where the owner checks the corrected file."""
    assert job_result.fixes is not None
    said = "day first, decided from the file's unambiguous dates (a part over 12 is the day)"
    fixes = replace(
        job_result.fixes,
        corrections=job_result.fixes.corrections.with_columns(pl.lit(said).alias("assumption")),
    )
    write_job_reports(replace(job_result, fixes=fixes), job_result.folder)
    for page in ("report.md", "owners/warehouse.md"):
        assert said in (job_result.folder / page).read_text()
    assert said in " ".join(parse(job_result.folder / "report.html").text)


def test_schema_findings_are_listed_once_with_their_input_rows() -> None:
    """The same check failing on many rows is one line naming the rows, not a line per row and file."""
    found = [
        Finding(
            "artifacts/input/in.csv",
            "required",
            f"line {r + 1}: lot_name: a value is required",
            "lot_name",
            r,
        )
        for r in (8, 3, 8)
    ]
    found.append(
        Finding("in.csv", "column_order", "columns are not in the documented order", severity="info")
    )
    shown = findings(found)
    assert shown.rows == [
        ["warning", "in.csv", "required", "lot_name", "a value is required", "3, 8"],
        ["info", "in.csv", "column_order", "", "columns are not in the documented order", ""],
    ]


def test_owner_report_leaves_the_technical_details_to_the_job_report(job_result: JobResult) -> None:
    """Cellar staff act on rows; encodings, detection and schema findings mean nothing to them."""
    write_job_reports(job_result, job_result.folder)
    owner = (job_result.folder / "owners" / "cellar.html").read_text()
    job = (job_result.folder / "report.html").read_text()
    for technical in ("What detection assumed", "Schema findings", "encoding of"):
        assert technical in job and technical not in owner
    assert '<details class="appendix">' in job
