"""The fix stage: certain auto-fixes on failed rows, corrected CSVs for re-upload, `needs_attention.csv` and
`corrections_log.csv`. A row goes into a corrected file only when all its failures are fixed for sure and it
passes the input schema: nothing is guessed. Never prints, never sends anything to Claret.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from claret_errors.config import Settings
from claret_errors.csvwrite import is_formula_like, write_claret_csv, write_people_csv
from claret_errors.errors import ConfigError
from claret_errors.fields import INVENTORY_FIELDS, alias_table, canonical_field, normalize_header
from claret_errors.fixrules import (
    NameIndex,
    Outcome,
    UnitTable,
    date_order,
    fix_date_format,
    fix_quantity,
    fix_spreadsheet_serial,
    fix_unit_alias,
    quantity_style,
)
from claret_errors.model import FixKind, FixResult, LoadedJob, Reconciliation
from claret_errors.reconcile import input_column

if TYPE_CHECKING:
    import polars as pl

MAX_RECORDS_PER_FILE = 1000  # Claret takes at most 1000 records per import request
CORRECTED_DIR = "corrected"
NEEDS_ATTENTION = "needs_attention.csv"
CORRECTIONS_LOG = "corrections_log.csv"
REFERENCE_FIELDS = ("item_name", "bin_name", "lot_name", "uom")
KEY_FIELDS = ("item_name", "bin_name", "lot_name")  # what identifies an inventory record
NUMERIC_FIELDS = frozenset({"quantity"})
FIXABLE_FIELDS = frozenset({"date_filled", "quantity", *REFERENCE_FIELDS})
# Categories no change of spelling can cure: an empty value, a duplicate record, an import setting.
UNFIXABLE_CATEGORIES = frozenset({"missing_value", "duplicate", "not_allowed"})
# Messages that may be about any field: their rows prove no reference exists.
_UNSPECIFIC_CATEGORIES = ("unknown_reference", "unclassified")
_FIELD_ORDER = ("uom",)  # fixed first: a quantity's unit suffix is checked against the fixed unit
_MASTER_NAME_COLUMNS = frozenset({"name", "abbreviation", "abbr", "code", "short_name"})
# What Python's str.strip() removes, for polars to strip exactly the same (its own set lacks \x1c-\x1f).
_PY_WHITESPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
    "\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
_SAFE_STEM = re.compile(r"[^A-Za-z0-9._-]+")
_CORRECTED_NAME = re.compile(r"_corrected_\d{3}\.csv$")
CORRECTIONS_COLUMNS = ("input_row", "field", "before", "after", "rule")
ATTENTION_EXTRA = ("messages", "reason", "owner", "fix", "suggestion")


@dataclass
class FixContext:
    """What the rules need to know about the job: its date and number habits, units and known names."""

    day_first: bool | None
    comma_decimal: bool
    units: UnitTable
    known: Mapping[str, NameIndex]
    # The tenant's full unit list, from master data: only it can prove that an alias's target does not exist.
    master_units: frozenset[str] | None = None
    _cache: dict[tuple[str, str, str], Outcome | None] = field(default_factory=dict)

    def outcome(self, name: str, value: str, uom: str) -> Outcome | None:
        """The first certain outcome of the field's rules, else the first suggestion, else None."""
        key = (name, value, uom if name == "quantity" else "")
        if key not in self._cache:
            self._cache[key] = self._decide(name, value, uom)
        return self._cache[key]

    def _decide(self, name: str, value: str, uom: str) -> Outcome | None:
        outcomes = [o for o in self._rules(name, value, uom) if o is not None]
        return next((o for o in outcomes if o.certain), outcomes[0] if outcomes else None)

    def _rules(self, name: str, value: str, uom: str) -> list[Outcome | None]:
        known = self.known.get(name)
        if name == "date_filled":
            return [fix_spreadsheet_serial(value), fix_date_format(value, self.day_first)]
        if name == "quantity":
            return [fix_quantity(value, uom, self.units, self.comma_decimal)]
        if name == "uom":
            alias = fix_unit_alias(value, self.units, self.master_units)
            return [alias, known.match(value) if known else None]
        return [known.match(value) if known else None]


