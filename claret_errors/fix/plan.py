"""What the fix rules make of each failed row. Failures repeat (the same bad bin, the same date spelling),
so the rows are grouped by failure signature, the rules decide once per signature, and the decision maps
back to every row; a `RowPlan` is made one by one only where a row needs one. Reads frames, writes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from claret_errors.files.csvwrite import is_formula_like
from claret_errors.fix.references import REFERENCE_FIELDS
from claret_errors.fix.rules import (
    NameIndex,
    Outcome,
    UnitTable,
    fix_date_format,
    fix_quantity,
    fix_spreadsheet_serial,
    fix_unit_alias,
)
from claret_errors.reconcile.accounting import input_column
from claret_errors.results import FixKind

if TYPE_CHECKING:
    import polars as pl

NUMERIC_FIELDS = frozenset({"quantity"})
FIXABLE_FIELDS = frozenset({"date_filled", "quantity", *REFERENCE_FIELDS})
# Categories no change of spelling can cure: an empty value, a duplicate record, an import setting.
GUESSED = "guessed"  # stands in for the category of a message the classifier only guessed
UNFIXABLE_CATEGORIES = frozenset({"missing_value", "duplicate", "not_allowed", GUESSED})
_FIELD_ORDER = ("uom",)  # fixed first: a quantity's unit suffix is checked against the fixed unit
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
    # field, before, after, rule, assumption
    corrections: list[tuple[str, str, str, str, str]] = field(default_factory=list)
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
            self.suggestions.extend(f"{f}: {after} (certain)" for f, _b, after, *_ in self.corrections)

    def suggestion_text(self) -> str:
        fixed = [f"{f}: {after} (certain)" for f, _b, after, *_ in self.corrections] if self.remaining else []
        return "; ".join(dict.fromkeys([*fixed, *self.suggestions]))


class FailedRows:
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
                _as_tuple(confidences),
            )
            for original, fields, categories, confidences, count in zip(
                zip(*texts_by_column, strict=True) if columns else [()] * len(firsts),
                _column(sample, "fields", len(firsts)),
                _column(sample, "categories", len(firsts)),
                _column(sample, "confidences", len(firsts)),
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
            owners(frame, height),
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
            fixed = [f"{f}: {after} (certain)" for f, _b, after, *_ in decision.corrections]
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


def named_fields(failed: pl.DataFrame) -> tuple[str, ...]:
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
    keys = [
        fields,
        _list_expr(failed, "categories"),
        _list_expr(failed, "confidences"),
        _list_expr(failed, "messages").list.len(),
    ]
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
    corrections: tuple[tuple[str, str, str, str, str], ...]  # field, before, after, rule, assumption
    remaining: tuple[int, ...]
    suggestions: tuple[str, ...]


def _decide(
    fields: tuple[object, ...],
    categories: tuple[object, ...],
    count: int,
    values: dict[str, str | None],
    position: Mapping[str, int],
    context: FixContext,
    confidences: tuple[object, ...] = (),
) -> _Decision:
    """The rules applied to each field a row's `count` messages name, the unit first, then in column order;
    the failures of a field no rule fixes remain. Only a rule's classification is acted on: a message
    whose field or category was guessed (or is unknown) stays for a person, and so does its field."""
    by_field: dict[str, list[tuple[int, str]]] = {}
    failures = zip(range(count), (str(c) for c in categories), (str(f or "") for f in fields), strict=False)
    for index, category, name in failures:
        guessed = index < len(confidences) and confidences[index] not in (None, "rule")
        by_field.setdefault(name, []).append((index, GUESSED if guessed else category))
    updates: dict[str, str] = {}
    corrections: list[tuple[str, str, str, str, str]] = []
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
            corrections.append((name, before, outcome.after, outcome.rule, outcome.assumption))
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
    """The rows with a formula-like value (judged once per distinct value that starts like a formula).

    One pass over all text columns finds those holding any candidate at all, so a wide file costs time in
    proportion to its cells, not to its width times a per-column query."""
    import polars as pl

    present = {input_column(name): name for name in columns if _get(failed, input_column(name)) is not None}
    text = [c for c in present if failed.get_column(c).dtype == pl.String]
    marks = failed.select(pl.col(text).str.contains(_FORMULA_START).any()).row(0) if text else ()
    candidates = {c for c, mark in zip(text, marks, strict=True) if mark}
    rows: set[int] = set()
    for column, name in present.items():
        numeric = name in NUMERIC_FIELDS
        series = failed.get_column(column)
        if series.dtype == pl.String:
            if column not in candidates:
                continue
            starts = series.filter(series.str.contains(_FORMULA_START).fill_null(False)).unique().to_list()
            formulas = [v for v in starts if is_formula_like(v, numeric=numeric)]
            if formulas:
                rows.update(series.is_in(formulas).fill_null(False).arg_true().to_list())
        else:
            texts = _texts(failed, column, failed.height)
            rows.update(i for i, v in enumerate(texts) if is_formula_like(v, numeric=numeric))
    return rows


def owners(failed: pl.DataFrame, height: int) -> list[str]:
    """Each row's owner as text, "" when it has none."""
    import polars as pl

    series = _get(failed, "owner")
    if series is not None and series.dtype == pl.String:
        return series.fill_null("").to_list()
    return [str(owner or "") for owner in _column(failed, "owner", height)]


