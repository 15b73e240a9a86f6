"""Read one CSV file as text, every row with the physical line it starts on: polars wherever it can be exact,
Python's csv module for long rows, broken quoting and the rows polars leaves ambiguous. Odd files give
findings, unusable ones raise ArtifactError naming the file and line; never prints, never guesses meanings.
"""

from __future__ import annotations

import codecs
import csv
import io
import mmap
import re
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from claret_errors.errors import ArtifactError
from claret_errors.results import Finding

LINE = "_source_line"
SNIFF_BYTES = 65536
MAX_ROW_FINDINGS = 20  # per file and check; the rest are counted in one summary finding
_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_LONE_CR = re.compile(rb"\r(?!\n)")
# The csv module refuses a field over 131,072 characters by default, where polars reads any: both readers
# must take the same files. A cell is bounded by its file, and files by the configured size cap.
csv.field_size_limit(2**31 - 1)


@dataclass
class TextTable:
    """One file read as text: `frame` has positional columns `c0..cN` (String) and `_source_line` (Int64)."""

    headers: tuple[str, ...]
    frame: pl.DataFrame
    encoding: str
    findings: list[Finding] = field(default_factory=list)
    # Each row's 1-based data row, numbered by the reader and so cut in the frame's chunks (a column made
    # apart makes polars copy the whole frame to line them up); None where the reader's numbers do not hold.
    records: pl.Series | None = None


def column_names(width: int) -> list[str]:
    """Positional names, so blank or duplicate headers never clash before they are mapped."""
    return [f"c{i}" for i in range(width)]


def read_text_csv(path: Path, label: str) -> TextTable:
    """Read `path` as text; `label` names the file in findings and errors (never an absolute temp path)."""
    try:
        with path.open("rb") as fh:
            head = fh.read(SNIFF_BYTES)
    except OSError as exc:
        raise ArtifactError(f"cannot read file: {exc.strerror}", file=label) from exc
    if len(head) < SNIFF_BYTES and not head.strip(b"\r\n\t \xef\xbb\xbf"):
        return TextTable((), pl.DataFrame(schema={LINE: pl.Int64}), "utf-8", [_empty(label)])
    encoding = _sniff_encoding(head)
    if b"\x00" in head and encoding not in ("utf-16", "utf-32"):
        raise ArtifactError(
            "looks binary (NUL bytes), not a CSV file", file=label, line=_line_of(head, b"\x00")
        )
    separator = _sniff_separator(head, encoding)
    # Polars ends lines only at LF: a file with bare CRs (old Mac, some exports) would read as one line.
    # The csv module ends lines at CR too, so such a file is read by the exact reader alone.
    # (UTF-16/32 bytes hold CRs before NULs; a CR that ends a cut-off head may have its LF beyond it.)
    cr = _LONE_CR.search(head) if encoding in ("utf-8", "windows-1252") else None
    bare_cr = cr is not None and (cr.start() < len(head) - 1 or len(head) < SNIFF_BYTES)
    if encoding == "utf-8" and separator == "," and not bare_cr:
        table = _read_fast(path, label, separator)
        if table is not None:
            return table
    retry_fast = (encoding != "utf-8" or separator != ",") and not bare_cr
    table = _read_exact(path, label, separator, retry_fast=retry_fast)
    if bare_cr:
        message = "lines end with a bare carriage return (CR), not LF; read as lines"
        table.findings.insert(0, Finding(label, "line_endings", message, severity="info"))
    return table


def _empty(label: str) -> Finding:
    return Finding(label, "empty_file", "the file is empty: no header and no rows", severity="warning")


def _line_of(data: bytes, needle: bytes) -> int:
    return data[: data.find(needle)].count(b"\n") + 1


def _sniff_encoding(head: bytes) -> str:
    """UTF-8 when the first bytes decode as UTF-8 (a split last character allowed), else a legacy guess."""
    for bom, name in _BOMS:
        if head.startswith(bom):
            return name
    try:
        codecs.getincrementaldecoder("utf-8-sig")().decode(head, final=False)
    except UnicodeDecodeError:
        return "windows-1252"
    return "utf-8"


def _sniff_separator(head: bytes, encoding: str) -> str:
    """Comma unless the header line has none and has semicolons or tabs (a spreadsheet's regional export)."""
    text = head.decode(encoding if encoding != "windows-1252" else "latin-1", errors="replace")
    first = re.split(r"\r\n|\r|\n", text.lstrip("\ufeff"), maxsplit=1)[0]
    if "," in first:
        return ","
    for sep in (";", "\t", "|"):
        if sep in first:
            return sep
    return ","


