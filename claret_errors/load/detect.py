"""Learn from the data what Claret does not document: the row column and its base, the message columns
and how messages share a cell; every guess tested against the input and written down in plain words.
Polars frames only: never reads files, loops over rows in Python only for JSON cells polars refuses.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

import polars as pl

from claret_errors.config import DetectOverrides
from claret_errors.fields import normalize_header

INPUT_ROW = "input_row"
SAMPLE_ROWS = 5000
AGREEMENT_FLOOR = 0.5  # below this share of agreeing fields, a row column is not trusted
PREFIX = re.compile(r"(?i)there was an error on row\s+(\d+)")
_PREFIX_SPLIT = r"(?i)\s*there was an error on row\s+\d+\s*[.:]?\s*"
_SPLIT = "\x1e"
ROW_NAMES = frozenset(
    {
        "row",
        "rows",
        "row_number",
        "row_num",
        "rownum",
        "row_no",
        "row_index",
        "row_id",
        "line",
        "line_number",
        "line_no",
        "lineno",
        "input_row",
        "source_row",
        "record",
        "record_number",
        "record_no",
        "index",
        "csv_row",
        "csv_line",
        "original_row",
    }
)
MESSAGE_NAMES = frozenset(
    {
        "reason",
        "reasons",
        "failure",
        "failure_reason",
        "detail",
        "details",
        "issue",
        "issues",
        "problem",
        "problems",
    }
)
DELIMITERS: tuple[tuple[str, str], ...] = (("\n", "newline"), (" | ", "' | '"), ("; ", "'; '"))
BASES = ("1", "2", "0", "line")  # preference order when the data cannot tell them apart


@dataclass
class RowLink:
    """How one artifact's rows were tied to input rows: the resulting `input_row` and what was assumed."""

    input_row: pl.Series
    column: str | None
    base: str
    join: str
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class MessageLayout:
    """Where an errors file keeps its messages and how they share a cell."""

    columns: tuple[str, ...]
    delimiter: str | None
    json_list: bool
    prefixed: bool

    def describe(self) -> str:
        """The layout in plain words, for the report."""
        if not self.columns:
            return "no message column found"
        parts = [f"{len(self.columns)} message columns" if len(self.columns) > 1 else "one message column"]
        if self.json_list:
            parts.append("a JSON list per cell")
        elif self.delimiter is not None:
            name = dict(DELIMITERS)[self.delimiter]
            parts.append(f"several messages per cell separated by {name}")
        else:
            parts.append("one message per cell")
        if self.prefixed:
            parts.append("'There was an error on row N.' prefixes removed")
        return ", ".join(parts)


def _norm(expr: pl.Expr) -> pl.Expr:
    """Trimmed, case-folded text: how two cells are compared when deciding they mean the same value."""
    return expr.cast(pl.String).str.strip_chars().str.to_lowercase().fill_null("")


def detect_messages(frame: pl.DataFrame, skip: Sequence[str], overrides: DetectOverrides) -> MessageLayout:
    """Message columns by the override, else by name, else by content (sentences), tested on a sample."""
    present = [c for c in frame.columns if c not in skip]
    if overrides.message_columns:
        named = (configured_column(c, frame.columns) for c in overrides.message_columns)
        columns = [c for c in named if c is not None]
    else:
        columns = [
            c
            for c in present
            if _message_name(c) and not _all_integers(frame.get_column(c).head(SAMPLE_ROWS))
        ]
        if not columns:
            columns = [c for c in present if _looks_like_sentences(frame.get_column(c).head(SAMPLE_ROWS))]
    sample = [
        v
        for c in columns
        for v in frame.get_column(c).head(SAMPLE_ROWS).drop_nulls().to_list()
        if isinstance(v, str) and v.strip()
    ]
    json_list = bool(sample) and sum(_json_list(v) is not None for v in sample) >= 0.8 * len(sample)
    delimiter = None
    if not json_list:
        for sep, _name in DELIMITERS:
            if sum(sep in v.strip() for v in sample) >= max(1, 0.05 * len(sample)):
                delimiter = sep
                break
    prefixed = any(PREFIX.search(v) for v in sample)
    return MessageLayout(tuple(columns), delimiter, json_list, prefixed)