def _input_rows(failed: pl.DataFrame) -> list[int]:
    """Each row's input row number (whole numbers as they are; anything else read from its text)."""
    numbers = failed.get_column("input_row")
    if numbers.dtype.is_integer() and not numbers.has_nulls():
        return numbers.to_list()
    return [int(str(number)) for number in numbers.to_list()]


def input_row_series(failed: pl.DataFrame) -> pl.Series:
    """`_input_rows` as an Int64 series."""
    import polars as pl

    numbers = failed.get_column("input_row")
    if numbers.dtype.is_integer() and not numbers.has_nulls():
        return numbers.cast(pl.Int64)
    return pl.Series("input_row", _input_rows(failed), dtype=pl.Int64)


def _get(frame: pl.DataFrame, name: str) -> pl.Series | None:
    """The named column, or None: a lookup by name, where `name in frame.columns` builds the list of every
    name on each call (quadratic when asked once per column of a wide file)."""
    import polars as pl

    try:
        return frame.get_column(name)
    except pl.exceptions.ColumnNotFoundError:
        return None


def _column(frame: pl.DataFrame, name: str, height: int) -> list[object]:
    series = _get(frame, name)
    return series.to_list() if series is not None else [None] * height


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

    series = _get(frame, "messages")
    if series is not None and series.dtype == pl.List(pl.String):
        return series.list.eval(pl.element().fill_null("None"))
    values = [
        [str(m) for m in v] if isinstance(v, list) else None for v in _column(frame, "messages", height)
    ]
    return pl.Series("messages", values, dtype=pl.List(pl.String))


def text_series(frame: pl.DataFrame, name: str, height: int) -> pl.Series:
    """`_texts` as a String series."""
    import polars as pl

    series = _get(frame, name)
    if series is not None and series.dtype == pl.String:
        return series
    return pl.Series(name, _texts(frame, name, height), dtype=pl.String)


def _list_expr(frame: pl.DataFrame, name: str) -> pl.Expr:
    """A list column, or nulls (no list) when the frame lacks it or it holds no lists."""
    import polars as pl

    series = _get(frame, name)
    if series is not None and isinstance(series.dtype, pl.List):
        return pl.col(name)
    return pl.lit(None, dtype=pl.List(pl.String))


def _as_tuple(value: object) -> tuple[object, ...]:
    return tuple(value) if isinstance(value, list) else ()


def _texts(frame: pl.DataFrame, name: str, height: int) -> list[str | None]:
    """A column's values as the input's text: strings as they are, anything else through str()."""
    import polars as pl

    series = _get(frame, name)
    if series is None:
        return [None] * height
    if series.dtype == pl.String:
        return series.to_list()
    return [_text_or_none(v) for v in series.to_list()]


def _text_or_none(value: object) -> str | None:
    return None if value is None else str(value)