def _read_fast(source: Path | bytes, label: str, separator: str) -> TextTable | None:
    """Polars' reader on a UTF-8 file or buffer; None when the exact reader must decide (ragged rows,
    bad bytes, or rows that could be blank lines)."""
    try:
        raw = pl.read_csv(
            source,
            has_header=False,
            infer_schema=False,
            separator=separator,
            empty_string_is_null=False,
            raise_if_empty=False,
            # Numbered by the reader, the row index is cut in the same chunks as the values: a column
            # made apart (int_range) made the next select or drop copy the whole frame to line them up.
            row_index_name=LINE,
            row_index_offset=1,
        )
    except (pl.exceptions.PolarsError, OSError):
        return None
    index = raw.drop_in_place(LINE)
    if raw.height == 0:
        return TextTable((), pl.DataFrame(schema={LINE: pl.Int64}), "utf-8", [_empty(label)])
    names = column_names(raw.width)
    raw.columns = names
    headers = tuple(str(h) if h is not None else "" for h in raw.row(0))
    body = raw.slice(1)
    if _has_quote(source):
        # A quoted field may span lines: each row starts after the lines of the rows before it.
        newlines = pl.sum_horizontal(pl.col(n).str.count_matches("\n", literal=True) for n in names)
        header_lines = 1 + sum(h.count("\n") for h in headers)
        span = (newlines + 1).cast(pl.Int64)
        frame = body.with_columns((span.cum_sum() - span + header_lines + 1).alias(LINE), span.alias("_span"))
    else:  # every record one line: the reader's row number is the line number
        frame = body.with_columns(index.slice(1).cast(pl.Int64).alias(LINE))
    findings: list[Finding] = []
    # A blank line and a short row both read as trailing empty strings: their raw lines decide.
    if frame.height and frame.select((pl.col(names[-1]) == "").any()).item():
        frame, findings = _settle_trailing_empties(frame, names, source, label, separator)
    records = None if frame.height != body.height else (index.slice(1) - 1).cast(pl.Int64)
    if "_span" in frame.columns:
        frame.drop_in_place("_span")  # in place: `drop` would copy every other column
    return TextTable(headers, frame, "utf-8", findings, records)


def _settle_trailing_empties(
    frame: pl.DataFrame, names: list[str], source: Path | bytes, label: str, separator: str
) -> tuple[pl.DataFrame, list[Finding]]:
    """Re-read, with the csv module, only the rows whose last cell is empty: a blank line is dropped, a
    short row gets nulls for its missing fields, both with findings, exactly as the exact reader does."""
    span = pl.col("_span") if "_span" in frame.columns else pl.lit(1, dtype=pl.Int64).alias("_span")
    suspects = frame.with_row_index("_k").filter(pl.col(names[-1]) == "").select("_k", LINE, span)
    fields = _field_counts(source, {line: (k, n) for k, line, n in suspects.iter_rows()}, separator, label)
    short = {k: n for k, n in fields.items() if n < len(names)}
    fix = pl.DataFrame(
        {"_k": list(short), "_n": list(short.values())}, schema={"_k": pl.UInt32, "_n": pl.Int64}
    )
    out = frame.with_row_index("_k").join(fix, on="_k", how="left", maintain_order="left")
    out = out.with_columns(
        [pl.when(pl.col("_n") <= j).then(None).otherwise(pl.col(n)).alias(n) for j, n in enumerate(names)]
    )
    out = out.filter(pl.col("_n").fill_null(1) > 0).drop("_k", "_n")
    lines = dict(zip(suspects.get_column("_k").to_list(), suspects.get_column(LINE).to_list(), strict=True))
    findings: list[Finding] = []
    counts = {"blank_line": 0, "short_row": 0}
    blanks_before = 0
    for k in sorted(short):
        n, line = short[k], lines[k]
        if n == 0:
            _row_finding(findings, counts, label, "blank_line", line, "blank line skipped", None, None)
            blanks_before += 1
        else:
            message = f"{n} fields where the header has {len(names)}; missing ones left empty"
            _row_finding(findings, counts, label, "short_row", line, message, None, k + 1 - blanks_before)
    findings.extend(_more_rows(label, counts))
    return out, findings


def _field_counts(
    source: Path | bytes, wanted: dict[int, tuple[int, int]], separator: str, label: str
) -> dict[int, int]:
    """Row index -> its number of fields (0 for a blank line), parsing only the wanted records' lines.

    `wanted` maps a record's first physical line to (row index, lines it spans).
    """
    found: dict[int, int] = {}
    last = max(line + span - 1 for line, (_k, span) in wanted.items())
    pending: tuple[int, int, list[bytes]] | None = None
    with io.BytesIO(source) if isinstance(source, bytes) else source.open("rb") as fh:
        for number, line in enumerate(fh, start=1):
            if pending is None and number in wanted:
                k, span = wanted[number]
                pending = (k, number + span - 1, [])
            if pending is not None:
                pending[2].append(line)
                if number == pending[1]:
                    text = b"".join(pending[2]).decode("utf-8", errors="replace")
                    try:
                        record = next(csv.reader(io.StringIO(text, newline=""), delimiter=separator), [])
                    except csv.Error as exc:
                        raise ArtifactError(
                            f"cannot be parsed as CSV: {exc}", file=label, line=number
                        ) from exc
                    found[pending[0]] = len(record)
                    pending = None
            if number >= last:
                break
    return found