@dataclass
class RowPlan:
    """One failed row on its way: its values as fixed so far, what was done, what is left."""

    input_row: int
    original: dict[str, str | None]
    values: dict[str, str | None]
    owner: str
    messages: list[str]
    corrections: list[tuple[str, str, str, str]] = field(default_factory=list)  # field, before, after, rule
    remaining: list[str] = field(default_factory=list)
    suggestions: list[str] = field(default_factory=list)  # for remaining failures only

    @property
    def kind(self) -> FixKind:
        if not self.remaining:
            return "auto"
        return "suggested" if self.suggestions else "manual"

    def demote(self, reason: str, *, keep_fixes_as_suggestion: bool = False) -> None:
        """Out of the corrected files: the reason is recorded; certain fixes can stay as suggestions."""
        self.remaining.append(reason)
        if keep_fixes_as_suggestion:
            self.suggestions.extend(f"{f}: {after} (certain)" for f, _b, after, _r in self.corrections)

    def suggestion_text(self) -> str:
        fixed = [f"{f}: {after} (certain)" for f, _b, after, _r in self.corrections] if self.remaining else []
        return "; ".join(dict.fromkeys([*fixed, *self.suggestions]))


def fix(job: LoadedJob, rec: Reconciliation, settings: Settings, out_dir: Path) -> FixResult:
    """Fix what is certain; write `corrected/`, `needs_attention.csv`, `corrections_log.csv` in out_dir."""
    plans = plan_fixes(job, rec, settings)
    corrected_dir = out_dir / CORRECTED_DIR
    files = _write_corrected(job, [p for p in plans if p.kind == "auto"], corrected_dir)
    result = _result(job, plans, files)
    write_people_csv(out_dir / NEEDS_ATTENTION, result.needs_attention)
    write_people_csv(out_dir / CORRECTIONS_LOG, result.corrections)
    return result


def plan_fixes(job: LoadedJob, rec: Reconciliation, settings: Settings) -> list[RowPlan]:
    """Every failed row with its certain fixes, remaining failures and suggestions; writes nothing."""
    context = build_context(job, rec, settings)
    columns = list(job.input_columns)
    failed = rec.failed
    # Column by column to Python, then zipped: a third faster than polars' row iteration on 100k rows.
    values = zip(*(column.to_list() for column in failed.get_columns()), strict=True)
    rows = (dict(zip(failed.columns, row, strict=True)) for row in values)
    plans = [_plan_row(row, columns, context) for row in rows]
    auto = [p for p in plans if p.kind == "auto"]
    blocked = _why_no_corrected_file(job)
    if blocked:
        for plan in auto:
            plan.demote(blocked, keep_fixes_as_suggestion=True)
        return plans
    _demote_duplicates(auto, job)
    _preflight([p for p in auto if p.kind == "auto"], columns)
    return plans


def build_context(job: LoadedJob, rec: Reconciliation, settings: Settings) -> FixContext:
    """The job's own date order and decimal habit, the unit aliases, and the names known to exist."""
    dates = job.input.get_column("date_filled") if "date_filled" in job.input.columns else None
    quantities = job.input.get_column("quantity") if "quantity" in job.input.columns else None
    names = proven_names(job, rec)
    master = master_names(settings.master_data, settings.aliases)
    for name, values in master.items():
        names.setdefault(name, set()).update(values)
    return FixContext(
        day_first=date_order(dates) if dates is not None else None,
        comma_decimal=quantity_style(quantities) if quantities is not None else False,
        units=UnitTable(settings.units),
        known={name: NameIndex(values) for name, values in names.items()},
        master_units=frozenset(master["uom"]) if "uom" in master else None,
    )