def configured_column(name: str | None, columns: Sequence[str]) -> str | None:
    """A column named in the config, as written in the file (`Row #`) or as loaded (`row`)."""
    if name is None:
        return None
    if name in columns:
        return name
    normalised = normalize_header(name)
    return normalised if normalised in columns else None


def _message_name(name: str) -> bool:
    return "error" in name or "message" in name or name in MESSAGE_NAMES


def _looks_like_sentences(values: pl.Series) -> bool:
    text = values.drop_nulls()
    if text.len() == 0 or text.dtype != pl.String:
        return False
    words = text.str.count_matches(" ", literal=True).mean()
    return isinstance(words, float) and words >= 3


def _json_list(value: str) -> list[str] | None:
    text = value.strip()
    if not (text.startswith("[") and text.endswith("]")):
        return None
    try:
        parsed = json.loads(text)
    except ValueError:
        return None
    if not isinstance(parsed, list):
        return None
    return [str(x) for x in parsed if x is not None]


def messages_column(frame: pl.DataFrame, layout: MessageLayout) -> pl.Series:
    """`messages` (List[String]): every message of each row, split by the layout, prefixes removed."""
    if not layout.columns:
        return pl.Series("messages", [[] for _ in range(frame.height)], dtype=pl.List(pl.String))
    lists: list[pl.Series] = []
    for name in layout.columns:
        col = frame.get_column(name).cast(pl.String)
        if layout.json_list:
            lists.append(_json_cells(col))
        else:
            cell = col.fill_null("")
            if layout.delimiter is not None:
                cell = cell.str.replace_all("\r\n", "\n", literal=True)
                cell = cell.str.replace_all(layout.delimiter, _SPLIT, literal=True)
            lists.append(cell)
    joined = pl.DataFrame(lists).select(pl.concat_str(pl.all(), separator=_SPLIT).alias("messages"))
    return joined.select(
        pl.col("messages")
        .str.replace_all(_PREFIX_SPLIT, _SPLIT)
        .str.split(_SPLIT)
        .list.eval(pl.element().str.strip_chars().filter(pl.element().str.len_chars() > 0))
    ).to_series()


def _json_cells(col: pl.Series) -> pl.Series:
    """JSON-list cells as one text with the messages split-marked; polars decodes, Python only when a
    cell is not a JSON list of strings (kept whole as one message, never dropped)."""
    try:
        return col.str.json_decode(pl.List(pl.String)).list.join(_SPLIT).fill_null("")
    except (pl.exceptions.PolarsError, ValueError):
        cells = col.to_list()
        parsed = [_json_list(v) if v is not None else [] for v in cells]
        texts = [p if p is not None else [v] for p, v in zip(parsed, cells, strict=True)]
        return pl.Series(col.name, [_SPLIT.join(t) for t in texts], dtype=pl.String)


def prefix_rows(frame: pl.DataFrame, layout: MessageLayout) -> pl.Series | None:
    """The N of the first 'There was an error on row N.' in each row's messages, when there are any."""
    if not layout.prefixed:
        return None
    found = pl.DataFrame([frame.get_column(c).cast(pl.String) for c in layout.columns]).select(
        pl.coalesce(pl.col(c).str.extract(PREFIX.pattern, 1) for c in layout.columns)
    )
    return found.to_series()


PREFIX_CANDIDATE = "message prefix"  # the candidate that is the errors' "There was an error on row N"


