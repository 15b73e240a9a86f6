"""The fix stage: certain auto-fixes on failed rows, corrected CSVs for re-upload, `needs_attention.csv` and
`corrections_log.csv`. A row goes into a corrected file only when all its failures are fixed for sure and it
passes the input schema: nothing is guessed. Never prints, never sends anything to Claret.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Mapping, Sequence
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
_NO_MESSAGE = "no message from Claret says why this row failed"
_FORMULA_START = r"^[=+\-@\t\r]"  # FORMULA_TRIGGERS as a polars pattern: what is_formula_like looks at first


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
    """Fix what is certain; write `corrected/`, `needs_attention.csv`, `corrections_log.csv` in out_dir.

    Plans (`RowPlan`) are made only for the rows that may go into a corrected file and those with a
    formula-like value; every other row's fix, suggestion and reason come from its signature's decision,
    joined to it in polars (on a night's 50,000 failed rows most are a handful of failures repeated).
    """
    columns = list(job.input_columns)
    failed = _FailedRows(rec.failed, columns, build_context(job, rec, settings))
    special = failed.special_rows()
    plans = failed.row_plans(special)
    auto = _hold_back([p for p in plans if p.kind == "auto"], job, columns)
    files = _write_corrected(job, auto, out_dir / CORRECTED_DIR)
    result = _result(job, failed, special, plans, files)
    write_people_csv(out_dir / NEEDS_ATTENTION, result.needs_attention)
    write_people_csv(out_dir / CORRECTIONS_LOG, result.corrections)
    return result


def plan_fixes(job: LoadedJob, rec: Reconciliation, settings: Settings) -> list[RowPlan]:
    """Every failed row with its certain fixes, remaining failures and suggestions; writes nothing."""
    columns = list(job.input_columns)
    failed = _FailedRows(rec.failed, columns, build_context(job, rec, settings))
    plans = failed.row_plans(list(range(failed.height)))
    _hold_back([p for p in plans if p.kind == "auto"], job, columns)
    return plans


def _hold_back(auto: list[RowPlan], job: LoadedJob, columns: list[str]) -> list[RowPlan]:
    """Demote the certainly fixed rows that cannot go into a corrected file; the rest, which can."""
    blocked = _why_no_corrected_file(job)
    if blocked:
        for plan in auto:
            plan.demote(blocked, keep_fixes_as_suggestion=True)
        return []
    _demote_duplicates(auto, job)
    _preflight([p for p in auto if p.kind == "auto"], columns)
    return [p for p in auto if p.kind == "auto"]


def build_context(job: LoadedJob, rec: Reconciliation, settings: Settings) -> FixContext:
    """The job's own date order and decimal habit, the unit aliases, and the names known to exist."""
    dates = job.input.get_column("date_filled") if "date_filled" in job.input.columns else None
    quantities = job.input.get_column("quantity") if "quantity" in job.input.columns else None
    # Only the names of fields a failure names are ever looked up (a job proves 50,000 lots).
    names = proven_names(job, rec, _named_fields(rec.failed))
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


class _FailedRows:
    """The failed rows with their signatures' decisions. Failures repeat (the same bad bin, the same date
    spelling), so the rules are applied once per signature (see `_signatures`) to its first row; a decision
    names the messages left by position, so it maps back to every row of the signature."""

    def __init__(self, failed: pl.DataFrame, columns: list[str], context: FixContext) -> None:
        self.frame = failed
        self.columns = columns
        self.height = failed.height
        self.signatures, firsts = _signatures(failed, columns)
        sample = _gather(failed, firsts)
        texts_by_column = [_texts(sample, input_column(c), len(firsts)) for c in columns]
        position = {c: i for i, c in enumerate(columns)}
        # How many messages the rows of each signature have (the same for all: it is part of the signature).
        self.counts = [len(m) if isinstance(m, list) else 0 for m in _column(sample, "messages", len(firsts))]
        self.decisions = [
            _decide(
                _as_tuple(fields),
                _as_tuple(categories),
                count,
                dict(zip(columns, original, strict=True)),
                position,
                context,
            )
            for original, fields, categories, count in zip(
                zip(*texts_by_column, strict=True) if columns else [()] * len(firsts),
                _column(sample, "fields", len(firsts)),
                _column(sample, "categories", len(firsts)),
                self.counts,
                strict=True,
            )
        ]
        self.flagged = _formula_rows(failed, columns)

    def special_rows(self) -> list[int]:
        """The rows a plan is needed for: those of a signature with no failure left (they may go into a
        corrected file) and those with a formula-like value; in order."""
        import polars as pl

        open_ = [s for s, d in enumerate(self.decisions) if not d.remaining and self.counts[s]]
        rows = set(self.signatures.is_in(pl.Series(open_, dtype=pl.UInt32).implode()).arg_true().to_list())
        return sorted(rows | self.flagged)

    def row_plans(self, indices: list[int]) -> list[RowPlan]:
        """The plans of the given rows, in that order."""
        frame = _gather(self.frame, indices)
        height = len(indices)
        columns = self.columns
        texts_by_column = [_texts(frame, input_column(c), height) for c in columns]
        originals = zip(*texts_by_column, strict=True) if columns else [()] * height
        plans: list[RowPlan] = []
        rows = zip(
            indices,
            originals,
            self.signatures.gather(indices).to_list(),
            _column(frame, "messages", height),
            _owners(frame, height),
            _input_rows(frame),
            strict=True,
        )
        for index, original, signature, messages, owner, number in rows:
            if not isinstance(messages, list):
                texts: list[str] = []
            else:
                texts = [str(m) for m in messages] if None in messages else messages
            decision = self.decisions[signature]
            row = dict(zip(columns, original, strict=True))
            values = row.copy()
            for name, after in decision.updates:
                values[name] = after
            remaining = [texts[i] for i in decision.remaining] if texts else [_NO_MESSAGE]
            if decision.updates or index in self.flagged:
                remaining.extend(_formula_reasons(values, columns))
            plans.append(
                RowPlan(
                    input_row=number,
                    original=row,
                    values=values,
                    owner=owner,
                    messages=texts,
                    corrections=list(decision.corrections),
                    remaining=remaining,
                    suggestions=list(decision.suggestions),
                )
            )
        return plans

    def by_signature(self) -> pl.DataFrame:
        """Each row's fix, suggestion and reason as its signature's decision gives them, in polars: right
        for every row but those of `special_rows`."""
        import polars as pl

        kinds, suggestions, remaining, extras = [], [], [], []
        for decision in self.decisions:
            kinds.append("suggested" if decision.suggestions else "manual")
            fixed = [f"{f}: {after} (certain)" for f, _b, after, _r in decision.corrections]
            suggestions.append("; ".join(dict.fromkeys([*fixed, *decision.suggestions])))
            remaining.append(decision.remaining)
            # Not flagged: only a value the decision changed can be formula-like.
            changed = dict(decision.updates)
            extras.append(tuple(_formula_reasons(changed, [c for c in self.columns if c in changed])))
        decided = pl.DataFrame(
            [
                pl.Series("fix", kinds, dtype=pl.String),
                pl.Series("suggestion", suggestions, dtype=pl.String),
                _list_series("remaining", remaining, pl.UInt32),
                _list_series("extra", extras, pl.String),
            ]
        )
        messages = _messages(self.frame, self.height)
        reason = (
            pl.when(pl.col("messages").list.len().fill_null(0) == 0)
            .then(pl.lit(_NO_MESSAGE))
            .otherwise(
                pl.concat_list(pl.col("messages").list.gather(pl.col("remaining")), pl.col("extra"))
                .list.unique(maintain_order=True)
                .list.join("; ")
            )
        )
        return (
            decided.select(pl.all().gather(self.signatures))
            .with_columns(messages)
            .select(
                pl.col("messages").list.join(" | ").fill_null("").alias("messages"),
                reason.alias("reason"),
                "fix",
                "suggestion",
            )
        )


def _named_fields(failed: pl.DataFrame) -> tuple[str, ...]:
    """The reference fields the messages of the failed rows name (as `_decide` reads a field's name)."""
    import polars as pl

    if "fields" not in failed.columns or not isinstance(failed.schema["fields"], pl.List):
        return ()
    named = {str(f or "") for f in failed.get_column("fields").explode().unique().to_list()}
    return tuple(n for n in REFERENCE_FIELDS if n in named)


def _signatures(failed: pl.DataFrame, columns: list[str]) -> tuple[pl.Series, list[int]]:
    """Each row's signature (0, 1, ... in order of first row) and each signature's first row.

    Rows share a signature when the rules cannot tell them apart: the same fields and categories in their
    messages, as many messages, and the same values in the fixable fields those name (and the unit of a
    named quantity).
    """
    import polars as pl

    fields = _list_expr(failed, "fields")
    keys = [fields, _list_expr(failed, "categories"), _list_expr(failed, "messages").list.len()]
    for name in columns:
        if name in FIXABLE_FIELDS and input_column(name) in failed.columns:
            named = fields.list.contains(name)
            if name == "uom":
                named = named | fields.list.contains("quantity")
            keys.append(pl.when(named).then(pl.col(input_column(name))))
    groups = (
        failed.select(*(key.alias(f"key{i}") for i, key in enumerate(keys)))
        .with_row_index("row")
        .group_by([f"key{i}" for i in range(len(keys))], maintain_order=True)
        .agg(pl.col("row"))
        .select(pl.int_range(pl.len(), dtype=pl.UInt32).alias("signature"), "row")
    )
    firsts = groups.get_column("row").list.first().to_list()
    signatures = groups.explode("row").sort("row").get_column("signature")
    return signatures, firsts


@dataclass(frozen=True)
class _Decision:
    """What the rules make of one failure signature: fixed values, and the messages (by position) left."""

    updates: tuple[tuple[str, str], ...]  # field, after
    corrections: tuple[tuple[str, str, str, str], ...]  # field, before, after, rule
    remaining: tuple[int, ...]
    suggestions: tuple[str, ...]


def _decide(
    fields: tuple[object, ...],
    categories: tuple[object, ...],
    count: int,
    values: dict[str, str | None],
    position: Mapping[str, int],
    context: FixContext,
) -> _Decision:
    """The rules applied to each field a row's `count` messages name, the unit first, then in column order;
    the failures of a field no rule fixes remain."""
    by_field: dict[str, list[tuple[int, str]]] = {}
    failures = zip(range(count), (str(c) for c in categories), (str(f or "") for f in fields), strict=False)
    for index, category, name in failures:
        by_field.setdefault(name, []).append((index, category))
    updates: dict[str, str] = {}
    corrections: list[tuple[str, str, str, str]] = []
    remaining: list[int] = []
    suggestions: list[str] = []
    for name in sorted(by_field, key=lambda n: (n not in _FIELD_ORDER, position.get(n, len(position)))):
        indices = [i for i, _c in by_field[name]]
        fixable = name in FIXABLE_FIELDS and name in position
        if not fixable or any(c in UNFIXABLE_CATEGORIES for _i, c in by_field[name]):
            remaining.extend(indices)
            continue
        before = values[name] or ""
        outcome = context.outcome(name, before, values.get("uom") or "")
        if outcome is not None and outcome.after is not None:
            values[name] = updates[name] = outcome.after
            corrections.append((name, before, outcome.after, outcome.rule))
            continue
        remaining.extend(indices)
        if outcome is not None and outcome.suggestion:
            suggestions.append(f"{name}: {outcome.suggestion}")
    return _Decision(tuple(updates.items()), tuple(corrections), tuple(remaining), tuple(suggestions))


def _formula_reasons(values: Mapping[str, str | None], columns: list[str]) -> list[str]:
    reasons = []
    for name in columns:
        value = values[name]
        if is_formula_like(value, numeric=name in NUMERIC_FIELDS):
            reasons.append(
                f"{name} starts with {(value or ' ')[0]!r}: a spreadsheet would run it as a formula"
            )
    return reasons


def _formula_rows(failed: pl.DataFrame, columns: list[str]) -> set[int]:
    """The rows with a formula-like value (judged once per distinct value that starts like a formula)."""
    import polars as pl

    rows: set[int] = set()
    for name in columns:
        column = input_column(name)
        if column not in failed.columns:
            continue
        numeric = name in NUMERIC_FIELDS
        series = failed.get_column(column)
        if series.dtype == pl.String:
            starts = series.filter(series.str.contains(_FORMULA_START).fill_null(False)).unique().to_list()
            formulas = [v for v in starts if is_formula_like(v, numeric=numeric)]
            if formulas:
                rows.update(series.is_in(formulas).fill_null(False).arg_true().to_list())
        else:
            texts = _texts(failed, column, failed.height)
            rows.update(i for i, v in enumerate(texts) if is_formula_like(v, numeric=numeric))
    return rows


def _owners(failed: pl.DataFrame, height: int) -> list[str]:
    """Each row's owner as text, "" when it has none."""
    import polars as pl

    if "owner" in failed.columns and failed.schema["owner"] == pl.String:
        return failed.get_column("owner").fill_null("").to_list()
    return [str(owner or "") for owner in _column(failed, "owner", height)]


def _input_rows(failed: pl.DataFrame) -> list[int]:
    """Each row's input row number (whole numbers as they are; anything else read from its text)."""
    numbers = failed.get_column("input_row")
    if numbers.dtype.is_integer() and not numbers.has_nulls():
        return numbers.to_list()
    return [int(str(number)) for number in numbers.to_list()]


def _input_row_series(failed: pl.DataFrame) -> pl.Series:
    """`_input_rows` as an Int64 series."""
    import polars as pl

    numbers = failed.get_column("input_row")
    if numbers.dtype.is_integer() and not numbers.has_nulls():
        return numbers.cast(pl.Int64)
    return pl.Series("input_row", _input_rows(failed), dtype=pl.Int64)


def _owner_series(failed: pl.DataFrame, height: int) -> pl.Series:
    """`_owners` as a String series."""
    import polars as pl

    if "owner" in failed.columns and failed.schema["owner"] == pl.String:
        return failed.get_column("owner").fill_null("")
    return pl.Series("owner", _owners(failed, height), dtype=pl.String)


def _column(frame: pl.DataFrame, name: str, height: int) -> list[object]:
    return frame.get_column(name).to_list() if name in frame.columns else [None] * height


def _gather(frame: pl.DataFrame, indices: list[int]) -> pl.DataFrame:
    """The frame's rows at the indices, in their order."""
    import polars as pl

    if len(indices) == frame.height and indices == list(range(frame.height)):
        return frame
    return frame.select(pl.all().gather(pl.Series(indices, dtype=pl.UInt32)))


def _list_series(
    name: str, values: Sequence[tuple[object, ...]], inner: pl.DataType | type[pl.DataType]
) -> pl.Series:
    """A list series of the tuples: polars makes a series of each list it is given, so each distinct tuple
    (a few among thousands) is made once and gathered."""
    import polars as pl

    ids = {value: i for i, value in enumerate(dict.fromkeys(values))}
    distinct = pl.Series(name, [list(v) for v in ids], dtype=pl.List(inner))
    return distinct.gather(pl.Series([ids[v] for v in values], dtype=pl.UInt32))


def _messages(frame: pl.DataFrame, height: int) -> pl.Series:
    """Each row's messages as the texts a plan holds (a missing message as "None"), null for no list."""
    import polars as pl

    if "messages" in frame.columns and frame.schema["messages"] == pl.List(pl.String):
        return frame.get_column("messages").list.eval(pl.element().fill_null("None"))
    values = [
        [str(m) for m in v] if isinstance(v, list) else None for v in _column(frame, "messages", height)
    ]
    return pl.Series("messages", values, dtype=pl.List(pl.String))


def _text_series(frame: pl.DataFrame, name: str, height: int) -> pl.Series:
    """`_texts` as a String series."""
    import polars as pl

    if name in frame.columns and frame.schema[name] == pl.String:
        return frame.get_column(name)
    return pl.Series(name, _texts(frame, name, height), dtype=pl.String)


def _list_expr(frame: pl.DataFrame, name: str) -> pl.Expr:
    """A list column, or nulls (no list) when the frame lacks it or it holds no lists."""
    import polars as pl

    if name in frame.columns and isinstance(frame.schema[name], pl.List):
        return pl.col(name)
    return pl.lit(None, dtype=pl.List(pl.String))


def _as_tuple(value: object) -> tuple[object, ...]:
    return tuple(value) if isinstance(value, list) else ()


def _texts(frame: pl.DataFrame, name: str, height: int) -> list[str | None]:
    """A column's values as the input's text: strings as they are, anything else through str()."""
    import polars as pl

    if name not in frame.columns:
        return [None] * height
    series = frame.get_column(name)
    if series.dtype == pl.String:
        return series.to_list()
    return [_text_or_none(v) for v in series.to_list()]


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


def _result(
    job: LoadedJob, failed: _FailedRows, special: list[int], plans: list[RowPlan], files: list[Path]
) -> FixResult:
    """The fix stage's tables: each row's fix, suggestion and reason from its signature's decision, those
    of the rows planned one by one (`special`, with `plans`) put in their place."""
    import polars as pl

    columns = list(job.input_columns)
    decided = failed.by_signature()
    if special:
        at = pl.Series(special, dtype=pl.UInt32)
        kinds = [p.kind for p in plans]
        decided = decided.with_columns(
            decided.get_column("fix").scatter(at, kinds),
            decided.get_column("suggestion").scatter(at, [p.suggestion_text() for p in plans]),
            decided.get_column("reason").scatter(at, ["; ".join(dict.fromkeys(p.remaining)) for p in plans]),
        )
    else:
        kinds = []
    frame = failed.frame
    numbers = _input_row_series(frame)
    rows = decided.select(numbers, "fix", "suggestion")
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
    needs_attention = pl.DataFrame(
        [
            numbers,
            *(
                _text_series(frame, input_column(c), failed.height).alias(name)
                for name, c in zip(attention_columns, columns, strict=True)
            ),
            decided.get_column("messages"),
            decided.get_column("reason"),
            pl.Series("owner", _owners(frame, failed.height), dtype=pl.String),
            decided.get_column("fix"),
            decided.get_column("suggestion"),
        ]
    ).filter(pl.col("fix") != "auto")
    fixes = rows.get_column("fix")
    return FixResult(
        rows=rows,
        corrections=corrections,
        needs_attention=needs_attention,
        corrected_files=files,
        auto_fixed_rows=int((fixes == "auto").sum()),
        suggested_rows=int((fixes == "suggested").sum()),
        manual_rows=int((fixes == "manual").sum()),
    )


def proven_names(
    job: LoadedJob, rec: Reconciliation, fields: Iterable[str] = REFERENCE_FIELDS
) -> dict[str, set[str]]:
    """Reference values the job itself proves exist: every landed row's, and staged rows' not in doubt;
    for the reference `fields` given (all by default).

    One select per frame, so polars works out the fields side by side.
    """
    import polars as pl

    wanted = [n for n in REFERENCE_FIELDS if n in set(fields)]
    found: list[dict[str, list[str]]] = []
    landed = [n for n in wanted if n in job.output.columns]
    if landed:
        found.append(job.output.select(*(_distinct(pl.col(n)).alias(n) for n in landed)).row(0, named=True))
    staged = [n for n in wanted if n in job.staging.columns and "input_row" in job.staging.columns]
    if staged:
        unspecific = (pl.col("field").fill_null("") == "") & pl.col("category").is_in(_UNSPECIFIC_CATEGORIES)
        doubt = rec.messages.filter(pl.col("input_row").is_not_null()).select(
            *(
                pl.col("input_row").filter((pl.col("field") == n) | unspecific).implode().alias(n)
                for n in staged
            )
        )
        sure = pl.col("input_row").is_not_null()
        clean = (
            _distinct(pl.col(n).filter(sure & ~pl.col("input_row").is_in(doubt[n]))).alias(n) for n in staged
        )
        found.append(job.staging.select(*clean).row(0, named=True))
    names: dict[str, set[str]] = {}
    for name in REFERENCE_FIELDS:
        values = {v for distinct in found for v in distinct.get(name, ()) if v}
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


def _distinct(values: pl.Expr) -> pl.Expr:
    """The distinct stripped values, as one list (the empty one among them: callers drop it)."""
    import polars as pl

    # Distinct values first: a million landed rows name a few thousand items, bins and lots.
    return values.cast(pl.String).unique().str.strip_chars().drop_nulls().unique().implode()


def _safe_stem(stem: str) -> str:
    """A file name part from an untrusted input name: plain characters, bounded, never empty or hidden."""
    return _SAFE_STEM.sub("_", stem)[:80].strip("._-") or "input"


def _unique(name: str, taken: Sequence[str]) -> str:
    return f"input_{name}" if name in taken else name


def _text_or_none(value: object) -> str | None:
    return None if value is None else str(value)


def _strip(value: str | None) -> str:
    return (value or "").strip()