def _plan_row(row: dict[str, object], columns: list[str], context: FixContext) -> RowPlan:
    """Apply the rules to each field a message names; the rest of the row's failures remain."""
    original = {c: _text_or_none(row.get(input_column(c))) for c in columns}
    messages = [str(m) for m in _as_list(row.get("messages"))]
    categories = [str(c) for c in _as_list(row.get("categories"))]
    fields = [str(f or "") for f in _as_list(row.get("fields"))]
    plan = RowPlan(
        input_row=int(str(row["input_row"])),
        original=original,
        values=dict(original),
        owner=str(row.get("owner") or ""),
        messages=messages,
    )
    if not messages:
        plan.remaining.append("no message from Claret says why this row failed")
    by_field: dict[str, list[tuple[str, str]]] = {}
    for message, category, name in zip(messages, categories, fields, strict=False):
        by_field.setdefault(name, []).append((message, category))
    position = {c: i for i, c in enumerate(columns)}
    for name in sorted(by_field, key=lambda n: (n not in _FIELD_ORDER, position.get(n, len(columns)))):
        _fix_field(plan, name, by_field[name], context)
    for name in columns:
        value = plan.values[name]
        if is_formula_like(value, numeric=name in NUMERIC_FIELDS):
            plan.remaining.append(
                f"{name} starts with {(value or ' ')[0]!r}: a spreadsheet would run it as a formula"
            )
    return plan


def _fix_field(plan: RowPlan, name: str, failures: list[tuple[str, str]], context: FixContext) -> None:
    texts = [m for m, _c in failures]
    fixable = name in FIXABLE_FIELDS and name in plan.values
    if not fixable or any(c in UNFIXABLE_CATEGORIES for _m, c in failures):
        plan.remaining.extend(texts)
        return
    before = plan.values[name] or ""
    outcome = context.outcome(name, before, plan.values.get("uom") or "")
    if outcome is not None and outcome.after is not None:
        plan.values[name] = outcome.after
        plan.corrections.append((name, before, outcome.after, outcome.rule))
        return
    plan.remaining.extend(texts)
    if outcome is not None and outcome.suggestion:
        plan.suggestions.append(f"{name}: {outcome.suggestion}")


def _why_no_corrected_file(job: LoadedJob) -> str:
    """Why this job's rows cannot go back as a corrected file at all, or "" when they can."""
    if job.profile != "inventory":
        return "corrected files are made for inventory imports only; apply the suggestion by hand"
    missing = [f for f in INVENTORY_FIELDS if f not in job.input_columns]
    if missing:
        return f"the input lacks column(s) {', '.join(missing)}: Claret would refuse any file like it"
    if len(job.input_headers) != len(job.input_columns):
        return "the input's header names do not match its columns; no file can be made in its format"
    return ""


def _demote_duplicates(auto: list[RowPlan], job: LoadedJob) -> None:
    """A corrected record that repeats a landed one, or an earlier corrected one, would fail again."""
    if not auto:
        return
    landed = _landed_keys(job, {tuple(_strip(p.values.get(k)) for k in KEY_FIELDS) for p in auto})
    seen: dict[tuple[str, ...], int] = {}
    for plan in auto:
        key = tuple(_strip(plan.values.get(k)) for k in KEY_FIELDS)
        if key in landed:
            plan.demote(f"same item, bin and lot as input row {landed[key]}, which this job imported")
        elif key in seen:
            plan.demote(f"same item, bin and lot as corrected input row {seen[key]}")
        else:
            seen[key] = plan.input_row


def _landed_keys(job: LoadedJob, wanted: set[tuple[str, ...]]) -> dict[tuple[str, ...], int]:
    """The input row that landed under each wanted (item, bin, lot) key (the last one if several did).

    Only the output rows with a wanted key reach Python: a job lands a million rows and corrects a few.
    """
    import polars as pl

    if not all(k in job.output.columns for k in KEY_FIELDS) or "input_row" not in job.output.columns:
        return {}
    keys = pl.DataFrame(list(wanted), schema=dict.fromkeys(KEY_FIELDS, pl.String), orient="row")
    stripped = [pl.col(k).cast(pl.String).fill_null("").str.strip_chars(_PY_WHITESPACE) for k in KEY_FIELDS]
    rows = (
        job.output.select(*stripped, "input_row")
        .drop_nulls("input_row")
        .filter(pl.struct(KEY_FIELDS).is_in(keys.select(pl.struct(KEY_FIELDS)).to_series().implode()))
    )
    return {tuple(row[:-1]): int(row[-1]) for row in rows.iter_rows()}


