"""Every HTML report opened in headless Chromium at a desktop's and a phone's width: no console errors, no
network, not blank, no sideways page scroll, and the verdict and the to-do list on the first screen.

Debian's `chromium` (installed by `.ci/run`) driven by Playwright; one browser for the module.
"""

from __future__ import annotations

import shutil
import zlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, Route, sync_playwright

from claret_errors.config import Settings
from claret_errors.demo import demo
from claret_errors.history import History
from claret_errors.load.job import load_job
from claret_errors.reconcile.accounting import reconcile
from claret_errors.report.write import mark_attempt, write_job_reports, write_run_index
from claret_errors.results import Attempt, JobResult
from claret_errors.simulator import artifacts
from claret_errors.simulator.engine import validate
from claret_errors.simulator.master import Inventory, load_master
from claret_errors.simulator.scenario import Variant

CHROMIUM = "/usr/bin/chromium"
WIDTHS = (1280, 390)  # a laptop, and a phone opening the report from an e-mail
SCREEN = 900  # the height of the first screen at either width
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        shutil.which(CHROMIUM) is None, reason="Debian chromium not installed (.ci/run installs it)"
    ),
]


NIGHTLY = b"""item_name,bin_name,lot_name,date_filled,quantity,uom
122-16,SS-01,RM19CASRUT.ZAM,2023-08-01,10,Gallon
122-16,SS-99,RM19CASRUT.ZAM,2023-08-01,10,Gallon
122-17,SS-02,RM19MERRUT.ZAM,08/01/2023,-4,Gallon
999-XX,SS-01,RM19CASRUT.ZAM,2023-08-01,5,Gallon
122-16,SS-02,RM19CASRUT.ZAM,2023-08-03,7,Liter
"""


def simulator_job(tmp: Path) -> JobResult:
    """A job as the simulator's engine would leave it, loaded and reconciled by the real stages."""
    folder = tmp / "artifacts"
    folder.mkdir(parents=True)
    master = load_master()
    variant = Variant(row_prefix=True)
    outcome = validate(NIGHTLY, master, Inventory.from_master(master), variant)
    (folder / "nightly_input.csv").write_bytes(NIGHTLY)
    ids = {t.input_row: 9000 + t.input_row for t in outcome.truth}
    for files in (
        artifacts.staging_files(outcome, variant, "nightly"),
        artifacts.output_files(outcome, ids, variant, "nightly"),
        artifacts.error_files(outcome, variant, "nightly"),
    ):
        for name, data in files.items():
            (folder / name).write_bytes(data)
    job = load_job(folder, Settings(), tenant="acme-wines", job_id="5001")
    recon = reconcile(job, Settings())
    return JobResult(
        info=job.info,
        folder=tmp / "acme-wines" / "5001",
        counts=recon.counts,
        categories=recon.categories,
        findings=job.findings,
        detection=job.detection,
        loaded=job,
        reconciliation=recon,
        exit_code=3,
    )


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One headless Chromium for every page of this module."""
    with sync_playwright() as pw:
        launched = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield launched
        launched.close()


@dataclass
class Visit:
    """What happened while a page was open."""

    text: str
    png: bytes
    console: list[str] = field(default_factory=list)
    network: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    scripts: int = 0
    width: int = 1280
    page_width: int = 0  # the page's scroll width: wider than `width` means a sideways scroll
    first_screen: dict[str, float] = field(default_factory=dict)  # selector -> top of its first match


# Where the parts a reader needs first begin: the verdict, and the to-do list's first line or its "nothing".
FIRST_SCREEN = {
    "verdict": ".verdict",
    "to-do": "#todo ~ h3, #todo ~ ul li, #todo ~ p",
}


TOP = "s => { const e = document.querySelector(s); return e ? e.getBoundingClientRect().top : -1 }"


def visit(browser: Browser, path: Path, width: int = 1280) -> Visit:
    """Open a report as file://, blocking and recording every request that is not a local file."""
    page: Page = browser.new_page(viewport={"width": width, "height": SCREEN})
    console: list[str] = []
    network: list[str] = []
    dialogs: list[str] = []

    def route(r: Route) -> None:
        if r.request.url.startswith("file:"):
            r.continue_()
        else:
            network.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    page.on("console", lambda m: console.append(f"{m.type}: {m.text}"))
    page.on("pageerror", lambda e: console.append(f"pageerror: {e}"))
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    try:
        page.goto(path.resolve().as_uri(), wait_until="load")
        return Visit(
            text=page.inner_text("body"),
            png=page.screenshot(full_page=False),
            console=console,
            network=network,
            dialogs=dialogs,
            scripts=page.evaluate("document.scripts.length"),
            width=width,
            page_width=page.evaluate("document.documentElement.scrollWidth"),
            first_screen={name: page.evaluate(TOP, selector) for name, selector in FIRST_SCREEN.items()},
        )
    finally:
        page.close()