class _Rank(NamedTuple):
    """One (candidate, base) tried as the row reference, and how well it did."""

    score: float  # share of sampled rows whose fields agree with the input row they point at
    real_column: bool  # a column of the file, which wins a tie over the message prefix
    base_order: int  # 0 for the likeliest base, more negative the less likely (BASES order)
    name: str
    base: str

    @property
    def key(self) -> tuple[float, bool, int]:
        """What ranks: the score, then a real column, then the likelier base (the first found wins ties)."""
        return self.score, self.real_column, self.base_order

    @property
    def unbeatable(self) -> bool:
        """A real column, perfect at the likeliest base: nothing ranks higher."""
        return self.key == (1.0, True, 0)


def link_rows(
    kind: str,
    frame: pl.DataFrame,
    source: pl.DataFrame,
    fields: Sequence[str],
    overrides: DetectOverrides,
    prefix: pl.Series | None = None,
    likely: pl.Series | None = None,
) -> RowLink:
    """Tie each row of `frame` to an input row: the best-agreeing (column, base), else the record's fields.

    `source` is the input frame (`input_row`, `_source_line`, fields); `fields` the input fields.
    `likely`, when given, is a guess at the input rows of a frame joined on fields, in order (the input
    rows no error names, for an output file): taken only if every record equals its guessed input row.
    """
    present = set(frame.columns)  # once: frame.columns builds a new list on every call
    shared = [f for f in fields if f in present]
    notes: list[str] = []
    configured = configured_column(overrides.row_column, frame.columns) if overrides.row_column else None
    if overrides.row_column and configured is None:
        notes.append(f"{kind}: configured row column {overrides.row_column!r} is not in the file")
    candidates = _row_candidates(frame, shared, configured, prefix)
    forced_base = None if overrides.row_base is None else str(overrides.row_base)
    best = _best_rank(frame, candidates, source, shared, forced_base)
    # The user's own column is taken at their word; any other must agree with the data.
    if best is not None and (
        best.score >= AGREEMENT_FLOOR or (not shared and best.score > 0) or configured is not None
    ):
        return _link_by_reference(kind, best, candidates[best.name], source, bool(shared), notes)
    if shared:
        if best is not None:
            notes.append(
                f"{kind}: no row column agrees with the input (best {best.score:.0%}); joined on fields"
            )
        else:
            notes.append(f"{kind}: no row column; joined on the record fields {', '.join(shared)}")
        rows = _join_on_fields(frame, source, shared, likely)
        return RowLink(rows, None, "fields", "record fields", notes)
    notes.append(f"{kind}: neither a row column nor input fields; rows cannot be linked to input rows")
    return RowLink(pl.Series(INPUT_ROW, [None] * frame.height, dtype=pl.Int64), None, "fields", "none", notes)


def _row_candidates(
    frame: pl.DataFrame, shared: Sequence[str], configured: str | None, prefix: pl.Series | None
) -> dict[str, pl.Series]:
    """The columns that may hold row numbers: the configured one alone when it is there, else every
    row-named or all-integer column that is no input field, and the message prefix."""
    if configured is not None:
        return {configured: frame.get_column(configured)}
    candidates: dict[str, pl.Series] = {}
    for name in frame.columns:
        if name in shared or name.startswith("_"):
            continue
        if name in ROW_NAMES or _all_integers(frame.get_column(name).head(SAMPLE_ROWS)):
            candidates[name] = frame.get_column(name)
    if prefix is not None:
        candidates[PREFIX_CANDIDATE] = prefix
    return candidates


def _best_rank(
    frame: pl.DataFrame,
    candidates: dict[str, pl.Series],
    source: pl.DataFrame,
    shared: Sequence[str],
    forced_base: str | None,
) -> _Rank | None:
    """The best (candidate, base) on a sample of rows; None without candidates."""
    best: _Rank | None = None
    sample = frame.head(SAMPLE_ROWS)
    for name, values in candidates.items():
        for base in (forced_base,) if forced_base else BASES:
            score = _agreement(sample, values.head(SAMPLE_ROWS), base, source, shared)
            rank = _Rank(
                score, name != PREFIX_CANDIDATE, -BASES.index(base) if base in BASES else 0, name, base
            )
            if best is None or rank.key > best.key:
                best = rank
            if score == 1.0:
                break  # this column's later bases rank lower: none can beat a perfect score
        if best is not None and best.unbeatable:
            break
    return best