def _preflight(auto: list[RowPlan], columns: list[str]) -> None:
    """Rows the input schema refuses leave the corrected files; the checks are per row, so what remains
    makes files that pass."""
    import pandera.polars as pa

    from claret_errors.schemas import input_schema

    if not auto:
        return
    frame = _frame([[p.values[c] for c in columns] for p in auto], columns)
    try:
        input_schema().validate(frame, lazy=True)
    except pa.errors.SchemaErrors as exc:
        for case in exc.failure_cases.iter_rows(named=True):
            reason = f"pre-flight: {case['column']} fails the input check {case['check']}"
            index = case["index"]
            targets = auto if index is None else [auto[int(index)]]
            for plan in targets:
                if reason not in plan.remaining:
                    plan.demote(reason)


def _frame(rows: list[list[str | None]], columns: Sequence[str]) -> pl.DataFrame:
    import polars as pl

    return pl.DataFrame(rows, schema=dict.fromkeys(columns, pl.String), orient="row")


def _write_corrected(job: LoadedJob, auto: list[RowPlan], folder: Path) -> list[Path]:
    """`<stem>_corrected_001.csv`...: at most 1000 records each, the input's headers; stale ones removed."""
    columns = list(job.input_columns)
    stem = _safe_stem(job.files["input"][0].stem if job.files.get("input") else "input")
    written: list[Path] = []
    for start in range(0, len(auto), MAX_RECORDS_PER_FILE):
        chunk = auto[start : start + MAX_RECORDS_PER_FILE]
        path = folder / f"{stem}_corrected_{len(written) + 1:03d}.csv"
        write_claret_csv(
            path, job.input_headers, _frame([[p.values[c] for c in columns] for p in chunk], columns)
        )
        written.append(path)
    if folder.is_dir():
        for stale in folder.iterdir():
            if stale.is_file() and _CORRECTED_NAME.search(stale.name) and stale not in written:
                stale.unlink()
    return written


def _result(job: LoadedJob, plans: list[RowPlan], files: list[Path]) -> FixResult:
    """The fix stage's tables, built column by column with each plan's kind and suggestion worked out once."""
    import polars as pl

    columns = list(job.input_columns)
    kinds = [p.kind for p in plans]
    suggestions = [p.suggestion_text() for p in plans]
    rows = pl.DataFrame(
        {"input_row": [p.input_row for p in plans], "fix": kinds, "suggestion": suggestions},
        schema={"input_row": pl.Int64, "fix": pl.String, "suggestion": pl.String},
    )
    corrections = pl.DataFrame(
        [
            (p.input_row, *c)
            for p, kind in zip(plans, kinds, strict=True)
            if kind == "auto"
            for c in p.corrections
        ],
        schema={"input_row": pl.Int64, **dict.fromkeys(CORRECTIONS_COLUMNS[1:], pl.String)},
        orient="row",
    )
    attention_columns = [_unique(c, ("input_row", *ATTENTION_EXTRA)) for c in columns]
    pending = [i for i, kind in enumerate(kinds) if kind != "auto"]
    extra: tuple[Sequence[str], ...] = (
        [" | ".join(plans[i].messages) for i in pending],
        ["; ".join(dict.fromkeys(plans[i].remaining)) for i in pending],
        [plans[i].owner for i in pending],
        [kinds[i] for i in pending],
        [suggestions[i] for i in pending],
    )
    needs_attention = pl.DataFrame(
        [
            pl.Series("input_row", [plans[i].input_row for i in pending], dtype=pl.Int64),
            *(
                pl.Series(name, [plans[i].original[c] for i in pending], dtype=pl.String)
                for name, c in zip(attention_columns, columns, strict=True)
            ),
            *(
                pl.Series(name, values, dtype=pl.String)
                for name, values in zip(ATTENTION_EXTRA, extra, strict=True)
            ),
        ]
    )
    return FixResult(
        rows=rows,
        corrections=corrections,
        needs_attention=needs_attention,
        corrected_files=files,
        auto_fixed_rows=kinds.count("auto"),
        suggested_rows=kinds.count("suggested"),
        manual_rows=kinds.count("manual"),
    )