def distinct_bytes(png: bytes) -> int:
    """Distinct byte values in the PNG's decompressed pixel data: a blank page has very few."""
    pos, data = 8, b""
    while pos < len(png):
        length = int.from_bytes(png[pos : pos + 4], "big")
        kind = png[pos + 4 : pos + 8]
        if kind == b"IDAT":
            data += png[pos + 8 : pos + 8 + length]
        pos += 12 + length
    return len(set(zlib.decompress(data)))


def assert_clean(found: Visit) -> None:
    assert found.console == []
    assert found.network == []
    assert found.dialogs == []
    assert found.scripts == 0
    assert distinct_bytes(found.png) > 200  # a line of plain text gives ~170, a blank page 4


def assert_readable(found: Visit) -> None:
    """No sideways page scroll; the verdict and the to-do list begin on the first screen."""
    assert found.page_width <= found.width, f"the page scrolls sideways at {found.width} px"
    for name, top in found.first_screen.items():
        assert 0 <= top < SCREEN, f"the {name} is not on the first screen at {found.width} px (top {top})"


def clean_and_readable(browser: Browser, pages: list[Path]) -> Iterator[Visit]:
    """Each page at each width, checked clean and readable, for the caller's own checks."""
    for path in pages:
        for width in WIDTHS:
            found = visit(browser, path, width)
            assert_clean(found)
            assert_readable(found)
            yield found


def test_every_job_and_owner_report_renders_offline(browser: Browser, job_result: JobResult) -> None:
    """A data owner opens these from a mail or a share: they must render fully with no network at all."""
    written = write_job_reports(job_result, job_result.folder)
    pages = [p for p in written if p.suffix == ".html"]
    assert len(pages) == 4
    for found in clean_and_readable(browser, pages):
        assert "Did the import land?" in found.text and "What to do" in found.text
    main = visit(browser, job_result.folder / "report.html")
    assert "6 of 20 rows did not land: 5 failed, 1 unaccounted for" in main.text
    for label, number in (
        ("INPUT ROWS", "20"),
        ("IMPORTED", "14"),
        ("FAILED RECORDS", "5"),
        ("UNACCOUNTED ROWS", "1"),
    ):
        assert f"{label}\n{number}" in main.text


def test_run_index_renders_offline_with_headline_numbers(
    browser: Browser, job_result: JobResult, tmp_path: Path
) -> None:
    """The index is the first page opened in the morning."""
    tenant_dir = tmp_path / "acme-wines"
    history = History.open(tenant_dir)
    history.record(job_result, run_at=datetime(2026, 11, 27, 6, tzinfo=UTC))
    [index_html, _] = write_run_index([job_result], tenant_dir, history)
    for width in WIDTHS:
        assert_readable(visit(browser, index_html, width))
    found = visit(browser, index_html)
    assert_clean(found)
    assert "6 of 20 rows are still outstanding" in found.text
    assert "4711" in found.text


