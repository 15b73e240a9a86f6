"""Pandera models (polars backend) of the inventory input, staging, output and errors; `validate` collects
every failure (lazy) as Findings and names schema drift in plain words; `input_schema()` pre-flights
corrected files. It never reads files and never changes a frame.
"""

from __future__ import annotations

import difflib
import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import pandera.polars as pa
import polars as pl
from pandera.api.polars.types import PolarsData

from claret_errors.fields import INVENTORY_FIELDS
from claret_errors.results import Finding, LoadedInput, LoadedJob, Severity

MAX_LENGTH = 255
INPUT_ROW = "input_row"
# Blank, or a number: decimals fine, no sign other than +, no thousands separators, ASCII digits only.
BLANK_OR_NUMBER = r"^\s*(\+?([0-9]+(\.[0-9]*)?|\.[0-9]+))?\s*$"
_DESCRIBE = {
    "required": "a value is required",
    "date_ymd": "not a date in Y-m-d form (e.g. 2023-08-01)",
    "positive_number": "not a positive number (decimals fine, no thousands separators)",
    "max_length": f"longer than {MAX_LENGTH} characters",
    "linked_row": "input_row must be a data row number (1 or more)",
}


def _required(text: pl.Expr) -> pl.Expr:
    # Something besides whitespace; a search, where stripping would copy every value.
    return text.str.contains(r"\S").fill_null(False)


def _max_length(text: pl.Expr) -> pl.Expr:
    return text.str.len_chars() <= MAX_LENGTH


def _date_ymd(value: pl.Expr) -> pl.Expr:
    text = value.str.strip_chars()
    real = (
        text.str.contains(r"^\d{4}-\d{2}-\d{2}$") & text.str.to_date("%Y-%m-%d", strict=False).is_not_null()
    )
    return (text == "") | real  # blank is the `required` check's to report


def _positive_number(text: pl.Expr) -> pl.Expr:
    # Written as a number, a value is above 0 unless every digit is 0: two searches, no copies, no float.
    return text.str.contains(BLANK_OR_NUMBER) & (text.str.contains("[1-9]") | ~text.str.contains(r"\S"))


def _linked_row(row: pl.Expr) -> pl.Expr:
    return row >= 1


@dataclass(frozen=True)
class Rule:
    """One value check, as a polars expression: pandera runs it, and `validate` uses it to skip clean rows."""

    name: str
    expr: Callable[[pl.Expr], pl.Expr]  # a function of the values alone, so it can judge distinct ones
    ignore_na: bool = True  # a null passes, as in pandera's default
    distinct: bool = False  # judged once per distinct value (a parsing rule on values that repeat)

    def check(self) -> pa.Check:
        """The rule as a pandera check."""

        def run(data: PolarsData) -> pl.LazyFrame:
            return data.lazyframe.select(self.expr(pl.col(data.key)))

        return pa.Check(run, name=self.name, ignore_na=self.ignore_na)

    def passes(self, values: pl.Expr) -> pl.Expr:
        """True where the value passes, with pandera's treatment of nulls."""
        return self.expr(values) | values.is_null() if self.ignore_na else self.expr(values)


_TEXT = (
    Rule("max_length", _max_length),
    Rule("required", _required, ignore_na=False),
)
INPUT_RULES: dict[str, tuple[Rule, ...]] = {name: _TEXT for name in INVENTORY_FIELDS}
INPUT_RULES["date_filled"] = (*_TEXT, Rule("date_ymd", _date_ymd, distinct=True))
INPUT_RULES["quantity"] = (*_TEXT, Rule("positive_number", _positive_number))
ARTIFACT_RULES: dict[str, tuple[Rule, ...]] = {INPUT_ROW: (Rule("linked_row", _linked_row),)}


@functools.cache  # built once: a schema is not changed by validating, and every job and preflight asks
def input_schema() -> pa.DataFrameSchema:
    """The inventory input as Claret's documentation states it: six required text fields, dates Y-m-d,
    positive quantities, nothing over 255 characters. Missing columns are reported as drift, not here."""
    columns = {
        name: pa.Column(pl.String, checks=[r.check() for r in rules], nullable=True, required=False)
        for name, rules in INPUT_RULES.items()
    }
    return pa.DataFrameSchema(columns, name="inventory input", strict=False)