def _link_by_reference(
    kind: str, best: _Rank, values: pl.Series, source: pl.DataFrame, checked: bool, notes: list[str]
) -> RowLink:
    """The rows `best` points at, with a note saying which column, which base and how sure."""
    rows = _pointed_rows(values, best.base, source)
    how = f"{best.score:.0%} of sampled rows agree with the input row they point at"
    if not checked:
        how = "no shared fields to check against; chosen from the range of values"
    label = f"column {best.name!r}" if best.real_column else "row numbers in the message prefix"
    base_name = "physical line numbers" if best.base == "line" else f"{best.base}-based"
    notes.append(f"{kind}: {label} read as {base_name} ({how})")
    if best.real_column:
        return RowLink(rows, best.name, best.base, "row reference", notes)
    return RowLink(rows, None, "prefix", "row reference", notes)


def _all_integers(values: pl.Series) -> bool:
    text = values.cast(pl.String).drop_nulls().str.strip_chars()
    text = text.filter(text != "")
    return text.len() > 0 and bool(text.str.contains(r"^\d{1,12}$").all())


def _pointed_rows(values: pl.Series, base: str, source: pl.DataFrame) -> pl.Series:
    """The input_row each value points at under `base`; null where it points outside the input."""
    text = values.cast(pl.String)
    number = text.cast(pl.Int64, strict=False)
    if number.null_count() > text.null_count():  # padded numbers: stripping copies every value, so only then
        number = text.str.strip_chars().cast(pl.Int64, strict=False)
    if source.height == 0:
        return pl.Series(INPUT_ROW, [None] * values.len(), dtype=pl.Int64)
    if base == "line":
        return _rows_at_lines(number, source)
    shifted = (number + 1 - int(base)).alias(INPUT_ROW)
    in_range = shifted.is_between(1, source.height).fill_null(False)
    return shifted.zip_with(in_range, pl.Series([None], dtype=pl.Int64)).alias(INPUT_ROW)


def _rows_at_lines(lines: pl.Series, source: pl.DataFrame) -> pl.Series:
    """The input row starting on each physical line; null for a line inside or outside every record.

    With one input file the lines ascend, so a binary search suffices; with several a line number is
    ambiguous and the first file's reading wins.
    """
    starts = source.get_column("_source_line")
    files = pl.col("_source_file")
    several = source.select(files.ne_missing(files.first()).any()).item()  # no hashing of a million names
    if not several and starts.is_sorted():
        at = starts.search_sorted(lines.fill_null(0), side="left").cast(pl.Int64)
        found = starts.gather(at.clip(0, source.height - 1)) == lines
        rows = (at + 1).alias(INPUT_ROW)
        return rows.zip_with(found.fill_null(False), pl.Series([None], dtype=pl.Int64))
    frame = pl.DataFrame({"v": lines})
    lookup = source.select(pl.col("_source_line").alias("v"), pl.col(INPUT_ROW)).unique("v", keep="first")
    return frame.join(lookup, on="v", how="left", maintain_order="left").get_column(INPUT_ROW)


