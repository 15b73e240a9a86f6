"""The view of a job that both report formats render: plain strings and numbers, capped, in reading order.

Reads a JobResult (optionally narrowed to one owner) and computes every table once. It never escapes,
formats markup or writes files: the HTML and Markdown renderers do that, each with its own escaping.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import polars as pl

from claret_errors.history import NightTrend
from claret_errors.model import CategoryCount, Counts, JobResult

ROW_CAP = 500  # rows of a large table shown on the page; the CSVs next to the report hold them all
CELL_CAP = 200  # characters of one cell shown on the page
TOP_VALUES = 20
EXAMPLES = 2
_NOT_INPUT = {"input_row", "messages", "categories", "fields", "owner", "fix", "suggestion"}
UNASSIGNED = "unassigned"


def clip(value: object, limit: int = CELL_CAP) -> str:
    """A cell as display text: None is empty, long text is cut with an ellipsis."""
    text = "" if value is None else str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def safe_link(url: str | None) -> str | None:
    """Only http(s) URLs become links: a `javascript:` URL from outside must never be clickable."""
    if not url:
        return None
    parts = urlsplit(url.strip())
    return url.strip() if parts.scheme in ("http", "https") and parts.netloc else None


def duration(start: str | None, end: str | None) -> str:
    """`3 min 12 s` between two ISO 8601 stamps, or empty when either is missing or unreadable."""
    try:
        seconds = int(
            (datetime.fromisoformat(end or "") - datetime.fromisoformat(start or "")).total_seconds()
        )
    except (ValueError, TypeError):
        return ""
    if seconds < 0:
        return ""
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min {secs} s" if minutes else f"{secs} s"


def when(stamp: str | None) -> str:
    """An ISO 8601 stamp for people: `2026-11-27 02:00:05 UTC`; anything unreadable is shown as given."""
    if not stamp:
        return "unknown"
    try:
        moment = datetime.fromisoformat(stamp)
    except ValueError:
        return stamp
    return moment.strftime("%Y-%m-%d %H:%M:%S %Z").strip()


def pct(part: int, whole: int) -> str:
    """A share for people: `12.5 %`, `<0.1 %` for tiny non-zero shares, `0 %` for none."""
    if not whole or not part:
        return "0 %"
    share = 100 * part / whole
    return "<0.1 %" if share < 0.1 else f"{share:.1f} %"


@dataclass(frozen=True)
class Cell:
    """One input cell of a failed record; `faulty` when a message names its column."""

    column: str
    text: str
    faulty: bool = False
    fixed_to: str | None = None


@dataclass(frozen=True)
class Record:
    """A failed record as sent, with its messages and what the fix stage made of it."""

    input_row: int
    cells: list[Cell]
    messages: list[str]
    owner: str
    fix: str
    suggestion: str


@dataclass(frozen=True)
class CategoryRow:
    category: str
    field: str
    records: int
    messages: int
    share: str
    share_value: float
    auto_fixed: int
    examples: list[str]


@dataclass(frozen=True)
class Table:
    """A capped table: `total` rows exist, `rows` are shown, the rest is in `csv`."""

    headers: list[str]
    rows: list[list[str]]
    total: int
    csv: str = ""

    @property
    def capped(self) -> bool:
        return self.total > len(self.rows)


@dataclass(frozen=True)
class OwnerLink:
    owner: str
    href: str  # relative to the job folder, e.g. owners/cellar.html
    records: int


@dataclass
class JobView:
    """Everything a job (or one owner's share of it) report shows, most important first."""

    tenant: str
    job_log_id: str
    title: str
    owner: str | None
    verdict: str
    ok: bool
    counts: Counts | None
    facts: list[tuple[str, str]]
    job_link: str | None
    error: str | None
    missing: list[str]
    unclassified: Table
    categories: list[CategoryRow]
    by_field: Table
    top_values: Table
    records: list[Record]
    records_total: int
    record_columns: list[str]
    attention_by_owner: Table
    attention: Table
    anomalies: Table
    unaccounted: Table
    findings: Table
    detection: list[tuple[str, str]]
    corrections: list[tuple[str, str]]
    links: list[tuple[str, str, str]]
    next_steps: list[str]
    owners: list[OwnerLink] = field(default_factory=list)
    trends: list[NightTrend] = field(default_factory=list)
    trend_categories: list[str] = field(default_factory=list)
    link_prefix: str = ""  # "../" in an owner report, so CSV links still point next to report.html


def _has(df: pl.DataFrame | None, *cols: str) -> bool:
    return df is not None and all(c in df.columns for c in cols)


def _table(df: pl.DataFrame, headers: list[str], cols: list[str], csv: str = "") -> Table:
    shown = df.head(ROW_CAP)
    rows = [[clip(v) for v in row] for row in shown.select(cols).iter_rows()] if cols else []
    return Table(headers=headers, rows=rows, total=df.height, csv=csv)


def _empty(headers: list[str]) -> Table:
    return Table(headers=headers, rows=[], total=0)


def input_columns(result: JobResult, failed: pl.DataFrame) -> list[str]:
    """The input columns as sent: from the loaded job when known, else the failed frame's own columns."""
    if result.loaded is not None:
        return [c for c in result.loaded.input_columns if c in failed.columns]
    return [c for c in failed.columns if c not in _NOT_INPUT and not c.startswith("_")]


def owner_of(value: Any) -> str:
    """The owner a record is routed to; empty means nobody was named."""
    text = "" if value is None else str(value).strip()
    return text or UNASSIGNED


def _owner_expr() -> pl.Expr:
    return (
        pl.col("owner").cast(pl.String).str.strip_chars().fill_null("").replace("", UNASSIGNED).alias("owner")
    )


def owner_counts(result: JobResult) -> dict[str, int]:
    """Failed records per owner, most first."""
    recon = result.reconciliation
    if recon is None or not _has(recon.failed, "owner"):
        return {}
    grouped = (
        recon.failed.select(_owner_expr())
        .group_by("owner")
        .len()
        .sort(["len", "owner"], descending=[True, False])
    )
    return {str(o): int(n) for o, n in grouped.iter_rows()}


def _categories(
    result: JobResult, messages: pl.DataFrame | None, failed_total: int, owner: str | None
) -> list[CategoryRow]:
    base: list[CategoryCount] = result.categories
    if (owner is not None or not base) and _has(messages, "input_row", "category", "field"):
        assert messages is not None
        auto = pl.col("fix") == "auto" if "fix" in messages.columns else pl.lit(value=False)
        grouped = messages.group_by("category", "field").agg(
            records=pl.col("input_row").n_unique(),
            messages=pl.len(),
            auto_fixed=pl.col("input_row").filter(auto).n_unique(),
        )
        base = [
            CategoryCount(str(c), str(f or ""), int(r), int(m), int(a))
            for c, f, r, m, a in grouped.select(
                "category", "field", "records", "messages", "auto_fixed"
            ).iter_rows()
        ]
    examples: dict[tuple[str, str], list[str]] = {}
    if _has(messages, "category", "field", "message"):
        assert messages is not None
        ex = messages.group_by("category", "field").agg(
            pl.col("message").unique(maintain_order=True).head(EXAMPLES)
        )
        for c, f, msgs in ex.iter_rows():
            examples[(str(c), str(f or ""))] = [clip(m) for m in msgs]
    rows = [
        CategoryRow(
            category=c.category,
            field=c.field,
            records=c.records,
            messages=c.messages,
            share=pct(c.records, failed_total),
            share_value=c.records / failed_total if failed_total else 0.0,
            auto_fixed=c.auto_fixed,
            examples=examples.get((c.category, c.field), []),
        )
        for c in base
    ]
    return sorted(rows, key=lambda r: (-r.records, r.category, r.field))


def _by_field(messages: pl.DataFrame | None) -> Table:
    headers = ["field", "records", "messages", "categories"]
    if not _has(messages, "input_row", "field", "category"):
        return _empty(headers)
    assert messages is not None
    grouped = (
        messages.with_columns(pl.col("field").fill_null("").replace("", "(none)"))
        .group_by("field")
        .agg(
            records=pl.col("input_row").n_unique(),
            messages=pl.len(),
            categories=pl.col("category").unique().sort().str.join(", "),
        )
        .sort(["records", "field"], descending=[True, False])
    )
    return _table(grouped, headers, headers)


def _top_values(messages: pl.DataFrame | None, failed: pl.DataFrame | None, columns: list[str]) -> Table:
    headers = ["category", "field", "value", "rows"]
    if not _has(messages, "input_row", "category", "field") or failed is None:
        return _empty(headers)
    assert messages is not None
    parts = []
    for col in columns:
        sub = messages.filter((pl.col("field") == col) & (pl.col("category") != "missing_value"))
        if sub.height == 0:
            continue
        values = failed.select("input_row", pl.col(col).cast(pl.String).fill_null("").alias("value"))
        parts.append(sub.select("input_row", "category", "field").join(values, on="input_row", how="inner"))
    if not parts:
        return _empty(headers)
    grouped = (
        pl.concat(parts)
        .group_by("category", "field", "value")
        .agg(rows=pl.col("input_row").n_unique())
        .sort(["rows", "category", "field", "value"], descending=[True, False, False, False])
    )
    shown = grouped.head(TOP_VALUES).with_columns(pl.col("value").replace("", "(empty)"))
    return Table(headers, [[clip(v) for v in r] for r in shown.iter_rows()], grouped.height, "messages.csv")


def _unclassified(messages: pl.DataFrame | None) -> Table:
    headers = ["message", "rows"]
    if not _has(messages, "input_row", "category", "message"):
        return _empty(headers)
    assert messages is not None
    grouped = (
        messages.filter(pl.col("category") == "unclassified")
        .group_by("message")
        .agg(rows=pl.col("input_row").n_unique())
        .sort(["rows", "message"], descending=[True, False])
    )
    return _table(grouped, headers, ["message", "rows"], "messages.csv")


def _records(result: JobResult, failed: pl.DataFrame, columns: list[str]) -> list[Record]:
    shown = failed.sort("input_row").head(ROW_CAP)
    rows = set(shown["input_row"].to_list())
    fixes: dict[int, tuple[str, str]] = {}
    fixed: dict[tuple[int, str], str] = {}
    if result.fixes is not None:
        if _has(result.fixes.rows, "input_row", "fix"):
            sub = result.fixes.rows.filter(pl.col("input_row").is_in(rows))
            sugg = "suggestion" in sub.columns
            for rec in sub.iter_rows(named=True):
                fixes[rec["input_row"]] = (clip(rec["fix"]), clip(rec["suggestion"]) if sugg else "")
        if _has(result.fixes.corrections, "input_row", "field", "after"):
            sub = result.fixes.corrections.filter(pl.col("input_row").is_in(rows))
            for rec in sub.iter_rows(named=True):
                fixed[(rec["input_row"], str(rec["field"]))] = clip(rec["after"])
    records = []
    for rec in shown.iter_rows(named=True):
        row = int(rec["input_row"])
        faulty = {str(f) for f in rec.get("fields") or []}
        cells = [
            Cell(col, clip(rec.get(col)), col in faulty or (row, col) in fixed, fixed.get((row, col)))
            for col in columns
        ]
        fix, suggestion = fixes.get(row, ("", ""))
        records.append(
            Record(
                input_row=row,
                cells=cells,
                messages=[clip(m) for m in rec.get("messages") or []],
                owner=owner_of(rec.get("owner")),
                fix=fix,
                suggestion=suggestion,
            )
        )
    return records


def _attention(result: JobResult, owner: str | None, rows: set[int] | None) -> tuple[Table, Table]:
    by_owner_headers = ["owner", "records", "main reasons"]
    headers = ["input_row", "owner", "reason", "suggestion"]
    fixes = result.fixes
    if fixes is None or not _has(fixes.needs_attention, "input_row"):
        return _empty(by_owner_headers), _empty(headers)
    df = fixes.needs_attention
    for col in ("owner", "reason", "suggestion"):
        if col not in df.columns:
            df = df.with_columns(pl.lit("").alias(col))
    df = df.with_columns(_owner_expr(), pl.col("reason").cast(pl.String).fill_null(""))
    if owner is not None:
        df = df.filter((pl.col("owner") == owner) | pl.col("input_row").is_in(rows or set()))
    df = df.sort("input_row")
    grouped = (
        df.group_by("owner")
        .agg(
            records=pl.len(),
            reasons=pl.col("reason").value_counts(sort=True).head(3).struct.field("reason").str.join("; "),
        )
        .sort(["records", "owner"], descending=[True, False])
    )
    return (
        _table(grouped, by_owner_headers, ["owner", "records", "reasons"]),
        _table(df, headers, headers, "needs_attention.csv"),
    )


def _corrections(result: JobResult, rows: set[int] | None) -> list[tuple[str, str]]:
    """What the fix stage did, for the whole job or (given `rows`) for one owner's rows."""
    fx = result.fixes
    if fx is None:
        return []
    kinds = {"auto": fx.auto_fixed_rows, "suggested": fx.suggested_rows, "manual": fx.manual_rows}
    if rows is not None:
        mine = fx.rows.filter(pl.col("input_row").is_in(rows)) if _has(fx.rows, "input_row", "fix") else None
        counted = dict(mine.group_by("fix").len().iter_rows()) if mine is not None else {}
        kinds = {k: int(counted.get(k, 0)) for k in kinds}
    return [
        ("auto-fixed rows", f"{kinds['auto']:,}"),
        ("rows with a suggestion", f"{kinds['suggested']:,}"),
        ("rows needing a person", f"{kinds['manual']:,}"),
        ("corrected files", ", ".join(p.name for p in fx.corrected_files) or "none"),
    ]


def _detection(result: JobResult) -> list[tuple[str, str]]:
    det = result.detection
    items: list[tuple[str, str]] = []
    for kind, col in det.row_column.items():
        base = det.row_base.get(kind, "?")
        items.append((f"row number ({kind})", f"column {col or '(none)'}, base {base}"))
    for kind, how in det.join.items():
        items.append((f"joined {kind} by", how))
    items.append(("message columns", ", ".join(det.message_columns) or "(none detected)"))
    items.append(("message layout", det.message_layout))
    items.extend((f"encoding of {name}", enc) for name, enc in det.encodings.items())
    items.extend(("note", note) for note in det.notes)
    return [(clip(k), clip(v)) for k, v in items]


def rows_of(n: int) -> str:
    """`1 row`, `2 rows`."""
    return f"{n:,} row" if n == 1 else f"{n:,} rows"


def _next_steps(result: JobResult, by_owner: Table, attention: Table) -> list[str]:
    """Two or three sentences on what to do this morning, from the fix stage's counts."""
    fx = result.fixes
    if fx is None:
        return []
    steps = []
    ready = fx.auto_fixed_rows + fx.suggested_rows
    if fx.corrected_files and ready:
        files = ", ".join(p.name for p in fx.corrected_files[:3]) + (
            " …" if len(fx.corrected_files) > 3 else ""
        )
        steps.append(
            f"{rows_of(fx.auto_fixed_rows)} corrected automatically and {rows_of(fx.suggested_rows)} with a "
            f"suggestion: check and resubmit {files}."
        )
    if by_owner.total:
        who = ", ".join(f"{row[0]} ({row[1]})" for row in by_owner.rows[:6])
        more = f" and {by_owner.total - 6} more owners" if by_owner.total > 6 else ""
        steps.append(f"{rows_of(attention.total)} need a person: {who}{more}. See needs_attention.csv.")
    return steps


def _verdict(counts: Counts | None, error: str | None) -> tuple[str, bool]:
    if counts is None:
        return (
            f"This job could not be analysed: {clip(error)}" if error else "This job was not analysed."
        ), False
    missing = counts.failed + counts.unaccounted
    if missing == 0 and counts.anomalies == 0:
        return f"Every one of the {counts.input_rows:,} rows landed.", True
    parts = f"{missing:,} of {counts.input_rows:,} rows did not land"
    detail = f"{counts.failed:,} failed, {counts.unaccounted:,} unaccounted for"
    noun = "anomaly" if counts.anomalies == 1 else "anomalies"
    extra = f"; {counts.anomalies:,} {noun} to check" if counts.anomalies else ""
    return f"{parts}: {detail}{extra}.", False


def build_job_view(
    result: JobResult,
    *,
    owner: str | None = None,
    owners: list[OwnerLink] | None = None,
    trends: list[NightTrend] | None = None,
) -> JobView:
    """The whole report's content; `owner` narrows records, messages and corrections to that owner."""
    info = result.info
    recon = result.reconciliation
    failed = (
        recon.failed.filter(pl.col("input_row").is_not_null())
        if recon is not None and _has(recon.failed, "input_row")
        else None
    )
    messages = recon.messages if recon is not None else None
    if failed is not None and owner is not None:
        failed = failed.filter(_owner_expr() == owner) if "owner" in failed.columns else failed.clear()
    owner_rows: set[int] | None = None
    if failed is not None and owner is not None:
        owner_rows = set(failed["input_row"].to_list())
        if messages is not None and "input_row" in messages.columns:
            messages = messages.filter(pl.col("input_row").is_in(owner_rows))
    columns = input_columns(result, failed) if failed is not None else []
    failed_total = failed.height if failed is not None else (result.counts.failed if result.counts else 0)

    missing: list[str] = []
    if recon is None:
        missing.append("The failed records were not reconciled, so no record-level detail is shown.")
    if result.fixes is None:
        missing.append("No corrections were attempted for this job.")

    counts = result.counts
    verdict, ok = _verdict(counts, result.error)
    if owner is not None:
        routed = "failed record is" if failed_total == 1 else "failed records are"
        verdict = f"{failed_total:,} {routed} routed to {owner}. {verdict}"

    facts = [
        ("tenant", info.tenant),
        ("job", info.job_log_id),
        ("type", info.type or info.description),
        ("status", info.status),
        ("started", when(info.started_at)),
        ("completed", when(info.completed_at)),
        ("duration", duration(info.started_at, info.completed_at) or "unknown"),
    ]
    corrections = _corrections(result, owner_rows)
    attention_by_owner, attention = _attention(result, owner, owner_rows)
    next_steps = _next_steps(result, attention_by_owner, attention) if owner is None else []
    anomalies = (
        _table(
            recon.anomalies,
            ["kind", "input_row", "source", "detail"],
            ["kind", "input_row", "source", "detail"],
        )
        if recon is not None
        and owner is None
        and _has(recon.anomalies, "kind", "input_row", "source", "detail")
        else _empty(["kind", "input_row", "source", "detail"])
    )
    unaccounted = (
        _table(recon.unaccounted.sort("input_row"), ["input_row"], ["input_row"])
        if recon is not None and owner is None and _has(recon.unaccounted, "input_row")
        else _empty(["input_row"])
    )
    findings = (
        Table(
            ["severity", "file", "check", "column", "row", "value", "message"],
            [
                [
                    clip(f.severity),
                    clip(f.file),
                    clip(f.check),
                    clip(f.column),
                    clip(f.row),
                    clip(f.value),
                    clip(f.message),
                ]
                for f in result.findings[:ROW_CAP]
            ],
            len(result.findings),
            "summary.json",
        )
        if owner is None
        else _empty(["severity", "file", "check", "column", "row", "value", "message"])
    )
    trend_cats = sorted({c for t in trends or [] for c in t.categories})
    return JobView(
        tenant=info.tenant,
        job_log_id=info.job_log_id,
        title=f"Import job {info.job_log_id} of {info.tenant}" + (f": records for {owner}" if owner else ""),
        owner=owner,
        verdict=verdict,
        ok=ok,
        counts=counts,
        facts=[(k, clip(v)) for k, v in facts],
        job_link=safe_link(info.job_status_link),
        error=clip(result.error, 2000) if result.error else None,
        missing=missing,
        unclassified=_unclassified(messages),
        categories=_categories(result, messages, failed_total, owner),
        by_field=_by_field(messages),
        top_values=_top_values(messages, failed, columns),
        records=_records(result, failed, columns) if failed is not None else [],
        records_total=failed_total,
        record_columns=columns,
        attention_by_owner=attention_by_owner,
        attention=attention,
        anomalies=anomalies,
        unaccounted=unaccounted,
        findings=findings,
        detection=_detection(result),
        corrections=corrections,
        next_steps=next_steps,
        links=[(k.relation.replace("_", " "), clip(k.job_log_id), clip(k.file)) for k in result.links],
        owners=owners or [],
        trends=trends or [],
        trend_categories=trend_cats,
        link_prefix="../" if owner is not None else "",
    )


@dataclass(frozen=True)
class IndexJob:
    """One line of the run index."""

    job_log_id: str
    type: str
    status: str
    counts: Counts | None
    ok: bool
    outcome: str
    html: str  # relative link to the job's report.html
    md: str
    link: str | None


@dataclass(frozen=True)
class IndexView:
    """The run: totals over every job, each job's state, and the tenant's trends."""

    title: str
    verdict: str
    ok: bool
    totals: Counts
    jobs: list[IndexJob]
    trends: list[NightTrend]
    trend_categories: list[str]


def _outcome(result: JobResult) -> str:
    """The index's one-cell outcome: the counts are in their own columns."""
    counts = result.counts
    if counts is None:
        return f"not analysed: {clip(result.error, 120)}" if result.error else "not analysed"
    missing = counts.failed + counts.unaccounted
    text = f"{rows_of(missing)} did not land" if missing else "every row landed"
    if counts.anomalies:
        text += f", {counts.anomalies:,} anomal{'y' if counts.anomalies == 1 else 'ies'}"
    return text


def _badness(result: JobResult) -> tuple[int, int]:
    counts = result.counts
    lost = counts.failed + counts.unaccounted if counts else 0
    return (-result.exit_code, -lost)


def build_index_view(
    results: list[JobResult], hrefs: list[tuple[str, str]], trends: list[NightTrend], tenant: str
) -> IndexView:
    """The run index; `hrefs` gives each result's (report.html, report.md) links, in the same order."""
    pairs = sorted(zip(results, hrefs, strict=True), key=lambda p: _badness(p[0]))
    jobs = []
    for result, (html, md) in pairs:
        _, ok = _verdict(result.counts, result.error)
        jobs.append(
            IndexJob(
                job_log_id=clip(result.info.job_log_id),
                type=clip(result.info.type or result.info.description),
                status=clip(result.info.status),
                counts=result.counts,
                ok=ok,
                outcome=_outcome(result),
                html=html,
                md=md,
                link=safe_link(result.info.job_status_link),
            )
        )
    analysed = [r.counts for r in results if r.counts is not None]
    totals = Counts(
        input_rows=sum(c.input_rows for c in analysed),
        imported=sum(c.imported for c in analysed),
        failed=sum(c.failed for c in analysed),
        unaccounted=sum(c.unaccounted for c in analysed),
        anomalies=sum(c.anomalies for c in analysed),
    )
    verdict, ok = _verdict(totals, None)
    not_analysed = len(results) - len(analysed)
    if not_analysed:
        verdict += f" {not_analysed} of {len(results)} jobs could not be analysed."
        ok = False
    return IndexView(
        title=f"Import run of {clip(tenant)}",
        verdict=verdict,
        ok=ok,
        totals=totals,
        jobs=jobs,
        trends=trends,
        trend_categories=sorted({c for t in trends for c in t.categories}),
    )
