"""Write the reports: per job `report.html`/`report.md`, one pair per owner in `owners/`, and the run index.

The entry points the pipeline calls. Files land atomically, owner names become safe file names confined to
`owners/`. Rendering lives in report_html / report_md, content in report_view; nothing here prints or exits.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import quote

from claret_errors.errors import ArtifactError
from claret_errors.files.atomic import atomic_write_text
from claret_errors.fix.worksheet import write_worksheets
from claret_errors.history import History, NightTrend
from claret_errors.report.html import ATTEMPT_MARK, render_attempt_html, render_index_html, render_job_html
from claret_errors.report.index import build_index_view
from claret_errors.report.markdown import ATTEMPT_LEAD, render_attempt_md, render_index_md, render_job_md
from claret_errors.report.tables import owner_counts
from claret_errors.report.view import OwnerLink, attempt_banner, build_job_view
from claret_errors.results import Attempt, JobResult

OWNERS_DIR = "owners"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_HTML_BANNER = re.compile(
    rf"<!-- {re.escape(ATTEMPT_MARK)} -->.*?<!-- /{re.escape(ATTEMPT_MARK)} -->\n?", re.DOTALL
)
log = logging.getLogger("claret_errors.report")


def owner_filename(owner: str, taken: set[str]) -> str:
    """A file stem for an owner: plain names stay readable, anything else gets a hash so none collide."""
    stem = _UNSAFE.sub("-", owner).strip(".-")[:60] or "owner"
    if stem != owner or stem.lower() in taken:
        stem = f"{stem}-{hashlib.sha256(owner.encode()).hexdigest()[:8]}"
    taken.add(stem.lower())
    return stem


def _write(path: Path, text: str) -> Path:
    """Write atomically, so a reader never sees half a report."""
    try:
        atomic_write_text(path, text)
    except OSError as exc:
        raise ArtifactError(f"cannot write the report: {exc.strerror or exc}", file=str(path)) from exc
    return path


def trends_of(history: History | None) -> tuple[list[NightTrend], str]:
    """The trends, or why there are none: a damaged ledger costs the trends section, not the report."""
    if history is None:
        return [], "No history ledger was given for this report."
    try:
        trends = history.trends()
    except ArtifactError as exc:
        return [], f"Trends are unavailable: {exc}"
    return trends, "" if trends else "No runs are recorded yet; trends appear from the second night on."


def write_job_reports(result: JobResult, out_dir: Path, *, history: History | None = None) -> list[Path]:
    """report.html, report.md, and owners/<owner>.html and .md holding only that owner's records; the
    worksheets (needs_attention.xlsx, owners/<owner>.xlsx)."""
    trends, note = trends_of(history)
    taken: set[str] = set()
    stems = {owner: owner_filename(owner, taken) for owner in owner_counts(result)}
    links = [
        OwnerLink(owner, f"{OWNERS_DIR}/{quote(stem)}.html", records)
        for (owner, records), stem in zip(owner_counts(result).items(), stems.values(), strict=True)
    ]
    # Worksheets first: the reports point at the worksheet when there is one.
    sheets = write_worksheets(result, out_dir, stems)
    view = build_job_view(result, owners=links, trends=trends, trend_note=note)
    written = [
        *sheets,
        _write(out_dir / "report.html", render_job_html(view)),
        _write(out_dir / "report.md", render_job_md(view)),
    ]
    owners_dir = out_dir / OWNERS_DIR
    for owner, stem in stems.items():
        owner_view = build_job_view(result, owner=owner, trends=trends, trend_note=note)
        written.append(_write(owners_dir / f"{stem}.html", render_job_html(owner_view)))
        written.append(_write(owners_dir / f"{stem}.md", render_job_md(owner_view)))
    if owners_dir.is_dir():  # an owner who has no failures this time keeps no stale report
        for old in owners_dir.iterdir():
            if old.suffix in (".html", ".md", ".xlsx") and old not in written:
                old.unlink()
    return written


def mark_attempt(folder: Path, attempt: Attempt) -> list[Path]:
    """Put the failed attempt's banner on the reports kept in `folder` (report.html and .md, the owners'),
    in place of an earlier attempt's: the figures are not re-made, the file is only rewritten with the
    banner, atomically, so a report that cannot take it stays as it was. The next good analysis renders
    its reports without one. Returns the reports marked."""
    banner = attempt_banner(attempt)
    html, md = render_attempt_html(banner), render_attempt_md(banner)
    owners = sorted((folder / OWNERS_DIR).glob("*.*")) if (folder / OWNERS_DIR).is_dir() else []
    marked: list[Path] = []
    for path in [folder / "report.html", folder / "report.md", *owners]:
        if path.suffix not in (".html", ".md") or not path.is_file():
            continue
        try:
            text = path.read_text(encoding="utf-8")
            new = _with_html_banner(text, html) if path.suffix == ".html" else _with_md_banner(text, md)
            if new is None:
                log.warning("%s: not a report as this version writes them; left without the banner", path)
                continue
            atomic_write_text(path, new)
        except (OSError, UnicodeDecodeError) as exc:
            log.warning("%s: cannot add the failed attempt's banner: %s", path, exc)
            continue
        marked.append(path)
    return marked


def _with_html_banner(text: str, banner: str) -> str | None:
    """The page with `banner` first in its `<main>`, where the template renders it, any earlier one gone."""
    text = _HTML_BANNER.sub("", text, count=1)
    head, found, rest = text.partition("<main>\n")
    return f"{head}{found}{banner}{rest}" if found else None


def _with_md_banner(text: str, banner: str) -> str | None:
    """The Markdown with `banner` under its title line, where the template renders it, any earlier one
    gone (it runs from its lead line to the first empty line)."""
    title, found, rest = text.partition("\n\n")
    if not found or not title.startswith("# ") or "\n" in title.lstrip("\n"):
        return None
    if rest.startswith(ATTEMPT_LEAD):
        rest = rest.split("\n\n", 1)[1] if "\n\n" in rest else ""
    return f"{title}\n\n{banner}{rest}"


def _job_href(result: JobResult, tenant_dir: Path) -> str:
    """The job folder relative to the index, as a URL path; a folder elsewhere is linked by its name."""
    try:
        rel = result.folder.resolve().relative_to(tenant_dir.resolve())
    except ValueError:
        rel = Path(_UNSAFE.sub("-", result.info.job_log_id).strip(".-") or "job")
    return "/".join(quote(part) for part in rel.parts)


def write_run_index(results: Sequence[JobResult], tenant_dir: Path, history: History) -> list[Path]:
    """index.html and index.md: every job of the run, worst first, with the tenant's trends."""
    hrefs = [(f"{h}/report.html", f"{h}/report.md") for h in (_job_href(r, tenant_dir) for r in results)]
    tenant = results[0].info.tenant if results else tenant_dir.name
    trends, note = trends_of(history)
    view = build_index_view(list(results), hrefs, trends, tenant, trend_note=note)
    return [
        _write(tenant_dir / "index.html", render_index_html(view)),
        _write(tenant_dir / "index.md", render_index_md(view)),
    ]