def proven_names(job: LoadedJob, rec: Reconciliation) -> dict[str, set[str]]:
    """Reference values the job itself proves exist: every landed row's, and staged rows' not in doubt."""
    import polars as pl

    names: dict[str, set[str]] = {}
    messages = rec.messages.filter(pl.col("input_row").is_not_null())
    for name in REFERENCE_FIELDS:
        values: set[str] = set()
        if name in job.output.columns:
            values.update(_clean_values(job.output.get_column(name)))
        if name in job.staging.columns and "input_row" in job.staging.columns:
            doubt = messages.filter(
                (pl.col("field") == name)
                | ((pl.col("field").fill_null("") == "") & pl.col("category").is_in(_UNSPECIFIC_CATEGORIES))
            ).get_column("input_row")
            staged = job.staging.select(name, "input_row").filter(
                pl.col("input_row").is_not_null() & ~pl.col("input_row").is_in(doubt.implode())
            )
            values.update(_clean_values(staged.get_column(name)))
        if values:
            names[name] = values
    return names


def master_names(path: Path | None, aliases: Mapping[str, tuple[str, ...]]) -> dict[str, set[str]]:
    """Known names from a master-data export: a CSV or a folder of CSVs (items, bins, lots, units).

    A column counts when its header is a reference field (or an alias of one), or when it is `name` /
    `abbreviation` in a file named after a field (`units.csv` -> uom).
    """
    if path is None:
        return {}
    if path.is_dir():
        files = sorted(p for p in path.glob("*.csv") if p.is_file())
    elif path.is_file():
        files = [path]
    else:
        raise ConfigError("master data not found", file=str(path), key="master_data")
    table = alias_table(aliases)
    names: dict[str, set[str]] = {}
    for file in files:
        header, rows = _read_master(file)
        for index, column in enumerate(header):
            target = _master_field(column, file.stem, table)
            if target:
                values = (row[index].strip() for row in rows if index < len(row))
                names.setdefault(target, set()).update(v for v in values if v)
    return names


def _master_field(column: str, stem: str, table: Mapping[str, str]) -> str:
    """The reference field a master-data column lists, or "" if none."""
    canon = canonical_field(column, table)
    if canon in REFERENCE_FIELDS:
        return canon
    if normalize_header(column) in _MASTER_NAME_COLUMNS:
        for candidate in (stem, stem.rstrip("sS")):
            canon = canonical_field(candidate, table)
            if canon in REFERENCE_FIELDS:
                return canon
    return ""


def _read_master(file: Path) -> tuple[list[str], list[list[str]]]:
    try:
        with file.open(encoding="utf-8-sig", newline="") as handle:
            rows = list(csv.reader(handle))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise ConfigError(f"master data cannot be read: {exc}", file=str(file), key="master_data") from exc
    return (rows[0], rows[1:]) if rows else ([], [])


def _clean_values(series: pl.Series) -> set[str]:
    import polars as pl

    # Distinct values first: a million landed rows name a few thousand items, bins and lots.
    text = series.cast(pl.String).unique().str.strip_chars().drop_nulls()
    return {v for v in text.unique().to_list() if v}


def _safe_stem(stem: str) -> str:
    """A file name part from an untrusted input name: plain characters, bounded, never empty or hidden."""
    return _SAFE_STEM.sub("_", stem)[:80].strip("._-") or "input"


def _unique(name: str, taken: Sequence[str]) -> str:
    return f"input_{name}" if name in taken else name


def _text_or_none(value: object) -> str | None:
    return None if value is None else str(value)


def _strip(value: str | None) -> str:
    return (value or "").strip()


def _as_list(value: object) -> list[object]:
    return list(value) if isinstance(value, list) else []
