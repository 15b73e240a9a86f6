"""Reconciliation: each input row is exactly one of imported, failed or unaccounted; each message classified.

Joins output, errors and staging back to the input on `input_row`, all in polars (no Python loop over rows).
Anomalies (a row in both output and errors, duplicates, rows with no input row) are counted and listed,
never dropped. Never prints, never writes files.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from claret_errors.config import Settings
from claret_errors.fields import alias_table
from claret_errors.reconcile.classify import (
    MESSAGE_COLUMNS,
    UNCLASSIFIED,
    RulePack,
    classify_messages,
    split_cells,
)
from claret_errors.reconcile.owners import Owners
from claret_errors.results import CategoryCount, Counts, LoadedJob, Reconciliation

if TYPE_CHECKING:
    import polars as pl

ANOMALY_KINDS = (
    "in_output_and_errors",
    "duplicate_in_output",
    "duplicate_in_errors",
    "output_without_input",
    "errors_without_input",
)
_MESSAGE_KEY_SEPARATOR = "\x1f"
# Columns reconciliation adds to the failed records; an input column of the same name gets "_input" appended.
ADDED_COLUMNS = frozenset({"messages", "categories", "fields", "confidences", "owner", "in_staging"})


def input_column(name: str) -> str:
    """The column of the failed records that holds input column `name` (renamed if it is an added one)."""
    return f"{name}_input" if name in ADDED_COLUMNS else name


def reconcile(job: LoadedJob, settings: Settings) -> Reconciliation:
    """Account for every input row of `job`, classify every message, route every failed record."""
    return reconcile_with(job, RulePack.from_settings(settings), Owners.load(settings.owners), settings)


def reconcile_with(job: LoadedJob, pack: RulePack, owners: Owners, settings: Settings) -> Reconciliation:
    """`reconcile` with the rule pack and owners given (tests and the bench load them once)."""
    sides = _Sides.of(job)
    anomalies = _anomalies(sides)
    messages = _classified(_failure_messages(sides), job, pack, settings)
    failed = _failed_records(sides, messages, owners)
    unaccounted = _unaccounted(sides, job)
    counts = Counts(
        input_rows=sides.inputs.height,
        imported=sides.inputs.height - failed.height - unaccounted.height,
        failed=failed.height,
        unaccounted=unaccounted.height,
        anomalies=anomalies.height,
    )
    return Reconciliation(
        counts=counts,
        failed=failed,
        messages=messages,
        anomalies=anomalies,
        unaccounted=unaccounted,
        categories=_categories(messages),
    )


def imported_rows(job: LoadedJob) -> list[int]:
    """The input rows Claret imported, as `Counts.imported` counts them: in the output and not in the
    errors (a row in both failed)."""
    import polars as pl

    sides = _Sides.of(job)
    landed = pl.col("input_row").is_in(sides.imported_rows.implode())
    refused = pl.col("input_row").is_in(sides.error_rows.implode())
    return [int(n) for n in sides.inputs.filter(landed & ~refused)["input_row"].to_list()]


@dataclass(frozen=True)
class _Sides:
    """The input and what Claret's output and errors files say of its rows, as reconciliation reads them:
    row references and the messages only, never copies of the values."""

    inputs: pl.DataFrame  # input_row and the input columns (renamed by `input_column`)
    in_input: pl.Expr  # whether a row's `input_row` names an input row
    output: pl.DataFrame  # input_row, _source_file, _source_line
    errors: pl.DataFrame  # the same and `messages`
    output_known: pl.DataFrame  # the output rows that name an input row
    errors_known: pl.DataFrame  # the errors rows that name an input row
    imported_rows: pl.Series  # distinct input rows in the output
    error_rows: pl.Series  # distinct input rows in the errors

    @classmethod
    def of(cls, job: LoadedJob) -> _Sides:
        import polars as pl

        inputs = job.input.select(
            pl.col("input_row").cast(pl.Int64),
            *(pl.col(c).alias(input_column(c)) for c in job.input_columns),
        )
        in_input = _in_input(inputs["input_row"])
        trace = ("input_row", "_source_file", "_source_line")
        output = _with_trace(job.output).select(trace)
        errors = _with_trace(job.errors).select(*trace, pl.col("messages").cast(pl.List(pl.String)))
        output_known = output.filter(in_input)
        errors_known = errors.filter(in_input)
        return cls(
            inputs=inputs,
            in_input=in_input,
            output=output,
            errors=errors,
            output_known=output_known,
            errors_known=errors_known,
            imported_rows=output_known["input_row"].unique(),
            error_rows=errors_known["input_row"].unique(),
        )


def _failure_messages(sides: _Sides) -> pl.DataFrame:
    """One row per message of the errors file: `input_row` and `message`, the row null where the errors
    row names no input row (those messages are classified too, and listed as anomalies)."""
    import polars as pl

    # Errors rows repeated with the same messages are one failure (listed as duplicates); the same input
    # row with different messages is Claret's "one message per row" layout: the messages add up.
    errors_unique = sides.errors_known
    if sides.error_rows.len() < sides.errors_known.height:
        errors_unique = sides.errors_known.with_columns(_message_key()).unique(
            ["input_row", "_key"], keep="first", maintain_order=True
        )
    per_message = (
        errors_unique.select("input_row", pl.col("messages").alias("message"))
        .explode("message")
        .drop_nulls("message")
    )
    orphans = (
        sides.errors.filter(pl.col("input_row").is_null() | ~sides.in_input)
        .select(pl.lit(None, dtype=pl.Int64).alias("input_row"), pl.col("messages").alias("message"))
        .explode("message")
        .drop_nulls("message")
    )
    return pl.concat([per_message, orphans])


def _classified(raw: pl.DataFrame, job: LoadedJob, pack: RulePack, settings: Settings) -> pl.DataFrame:
    """The messages, cells holding several cut into one row each, with category, field, fix and
    confidence."""
    # The same header mapping as loading: inventory aliases only for inventory files (a sales file's `item`
    # column is `item`, not `item_name`).
    aliases = alias_table(settings.aliases) if job.profile == "inventory" else {}
    messages = _split_joined(raw, pack, aliases)
    # The job's own headers too: the fallback finds a field by the name the file gives it.
    columns = {c: c for c in job.input_columns} | dict(
        zip(job.input_headers, job.input_columns, strict=False)
    )
    classified = classify_messages(messages["message"], pack, aliases, columns)
    return messages.with_columns(classified.select(MESSAGE_COLUMNS))


def _failed_records(sides: _Sides, messages: pl.DataFrame, owners: Owners) -> pl.DataFrame:
    """Each input row the errors file names, once, with its messages and their classification as lists,
    and the owner it is routed to."""
    import polars as pl

    per_row = (
        messages.filter(pl.col("input_row").is_not_null())
        .group_by("input_row", maintain_order=True)
        .agg(
            pl.col("message").alias("messages"),
            pl.col("category").alias("categories"),
            pl.col("field").alias("fields"),
            pl.col("confidence").alias("confidences"),
        )
    )
    empty_list = pl.lit([], dtype=pl.List(pl.String))
    failed = (
        sides.inputs.filter(pl.col("input_row").is_in(sides.error_rows.implode()))
        .join(per_row, on="input_row", how="left", maintain_order="left")
        .with_columns(
            pl.col("messages").fill_null(empty_list),
            pl.col("categories").fill_null(empty_list),
            pl.col("fields").fill_null(empty_list),
            pl.col("confidences").fill_null(empty_list),
        )
    )
    return failed.with_columns(owners.route(failed).alias("owner"))


def _unaccounted(sides: _Sides, job: LoadedJob) -> pl.DataFrame:
    """The input rows in neither the output nor the errors, each saying whether staging saw it."""
    import polars as pl

    staged = _with_trace(job.staging)["input_row"]
    named = pl.col("input_row").is_in(sides.imported_rows.implode()) | pl.col("input_row").is_in(
        sides.error_rows.implode()
    )
    unaccounted = sides.inputs.filter(~named)
    return unaccounted.with_columns(pl.col("input_row").is_in(staged.implode()).alias("in_staging"))


def _split_joined(messages: pl.DataFrame, pack: RulePack, aliases: Mapping[str, str]) -> pl.DataFrame:
    """Cells holding several messages with no separator loading could see become one row per message."""
    import polars as pl

    distinct = messages["message"].unique()
    # Only a message with a full stop, spaces (as Python's `\s` sees them) and a capital letter can be cut:
    # the rest skip the Python pass and stay whole.
    distinct = distinct.filter(distinct.str.contains(r"\.[\s\x1c-\x1f]+[A-Z]"))
    texts = distinct.to_list()
    # One row per piece of each cut message, in order (flat columns build far faster than lists).
    whole: list[str] = []
    parts: list[str] = []
    for message, pieces in zip(texts, split_cells(texts, pack, aliases), strict=True):
        if len(pieces) > 1:
            whole.extend([message] * len(pieces))
            parts.extend(pieces)
    if not parts:
        return messages
    table = pl.DataFrame(
        {"message": whole, "_piece": parts}, schema={"message": pl.String, "_piece": pl.String}
    )
    return messages.join(table, on="message", how="left", maintain_order="left_right").select(
        "input_row", pl.coalesce("_piece", "message").alias("message")
    )


def _in_input(known: pl.Series) -> pl.Expr:
    """Whether `input_row` names an input row: a range test when the input rows are 1..n, as loading
    numbers them (a set lookup over a million rows costs far more), else membership in `known`."""
    import polars as pl

    row = pl.col("input_row")
    n = known.len()
    if n and known.null_count() == 0 and known[0] == 1 and bool((known.diff().drop_nulls() == 1).all()):
        return row.is_between(1, n)
    return row.is_in(known.implode())


def _with_trace(frame: pl.DataFrame) -> pl.DataFrame:
    """The columns reconciliation reads, null or empty where an artifact (e.g. a missing file) lacks them."""
    import polars as pl

    wanted: dict[str, pl.DataType | type[pl.DataType]] = {
        "input_row": pl.Int64,
        "_source_file": pl.String,
        "_source_line": pl.Int64,
        "messages": pl.List(pl.String),
    }
    missing = [
        pl.lit(None, dtype=dtype).alias(name) for name, dtype in wanted.items() if name not in frame.columns
    ]
    return frame.with_columns(*missing).with_columns(pl.col("input_row").cast(pl.Int64))


def _source() -> pl.Expr:
    """`file:line` of an artifact row, for the anomaly list."""
    import polars as pl

    return pl.format("{}:{}", pl.col("_source_file"), pl.col("_source_line")).alias("source")


def _message_key() -> pl.Expr:
    """The messages of an errors row as one string, to tell a repeated row from more messages."""
    import polars as pl

    return pl.col("messages").list.join(_MESSAGE_KEY_SEPARATOR).fill_null("").alias("_key")


def _anomalies(sides: _Sides) -> pl.DataFrame:
    """One row per anomaly: `kind`, `input_row`, `source` (file:line), `detail`."""
    import polars as pl

    output_known, errors_known, error_rows = sides.output_known, sides.errors_known, sides.error_rows

    def listed(frame: pl.DataFrame, kind: str, detail: pl.Expr) -> pl.DataFrame:
        return frame.select(
            pl.lit(kind).alias("kind"),
            pl.col("input_row"),
            _source(),
            detail.cast(pl.String).alias("detail"),
        )

    row = pl.col("input_row").cast(pl.String)
    both = output_known.filter(pl.col("input_row").is_in(error_rows.implode())).unique(
        "input_row", keep="first", maintain_order=True
    )
    # Most jobs repeat nothing: a count of distinct rows settles that before any per-row duplicate test.
    repeated_output = output_known.clear()
    if output_known["input_row"].n_unique() < output_known.height:
        repeated_output = output_known.filter(~pl.col("input_row").is_first_distinct())
    repeated_errors = errors_known.clear()
    if error_rows.len() < errors_known.height:
        keyed = errors_known.with_columns(_message_key())
        repeated_errors = keyed.filter(~pl.struct("input_row", "_key").is_first_distinct())
    no_input = pl.col("input_row").is_null() | ~sides.in_input
    reference = (
        pl.when(pl.col("input_row").is_null())
        .then(pl.lit("no row reference"))
        .otherwise(pl.format("row {} is not in the input", pl.col("input_row")))
    )
    frames = [
        listed(both, "in_output_and_errors", pl.format("input row {} is in both output and errors", row)),
        listed(
            repeated_output, "duplicate_in_output", pl.format("input row {} appears again in output", row)
        ),
        listed(
            repeated_errors,
            "duplicate_in_errors",
            pl.format("input row {} appears again in errors with the same messages", row),
        ),
        listed(sides.output.filter(no_input), "output_without_input", reference),
        listed(sides.errors.filter(no_input), "errors_without_input", reference),
    ]
    return pl.concat(frames, how="vertical")


def _categories(messages: pl.DataFrame) -> list[CategoryCount]:
    """One count per (category, field): distinct records and messages; unclassified first, then biggest."""
    import polars as pl

    guessed = pl.col("confidence") == "guessed"
    table = (
        messages.group_by("category", "field")
        .agg(
            pl.col("input_row").drop_nulls().n_unique().alias("records"),
            pl.len().alias("messages"),
            pl.col("input_row").filter(guessed).drop_nulls().n_unique().alias("guessed"),
        )
        .sort(
            [pl.col("category") != UNCLASSIFIED, "records", "messages", "category", "field"],
            descending=[False, True, True, False, False],
        )
    )
    return [
        CategoryCount(category=c, field=f, records=r, messages=m, guessed=g)
        for c, f, r, m, g in table.select("category", "field", "records", "messages", "guessed").iter_rows()
    ]