def test_hostile_report_runs_no_script_and_fires_no_dialog(
    browser: Browser, hostile_result: JobResult
) -> None:
    """`<script>alert(1)</script>` in a cell must stay text in a real browser, in every report."""
    written = write_job_reports(hostile_result, hostile_result.folder)
    for path in (p for p in written if p.suffix == ".html"):
        found = visit(browser, path)
        assert_clean(found)
    main = visit(browser, hostile_result.folder / "report.html")
    assert "<script>alert(1)</script>" in main.text
    assert "=cmd|' /C calc'!A0" in main.text


def test_a_kept_report_shows_the_failed_attempt_first_and_runs_nothing_it_quotes(
    browser: Browser, job_result: JobResult
) -> None:
    """The banner put on kept reports is the first thing read, quoting the error as text; the verdict and
    the to-do list stay on the first screen, on a phone too."""
    write_job_reports(job_result, job_result.folder)
    error = "artifacts/input/<script>alert(1)</script>.csv: listed in manifest.json but missing"
    attempt = Attempt("2026-12-04T02:10:00+00:00", error, 8, "2026-12-03T02:05:00+00:00")
    pages = [p for p in mark_attempt(job_result.folder, attempt) if p.suffix == ".html"]
    assert len(pages) == 4
    for found in clean_and_readable(browser, pages):
        assert found.text.index("Not up to date:") < found.text.index("Did the import land?")
        assert "<script>alert(1)</script>.csv" in found.text
        assert "last good analysis, of 2026-12-03 02:05:00 UTC" in found.text


def test_blank_page_fails_the_not_blank_check(browser: Browser, tmp_path: Path) -> None:
    """The blank-screenshot check must be able to fail, or it proves nothing."""
    blank = tmp_path / "blank.html"
    blank.write_text("<!DOCTYPE html><html lang='en'><title>x</title><body></body></html>")
    assert distinct_bytes(visit(browser, blank).png) <= 200


def test_simulator_job_reports_render_offline(browser: Browser, tmp_path: Path) -> None:
    """Frames from the real load and reconcile stages, not only hand-built ones, must render cleanly."""
    result = simulator_job(tmp_path)
    written = write_job_reports(result, result.folder)
    pages = [p for p in written if p.suffix == ".html"]
    assert len(pages) == 2  # the job's report and the one owner every record is routed to
    for path in pages:
        assert_clean(visit(browser, path))
    found = visit(browser, result.folder / "report.html")
    assert "3 of 5 rows did not land: 3 failed, 0 unaccounted for." in found.text
    assert "No corrections were attempted for this job." in found.text
    assert "SS-99" in found.text


