"""The tables of a job report computed from the pipeline's polars frames, each capped for the page.

Reads frames defensively (a missing column gives an empty table, never a crash) and returns plain strings
and numbers. It never escapes, formats markup or writes files.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

import polars as pl

from claret_errors.reconcile.advice import GUESSED, advice_for
from claret_errors.reconcile.classify import UNCLASSIFIED
from claret_errors.report.format import FULL_CAP, ROW_CAP, Table, clip, pct
from claret_errors.results import CategoryCount, Finding, JobResult

TOP_VALUES = 20
EXAMPLES = 2
_NOT_INPUT = {"input_row", "messages", "categories", "fields", "confidences", "owner", "fix", "suggestion"}
UNASSIGNED = "unassigned"
ANOMALY_HEADERS = ["kind", "input_row", "source", "detail"]
FINDING_HEADERS = ["severity", "file", "check", "column", "what", "input rows"]
_LINE_PREFIX = re.compile(r"^line \d+: ")
ROWS_LISTED = 12  # input rows named in one findings cell; the rest are counted
# How a message was read, said the same way wherever a report marks it.
KNOWN_WORDING = "a known Claret wording"
NOT_UNDERSTOOD = "not understood: see Claret's words"


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
    guessed: tuple[bool, ...] = ()  # per message: only guessed from its wording (else a known wording)

    @property
    def said(self) -> list[tuple[str, bool]]:
        """Each message with whether its meaning was only guessed from its wording."""
        return [(m, i < len(self.guessed) and self.guessed[i]) for i, m in enumerate(self.messages)]


@dataclass(frozen=True)
class CategoryRow:
    """One line of the categories table, with its share of failed records and example messages."""

    category: str
    field: str
    records: int
    messages: int
    share: str
    share_value: float
    auto_fixed: int
    examples: list[str]
    advice: str = ""
    guessed: int = 0  # of `records`, those whose message for this line was only guessed from its wording

    @property
    def uncertain(self) -> bool:
        """Whether any record of the line was read by a guess, or not understood at all."""
        return self.guessed > 0 or self.category == UNCLASSIFIED

    @property
    def how_known(self) -> str:
        """How the line's records were read: by a known wording, our guess, or not at all, in plain words."""
        if self.category == UNCLASSIFIED:
            return NOT_UNDERSTOOD
        if self.guessed == 0:
            return KNOWN_WORDING
        if self.guessed >= self.records:
            return GUESSED
        return f"{self.guessed:,} of {self.records:,} records: {GUESSED}"


@dataclass(frozen=True)
class CorrectionRow:
    """Automatic changes of one kind (a field, a rule, an assumption), with one example and the row count."""

    field: str
    rule: str
    assumption: str
    rows: int
    before: str
    after: str


def has(df: pl.DataFrame | None, *cols: str) -> bool:
    """Whether a frame is there and has every column named; other stages may still change their frames."""
    return df is not None and all(c in df.columns for c in cols)


def table(df: pl.DataFrame, headers: list[str], cols: list[str], csv: str = "") -> Table:
    """The first ROW_CAP rows of `cols` as display text, remembering how many there are in all."""
    shown = df.head(ROW_CAP)
    rows = [[clip(v) for v in row] for row in shown.select(cols).iter_rows()] if cols else []
    return Table(headers=headers, rows=rows, total=df.height, csv=csv)


def empty(headers: list[str]) -> Table:
    """A table with nothing to show."""
    return Table(headers=headers, rows=[], total=0)


def input_columns(result: JobResult, failed: pl.DataFrame) -> list[str]:
    """The input columns as sent: from the loaded job when known, else the failed frame's own columns."""
    if result.loaded is not None:
        present = set(failed.columns)  # once: frame.columns builds a new list on every call
        return [c for c in result.loaded.input_columns if c in present]
    return [c for c in failed.columns if c not in _NOT_INPUT and not c.startswith("_")]


def owner_of(value: Any) -> str:
    """The owner a record is routed to; empty means nobody was named."""
    text = "" if value is None else str(value).strip()
    return text or UNASSIGNED


def owner_expr() -> pl.Expr:
    """The owner column with blanks and nulls routed to `unassigned`, so every record has an owner page."""
    return (
        pl.col("owner").cast(pl.String).str.strip_chars().fill_null("").replace("", UNASSIGNED).alias("owner")
    )


def owner_counts(result: JobResult) -> dict[str, int]:
    """Failed records per owner, most first."""
    recon = result.reconciliation
    if recon is None or not has(recon.failed, "owner"):
        return {}
    grouped = (
        recon.failed.select(owner_expr())
        .group_by("owner")
        .len()
        .sort(["len", "owner"], descending=[True, False])
    )
    return {str(o): int(n) for o, n in grouped.iter_rows()}