def _agreement(
    sample: pl.DataFrame, values: pl.Series, base: str, source: pl.DataFrame, shared: Sequence[str]
) -> float:
    """Mean share of shared fields equal (trimmed, case-folded) between each row and the row it points at."""
    rows = _pointed_rows(values, base, source)
    if sample.height == 0 or source.height == 0:
        return 0.0
    hits = int(rows.is_not_null().sum())
    if not shared or hits == 0:  # record ids far past the input's rows point at none: nothing to compare
        return hits / sample.height
    # input_row N is row N-1 of the input frame: gather, no join over the whole input.
    pointed = (
        source.select(shared)
        .gather((rows - 1).fill_null(0))
        .with_columns(pl.Series("_hit", rows.is_not_null()))
    )
    left = sample.select(shared)
    equal = [
        ((_norm(pl.col(f)) == _norm(pl.col(f"{f}__in"))) & pl.col("_hit")).cast(pl.Float64) for f in shared
    ]
    both = pl.concat([left, pointed.rename({f: f"{f}__in" for f in shared})], how="horizontal")
    total = both.select(pl.sum_horizontal(equal).sum()).item()
    return float(total) / len(shared) / sample.height


def _join_on_fields(
    frame: pl.DataFrame, source: pl.DataFrame, shared: Sequence[str], likely: pl.Series | None = None
) -> pl.Series:
    """Pair each record of `frame` with the input row holding the same normalised fields.

    A `likely` pairing is checked first: when each record equals its guessed input row exactly, it is
    the answer, without a join (and where the input repeats a record, it knows which copy landed).
    When the input repeats a record, the k-th occurrence in `frame` pairs with the k-th in the input;
    otherwise every repeat in `frame` points at the one input row (reconcile reports it as a duplicate).
    Records are compared by a 64-bit hash of their fields, so no million-row key strings; the exact
    values are tried first because normalising a million rows costs more than hashing them.
    """
    rows = source.get_column(INPUT_ROW)
    exact = [pl.col(f) for f in shared]
    left, right = _keys(frame, exact), _keys(source, exact)
    if likely is not None and likely.len() == frame.height and _same_records(left, right, likely):
        return likely.alias(INPUT_ROW)
    found = _hash_join(left, right, rows)
    if found is not None and found.null_count() == 0:
        return found
    normal = [_norm(pl.col(f)).alias(f) for f in shared]
    left, right = _keys(frame, normal), _keys(source, normal)
    found = _hash_join(left, right, rows)
    if found is not None:
        return found
    ordered_left = _with_occurrence(left.to_frame())
    ordered_right = _with_occurrence(pl.DataFrame([right, rows]))
    joined = ordered_left.join(ordered_right, on=["_key", "_occ"], how="left", maintain_order="left")
    return joined.get_column(INPUT_ROW)


def _same_records(left: pl.Series, right: pl.Series, likely: pl.Series) -> bool:
    """Whether each row's key equals that of its `likely` input row (the keys the join would compare)."""
    at = likely.cast(pl.Int64) - 1
    if at.null_count() or not bool(at.is_between(0, right.len() - 1).all()):
        return False
    return bool((right.gather(at) == left).all())


def _keys(frame: pl.DataFrame, fields: Sequence[pl.Expr]) -> pl.Series:
    """`_key`: a 64-bit hash of each row's `fields` (one pass over the row, no key strings built)."""
    return frame.select(fields).hash_rows(seed=0).alias("_key")


def _hash_join(left: pl.Series, right: pl.Series, rows: pl.Series) -> pl.Series | None:
    """input_row of each `left` key in `right`; None when the input repeats a key (occurrences decide)."""
    if right.n_unique() != right.len():
        return None
    lookup = pl.DataFrame([right, rows])
    return left.to_frame().join(lookup, on="_key", how="left", maintain_order="left").get_column(INPUT_ROW)


def _with_occurrence(frame: pl.DataFrame) -> pl.DataFrame:
    """`_occ`: 0 for the first row with its `_key`, 1 for the second... (a sort, not a window: faster)."""
    ordered = frame.with_row_index("_pos").sort("_key", "_pos")
    pos = pl.int_range(pl.len(), dtype=pl.Int64)
    start = pl.when(pl.col("_key") != pl.col("_key").shift(1)).then(pos).otherwise(None)
    ordered = ordered.with_columns((pos - start.fill_null(0).cum_max()).alias("_occ"))
    return ordered.sort("_pos").drop("_pos")