@functools.cache
def _artifact_schema(kind: str, *, messages: bool = False) -> pa.DataFrameSchema:
    """Staging, output and errors: a nullable `input_row` that points at a data row, source columns."""
    checks = [r.check() for r in ARTIFACT_RULES[INPUT_ROW]]
    columns: dict[str, pa.Column] = {
        INPUT_ROW: pa.Column(pl.Int64, checks=checks, nullable=True),
        "_source_file": pa.Column(pl.String, nullable=True),
        "_source_line": pa.Column(pl.Int64, nullable=True),
    }
    if messages:
        columns["messages"] = pa.Column(pl.List(pl.String), nullable=False)
    return pa.DataFrameSchema(columns, name=f"inventory {kind}", strict=False)


def validate(job: LoadedJob) -> list[Finding]:
    """Schema findings: drift first, then every failing value (file, column, check, row, value)."""
    return [*validate_input(job.loaded_input()), *validate_artifacts(job)]


def validate_input(loaded: LoadedInput) -> list[Finding]:
    """The input's half of `validate`: drift, then every failing value of the input."""
    if loaded.profile != "inventory":
        message = f"columns are not the inventory fields ({', '.join(loaded.columns)}); generic profile"
        return [Finding(loaded.file, "profile", message, severity="info")]
    findings = drift(loaded.columns, loaded.headers, loaded.file)
    findings.extend(_run(input_schema(), loaded.frame, "input", INPUT_RULES))
    return findings


def validate_artifacts(job: LoadedJob) -> list[Finding]:
    """The staging, output and errors half of `validate`: drift against the input, then their rows."""
    findings: list[Finding] = []
    for kind, frame in (("staging", job.staging), ("output", job.output), ("errors", job.errors)):
        findings.extend(_kind_drift(kind, job, frame))
    findings.extend(_run(_artifact_schema("staging"), job.staging, "staging", ARTIFACT_RULES))
    findings.extend(_run(_artifact_schema("output"), job.output, "output", ARTIFACT_RULES))
    findings.extend(_run(_artifact_schema("errors", messages=True), job.errors, "errors", ARTIFACT_RULES))
    return findings


def drift(columns: Sequence[str], headers: Sequence[str], file: str) -> list[Finding]:
    """Missing, extra and renamed columns against the inventory profile, in plain words."""
    findings: list[Finding] = []
    missing = [f for f in INVENTORY_FIELDS if f not in columns]
    extra = [c for c in columns if c not in INVENTORY_FIELDS]
    for canonical, header in zip(columns, headers, strict=False):
        if canonical in INVENTORY_FIELDS and header.strip() != canonical:
            message = f"column {header!r} read as {canonical!r}"
            findings.append(Finding(file, "renamed_column", message, column=canonical, severity="info"))
    for name in missing:
        close = difflib.get_close_matches(name, extra, n=1, cutoff=0.75)
        if close:
            message = f"column {name!r} is missing; {close[0]!r} looks like it renamed"
            findings.append(
                Finding(file, "renamed_column", message, column=name, value=close[0], severity="error")
            )
            extra.remove(close[0])
        else:
            message = f"column {name!r} is missing: Claret requires it for every record"
            findings.append(Finding(file, "missing_column", message, column=name, severity="error"))
    for name in extra:
        message = f"extra column {name!r} is not an inventory field; Claret will ignore or reject it"
        findings.append(Finding(file, "extra_column", message, column=name, severity="warning"))
    order = [c for c in columns if c in INVENTORY_FIELDS]
    if not missing and order != list(INVENTORY_FIELDS):
        message = f"columns are not in the documented order ({', '.join(INVENTORY_FIELDS)})"
        findings.append(Finding(file, "column_order", message, severity="info"))
    return findings


def _kind_drift(kind: str, job: LoadedJob, frame: pl.DataFrame) -> list[Finding]:
    """Input fields a non-empty staging, output or errors file does not carry: rows then join less surely."""
    if not job.files.get(kind) or frame.height == 0:
        return []
    present = set(frame.columns)  # once: frame.columns builds a new list on every call
    absent = [c for c in job.input_columns if c not in present]
    if not absent:
        return []
    message = f"{kind} file lacks input columns {', '.join(absent)}; its rows are matched without them"
    return [Finding(job.files[kind][0].name, "missing_column", message, severity="info")]