def categories(
    result: JobResult, messages: pl.DataFrame | None, failed_total: int, owner: str | None
) -> list[CategoryRow]:
    """Category lines, most records first; recomputed from the messages for one owner or when none came."""
    base: list[CategoryCount] = result.categories
    if (owner is not None or not base) and has(messages, "input_row", "category", "field"):
        assert messages is not None
        auto = pl.col("fix") == "auto" if "fix" in messages.columns else pl.lit(value=False)
        guess = pl.col("confidence") == "guessed" if "confidence" in messages.columns else pl.lit(value=False)
        grouped = messages.group_by("category", "field").agg(
            records=pl.col("input_row").n_unique(),
            messages=pl.len(),
            auto_fixed=pl.col("input_row").filter(auto).n_unique(),
            guessed=pl.col("input_row").filter(guess).n_unique(),
        )
        base = [
            CategoryCount(str(c), str(f or ""), int(r), int(m), int(a), int(g))
            for c, f, r, m, a, g in grouped.select(
                "category", "field", "records", "messages", "auto_fixed", "guessed"
            ).iter_rows()
        ]
    examples: dict[tuple[str, str], list[str]] = {}
    if has(messages, "category", "field", "message"):
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
            advice=advice_for(c.category, c.field),
            guessed=c.guessed,
        )
        for c in base
    ]
    return sorted(rows, key=lambda r: (-r.records, r.category, r.field))


def by_field(messages: pl.DataFrame | None) -> Table:
    """Failed records and messages per input column."""
    headers = ["field", "records", "messages", "categories"]
    if not has(messages, "input_row", "field", "category"):
        return empty(headers)
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
    return table(grouped, headers, headers)


def top_values(messages: pl.DataFrame | None, failed: pl.DataFrame | None, columns: list[str]) -> Table:
    """The cell values behind the most failures (an unknown bin, a bad date), with how many rows each."""
    headers = ["category", "field", "value", "rows"]
    if not has(messages, "input_row", "category", "field") or failed is None:
        return empty(headers)
    assert messages is not None
    # One join for every column: each message meets its row's value in the column it names.
    present = set(failed.columns)  # once: frame.columns builds a new list on every call
    wanted = [c for c in dict.fromkeys(columns) if c in present and c != "input_row"]
    about = messages.filter(pl.col("field").is_in(wanted) & (pl.col("category") != "missing_value"))
    if about.height == 0:
        return empty(headers)
    values = failed.select("input_row", *(pl.col(c).cast(pl.String).fill_null("") for c in wanted)).unpivot(
        index="input_row", variable_name="field", value_name="value"
    )
    pairs = about.select("input_row", "category", pl.col("field").cast(pl.String))
    grouped = (
        pairs.join(values, on=["input_row", "field"], how="inner")
        .group_by("category", "field", "value")
        .agg(rows=pl.col("input_row").n_unique())
        .sort(["rows", "category", "field", "value"], descending=[True, False, False, False])
    )
    shown = grouped.head(TOP_VALUES).with_columns(pl.col("value").replace("", "(empty)"))
    return Table(headers, [[clip(v) for v in r] for r in shown.iter_rows()], grouped.height, "messages.csv")


def unclassified(messages: pl.DataFrame | None) -> Table:
    """Messages no rule matched, verbatim, with how many rows carry each."""
    headers = ["message", "rows"]
    if not has(messages, "input_row", "category", "message"):
        return empty(headers)
    assert messages is not None
    grouped = (
        messages.filter(pl.col("category") == UNCLASSIFIED)
        .group_by("message")
        .agg(rows=pl.col("input_row").n_unique())
        .sort(["rows", "message"], descending=[True, False])
    )
    return table(grouped, headers, ["message", "rows"], "messages.csv")


def records(result: JobResult, failed: pl.DataFrame, columns: list[str]) -> list[Record]:
    """The first ROW_CAP failed records with faulty cells marked and applied corrections attached."""
    shown = failed.sort("input_row").head(ROW_CAP)
    rows = set(shown["input_row"].to_list())
    fixes: dict[int, tuple[str, str]] = {}
    fixed: dict[tuple[int, str], str] = {}
    if result.fixes is not None:
        if has(result.fixes.rows, "input_row", "fix"):
            sub = result.fixes.rows.filter(pl.col("input_row").is_in(rows))
            sugg = "suggestion" in sub.columns
            for rec in sub.iter_rows(named=True):
                fixes[rec["input_row"]] = (clip(rec["fix"]), clip(rec["suggestion"]) if sugg else "")
        if has(result.fixes.corrections, "input_row", "field", "after"):
            sub = result.fixes.corrections.filter(pl.col("input_row").is_in(rows))
            for rec in sub.iter_rows(named=True):
                fixed[(rec["input_row"], str(rec["field"]))] = clip(rec["after"])
    records = []
    for rec in shown.iter_rows(named=True):
        row = int(rec["input_row"])
        faulty = {str(f) for f in rec.get("fields") or []}
        cells = [
            Cell(
                col, clip(rec.get(col), FULL_CAP), col in faulty or (row, col) in fixed, fixed.get((row, col))
            )
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
                guessed=tuple(c == "guessed" for c in rec.get("confidences") or []),
            )
        )
    return records