@pytest.fixture(scope="module")
def demo_night(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo's night as a user gets it: three jobs of up to 1000 rows against the simulator, resubmitted.

    In a thread of its own: the demo runs its own event loop, and Playwright's holds this thread."""
    out = tmp_path_factory.mktemp("demo")
    with ThreadPoolExecutor(1) as pool:
        pool.submit(demo, out).result(timeout=120)
    return out / "demo"


def test_a_real_nights_reports_fit_a_laptop_and_a_phone(browser: Browser, demo_night: Path) -> None:
    """Job 1 of the demo (79 failures, lot names over 255 characters, four owners) and the run index still
    open without a sideways scroll, the verdict and the to-do list first, at 1280 and 390 px."""
    job = demo_night / "1"
    pages = [demo_night / "index.html", job / "report.html", *sorted((job / "owners").glob("*.html"))]
    assert len(pages) >= 4
    for path in pages:
        for width in WIDTHS:
            found = visit(browser, path, width)
            assert_clean(found)
            assert_readable(found)


def test_more_than_a_screenful_of_failed_records_collapses_by_action(
    browser: Browser, demo_night: Path
) -> None:
    """79 failed records are a line each to open, not a wall of rows; the technical appendix starts closed."""
    page = browser.new_page(viewport={"width": 1280, "height": SCREEN})
    try:
        page.goto((demo_night / "1" / "report.html").resolve().as_uri(), wait_until="load")
        groups = page.locator("details.group")
        assert groups.count() >= 5
        assert page.locator("details.group[open]").count() == 0
        assert page.locator("details.appendix[open]").count() == 0
        first = groups.first
        rows_hidden = first.locator("tbody tr").first
        assert not rows_hidden.is_visible()
        first.locator("summary").click()
        assert rows_hidden.is_visible()
        # a value longer than a cell shows its start; the whole of it is one click away, and on hover
        long = page.locator("details.long").first
        long.scroll_into_view_if_needed()
        assert long.locator("summary").get_attribute("title")
    finally:
        page.close()


# WCAG 2 contrast of every piece of text against the background it is drawn on (the nearest painted one).
CONTRAST = """() => {
  const rgb = c => (c.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => {
    const f = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const low = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const el = node.parentElement;
    if (!node.textContent.trim() || !el.getClientRects().length || el.closest("svg")) continue;
    const style = getComputedStyle(el);
    if (style.visibility === "hidden" || parseFloat(style.opacity) === 0) continue;
    let bg = null;
    for (let a = el; a && !bg; a = a.parentElement) {
      const c = getComputedStyle(a).backgroundColor;
      if (c && rgb(c).length >= 3 && (rgb(c).length === 3 || rgb(c)[3] > 0)) bg = rgb(c);
    }
    const [l1, l2] = [lum(rgb(style.color)), lum(bg || [255, 255, 255])].sort((x, y) => y - x);
    const ratio = (l1 + 0.05) / (l2 + 0.05);
    const text = node.textContent.trim().slice(0, 30);
    if (ratio < 4.5) low.push(`${ratio.toFixed(2)} ${el.tagName}.${el.className}: ${text}`);
  }
  return low;
}"""


def test_every_text_has_enough_contrast(browser: Browser, job_result: JobResult, demo_night: Path) -> None:
    """Cellar staff read these on a phone in a bright cellar: every text at least 4.5:1 (WCAG AA)."""
    write_job_reports(job_result, job_result.folder)
    for path in (
        job_result.folder / "report.html",
        demo_night / "1" / "report.html",
        demo_night / "index.html",
    ):
        page = browser.new_page(viewport={"width": 1280, "height": SCREEN})
        try:
            page.goto(path.resolve().as_uri(), wait_until="load")
            page.evaluate("() => document.querySelectorAll('details').forEach(d => { d.open = true; })")
            assert page.evaluate(CONTRAST) == [], path
        finally:
            page.close()


def test_pale_text_fails_the_contrast_check(browser: Browser, tmp_path: Path) -> None:
    """The contrast check must be able to fail, or it proves nothing."""
    pale = tmp_path / "pale.html"
    pale.write_text(
        "<!DOCTYPE html><html lang='en'><title>x</title><body><p style='color:#aaa'>faint</p></body></html>"
    )
    page = browser.new_page()
    try:
        page.goto(pale.as_uri())
        assert [line.split(" ", 1)[1] for line in page.evaluate(CONTRAST)] == ["P.: faint"]
    finally:
        page.close()


def test_the_nights_emails_read_on_a_laptop_and_a_phone(browser: Browser, demo_night: Path) -> None:
    """Owners read their e-mail on a phone: each HTML part renders with no network, no script, no
    sideways scroll and readable contrast, at both widths."""
    import email
    import email.policy

    messages = sorted((demo_night / "notifications").glob("*/*.eml"))
    assert len(messages) >= 2
    for eml in messages:
        message = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
        html = message.get_body(("html",))
        assert html is not None, eml
        page_file = eml.with_suffix(".html")
        page_file.write_text(html.get_content(), encoding="utf-8")
        for width in WIDTHS:
            found = visit(browser, page_file, width)
            assert_clean(found)
            assert found.page_width <= width, f"{eml.name} scrolls sideways at {width} px"
        page = browser.new_page(viewport={"width": 390, "height": SCREEN})
        try:
            page.goto(page_file.resolve().as_uri(), wait_until="load")
            assert page.evaluate(CONTRAST) == [], eml
        finally:
            page.close()