def _more_rows(label: str, counts: dict[str, int]) -> list[Finding]:
    """One summary finding per check for the rows beyond the first MAX_ROW_FINDINGS."""
    return [
        Finding(label, check, f"{count - MAX_ROW_FINDINGS} more rows like this", severity="warning")
        for check, count in counts.items()
        if count > MAX_ROW_FINDINGS
    ]


def _has_quote(source: Path | bytes) -> bool:
    """Whether any field can span lines; a memchr-speed search of the mapped file, no copy."""
    if isinstance(source, bytes):
        return b'"' in source
    path = source
    with path.open("rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
        return mapped.find(b'"') >= 0


def _decode(data: bytes, label: str) -> tuple[str, str, list[Finding]]:
    """Decode the whole file: UTF-8 (BOM or not), a UTF-16/32 BOM, else Windows-1252, else Latin-1."""
    for bom, name in _BOMS:
        if data.startswith(bom):
            try:
                text = data.decode(name)
            except UnicodeDecodeError as exc:
                raise ArtifactError(f"not valid {name}: {exc.reason}", file=label) from exc
            message = f"{name.upper()} with a byte-order mark, not UTF-8; decoded as {name.upper()}"
            return text, name, [Finding(label, "encoding", message, severity="warning")]
    try:
        return data.decode("utf-8-sig"), "utf-8", []
    except UnicodeDecodeError as exc:
        where = data[: exc.start].count(b"\n") + 1
    try:
        text, name = data.decode("windows-1252"), "windows-1252"
    except UnicodeDecodeError:  # bytes Windows-1252 leaves undefined: Latin-1 decodes every byte
        text, name = data.decode("latin-1"), "latin-1"
    message = f"not UTF-8 (first bad byte on line {where}); decoded as {name.title()}"
    return text, name, [Finding(label, "encoding", message, severity="warning")]


def _read_exact(path: Path, label: str, separator: str, *, retry_fast: bool) -> TextTable:
    """Python's csv module on the decoded text: ragged rows and blank lines become findings, not crashes.

    With `retry_fast` (another encoding or separator), polars gets the text re-encoded as UTF-8 first.
    """
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ArtifactError(f"cannot read file: {exc.strerror}", file=label) from exc
    text, encoding, findings = _decode(data, label)
    del data
    if text.startswith("\ufeff"):
        text = text[1:]
    if separator != ",":
        findings.append(
            Finding(label, "separator", f"separated by {separator!r}, not commas", severity="info")
        )
    if retry_fast:
        table = _read_fast(text.encode("utf-8"), label, separator)
        if table is not None:
            return TextTable(table.headers, table.frame, encoding, findings + table.findings)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=separator, strict=True)
    headers: list[str] | None = None
    header_width = 0
    columns: list[list[str | None]] = []
    lines: list[int] = []
    counts = {"blank_line": 0, "short_row": 0, "long_row": 0}
    last_line = 0
    try:
        for record in reader:
            start, last_line = last_line + 1, reader.line_num
            if not record:
                _row_finding(findings, counts, label, "blank_line", start, "blank line skipped", None, None)
                continue
            if headers is None:
                headers, header_width = record, len(record)
                columns = [[] for _ in record]
                continue
            if len(record) < header_width:
                message = f"{len(record)} fields where the header has {header_width}; missing ones left empty"
                _row_finding(findings, counts, label, "short_row", start, message, None, len(lines) + 1)
            elif len(record) > header_width:
                extra = separator.join(record[header_width:])
                message = f"{len(record)} fields where the header has {header_width}; extra fields dropped"
                _row_finding(findings, counts, label, "long_row", start, message, extra, len(lines) + 1)
            for i, values in enumerate(columns):
                values.append(record[i] if i < len(record) else None)
            lines.append(start)
    except csv.Error as exc:
        raise ArtifactError(f"cannot be parsed as CSV: {exc}", file=label, line=last_line + 1) from exc
    findings.extend(_more_rows(label, counts))
    if headers is None:
        findings.append(_empty(label))
        return TextTable((), pl.DataFrame(schema={LINE: pl.Int64}), encoding, findings)
    names = column_names(header_width)
    frame = pl.DataFrame(
        {n: pl.Series(n, v, dtype=pl.String) for n, v in zip(names, columns, strict=True)}
        | {LINE: pl.Series(LINE, lines, dtype=pl.Int64)}
    )
    return TextTable(tuple(headers), frame, encoding, findings)


def _row_finding(
    findings: list[Finding],
    counts: dict[str, int],
    label: str,
    check: str,
    line: int,
    message: str,
    value: str | None,
    row: int | None,
) -> None:
    """A row-level finding; `row` is the data row within this file (load.py makes it an input_row)."""
    counts[check] += 1
    if counts[check] <= MAX_ROW_FINDINGS:
        findings.append(Finding(label, check, f"line {line}: {message}", row=row, value=value))