def fix_counts(result: JobResult, rows: set[int] | None) -> dict[str, int]:
    """Rows by what the fix stage made of them (auto, suggested, manual): the job's, or those of `rows`."""
    fx = result.fixes
    if fx is None:
        return {}
    if rows is None:
        return {"auto": fx.auto_fixed_rows, "suggested": fx.suggested_rows, "manual": fx.manual_rows}
    if not has(fx.rows, "input_row", "fix"):
        return {}
    mine = fx.rows.filter(pl.col("input_row").is_in(rows))
    return {str(k): int(n) for k, n in mine.group_by("fix").len().iter_rows()}


def correction_rows(result: JobResult, rows: set[int] | None) -> list[CorrectionRow]:
    """The automatic changes (of `rows` when given) by field, rule and assumption, most rows first."""
    fx = result.fixes
    if fx is None or not has(fx.corrections, "input_row", "field", "before", "after", "rule"):
        return []
    df = fx.corrections
    if rows is not None:
        df = df.filter(pl.col("input_row").is_in(rows))
    assumption = pl.col("assumption") if "assumption" in df.columns else pl.lit("")
    grouped = (
        df.with_columns(assumption.cast(pl.String).fill_null("").alias("assumption"))
        .group_by("field", "rule", "assumption", maintain_order=True)
        .agg(pl.col("input_row").n_unique().alias("rows"), pl.col("before").first(), pl.col("after").first())
        .sort(["rows", "field", "rule"], descending=[True, False, False])
    )
    return [
        CorrectionRow(clip(f), clip(r), clip(a, 500), int(n), clip(b), clip(after))
        for f, r, a, n, b, after in grouped.head(ROW_CAP).iter_rows()
    ]


def anomalies(result: JobResult) -> Table:
    """Rows imported and failed at once, twice, or without an input row."""
    recon = result.reconciliation
    if recon is None or not has(recon.anomalies, *ANOMALY_HEADERS):
        return empty(ANOMALY_HEADERS)
    return table(recon.anomalies, ANOMALY_HEADERS, ANOMALY_HEADERS)


def unaccounted(result: JobResult) -> Table:
    """Input rows in neither the output nor the errors file."""
    recon = result.reconciliation
    if recon is None or not has(recon.unaccounted, "input_row"):
        return empty(["input_row"])
    return table(recon.unaccounted.sort("input_row"), ["input_row"], ["input_row"])


def findings(found: list[Finding]) -> Table:
    """Schema findings with each observation once: the same check on the same column and file in one line,
    naming the input rows it concerns (its message's own "line N" left out: the rows say where)."""
    groups: dict[tuple[str, str, str, str, str], list[int]] = {}
    for f in found:
        what = _LINE_PREFIX.sub("", f.message)
        if f.column and what.startswith(f"{f.column}: "):
            what = what[len(f.column) + 2 :]
        key = (f.severity, PurePath(f.file).name, f.check, f.column, what)
        rows = groups.setdefault(key, [])
        if f.row is not None and f.row not in rows:
            rows.append(f.row)
    order = {"error": 0, "warning": 1, "info": 2}
    lines = sorted(groups.items(), key=lambda kv: (order.get(kv[0][0], 3), -len(kv[1]), kv[0]))
    shown = [[*(clip(v) for v in key), _row_list(sorted(rows))] for key, rows in lines[:ROW_CAP]]
    return Table(FINDING_HEADERS, shown, len(lines), "summary.json")


def _row_list(rows: list[int]) -> str:
    """`3, 8, 12` or `3, 8, … (40 rows)`."""
    if not rows:
        return ""
    text = ", ".join(str(r) for r in rows[:ROWS_LISTED])
    return text if len(rows) <= ROWS_LISTED else f"{text}, … ({len(rows):,} rows)"


def detection(result: JobResult) -> list[tuple[str, str]]:
    """What loading assumed (row numbers, join, message columns, encodings), one line each."""
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