def findings_frame(findings: Sequence[Finding]) -> pl.DataFrame:
    """Findings as a table (file, column, check, row, value, severity, message) for reports and CSVs."""
    return pl.DataFrame(
        {
            "file": [f.file for f in findings],
            "column": [f.column for f in findings],
            "check": [f.check for f in findings],
            "row": pl.Series([f.row for f in findings], dtype=pl.Int64),
            "value": pl.Series([f.value for f in findings], dtype=pl.String),
            "severity": [f.severity for f in findings],
            "message": [f.message for f in findings],
        },
        schema_overrides={"file": pl.String, "column": pl.String, "check": pl.String},
    )


def _run(
    schema: pa.DataFrameSchema, frame: pl.DataFrame, kind: str, rules: Mapping[str, Sequence[Rule]]
) -> list[Finding]:
    """Validate lazily and turn every failure case into a Finding; `row` is the input row where known.

    Pandera sees only the rows that fail one of the same rules in a single polars pass: on a million-row
    file with a few thousand bad rows the findings are identical and the time is a fraction.
    """
    judged = {col: col_rules for col, col_rules in rules.items() if col in frame.columns}
    suspects = frame
    if judged:
        flags = frame.select(pl.any_horizontal(_failing(frame, {c: r})).alias(c) for c, r in judged.items())
        mask = flags.select(pl.any_horizontal(pl.all())).to_series()
        suspects = frame.filter(mask) if mask.any() else frame.clear()  # most files have no suspect
        # A column without a suspect has no failing value, so pandera need not run its checks: an optional
        # column it does not see is no failure.
        verdicts = flags.select(pl.all().any()).row(0, named=True)
        suspects = suspects.drop(
            c for c, seen in verdicts.items() if not seen and not schema.columns[c].required
        )
    try:
        schema.validate(suspects, lazy=True)
    except pa.errors.SchemaErrors as exc:
        return _findings(exc.failure_cases, suspects, kind)
    return []


def _failing(frame: pl.DataFrame, rules: Mapping[str, Sequence[Rule]]) -> list[pl.Expr]:
    """True where a row fails a rule. A `distinct` rule is judged once per distinct value and matched back
    (a year has 366 dates)."""
    failing = []
    for col, col_rules in rules.items():
        values = pl.col(col)
        for rule in col_rules:
            if rule.distinct:
                judged = frame.get_column(col).unique().to_frame()
                bad = judged.filter(~rule.passes(values)).get_column(col)
                failing.append(values.is_in(bad.implode(), nulls_equal=True))
            else:
                failing.append(~rule.passes(values))
    return failing


def _findings(cases: pl.DataFrame, frame: pl.DataFrame, kind: str) -> list[Finding]:
    """One Finding per failure case, located by the frame's own input_row, file and line; the texts are
    built in polars, so Python only wraps each finished row."""
    check = pl.col("check").cast(pl.String).fill_null("None")
    where = cases.select(
        pl.col("index").cast(pl.Int64).alias("_i"),
        check,
        pl.col("column").cast(pl.String),
        pl.col("failure_case").cast(pl.String).alias("value"),
    )
    extra = [c for c in (INPUT_ROW, "_source_file", "_source_line") if c in frame.columns]
    if frame.height and extra:
        lookup = frame.select(extra).with_row_index("_i").with_columns(pl.col("_i").cast(pl.Int64))
        where = where.join(lookup, on="_i", how="left", maintain_order="left")
    absent = {INPUT_ROW: pl.Int64, "_source_file": pl.String, "_source_line": pl.Int64}
    missing = [pl.lit(None, dtype=t).alias(c) for c, t in absent.items() if c not in where.columns]
    where = where.with_columns(missing)
    line = pl.col("_source_line")
    prefix = pl.when(line.is_not_null()).then(pl.format("line {}: ", line)).otherwise(pl.lit(""))
    table = where.select(
        pl.col("_source_file").fill_null(kind),
        check.str.split("(").list.first(),
        pl.concat_str(prefix, pl.col("column").fill_null("None"), pl.lit(": "), check.replace(_DESCRIBE)),
        pl.col("column").fill_null(""),
        pl.col(INPUT_ROW),
        pl.col("value"),
    )
    severity: Severity = "error" if kind == "input" else "warning"
    columns = [series.to_list() for series in table.get_columns()]  # whole columns: iter_rows is slower
    # Positional arguments, in Finding's field order: keywords cost twice the time over 25,000 findings.
    return [
        Finding(file, check, message, column, row, value, severity)
        for file, check, message, column, row, value in zip(*columns, strict=True)
    ]
