"""Render a job's artifact files (untouched input, staging, output, errors) in a tenant's variant.

Pure: an `ImportOutcome` and a `Variant` in, file names and CSV bytes out. Knows nothing of HTTP or time.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from dataclasses import replace
from urllib.parse import quote

from claret_errors.fields import INVENTORY_FIELDS
from claret_errors.simulator.engine import ImportOutcome, Reason
from claret_errors.simulator.messages import NOT_CONFIRMED, prefixed
from claret_errors.simulator.scenario import Quirks, Variant

NO_QUIRKS = Quirks()
# Category -> the name part Claret's file names use for it.
SUFFIX = {"input": "untouched", "staging": "staging", "output": "final", "errors": "errors"}


def write_csv(header: Sequence[str], rows: Sequence[Sequence[str]]) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def _split(rows: list[list[str]], parts: int) -> list[list[list[str]]]:
    """Rows cut into `parts` consecutive chunks (empty chunks dropped, at least one kept)."""
    if parts <= 1 or len(rows) <= 1:
        return [rows]
    size = -(-len(rows) // parts)
    return [rows[i : i + size] for i in range(0, len(rows), size)]


def _files(
    category: str, stem: str, header: list[str], rows: list[list[str]], variant: Variant
) -> dict[str, bytes]:
    """One file, or `files_per_category` numbered ones, in the variant's encoding."""
    bom = b"\xef\xbb\xbf" if variant.bom else b""
    chunks = _split(rows, variant.files_per_category)
    if len(chunks) == 1:
        return {f"{stem}_{SUFFIX[category]}.csv": bom + write_csv(header, chunks[0])}
    return {
        f"{stem}_{SUFFIX[category]}_{i}.csv": bom + write_csv(header, c)
        for i, c in enumerate(chunks, start=1)
    }


def _reference(input_row: int, variant: Variant) -> int:
    return input_row - 1 + variant.row_base


def staging_files(outcome: ImportOutcome, variant: Variant, stem: str) -> dict[str, bytes]:
    """Every row trimmed, with its row reference and whether it passed validation."""
    header = [variant.row_column, *INVENTORY_FIELDS, "validation_status"]
    rows = [
        [
            str(_reference(t.input_row, variant)),
            *(values[f] for f in INVENTORY_FIELDS),
            "valid" if t.outcome == "imported" else "invalid",
        ]
        for t, values in zip(outcome.truth, outcome.values, strict=True)
    ]
    return _files("staging", stem, header, rows, variant)


def output_files(
    outcome: ImportOutcome, ids: dict[int, int], variant: Variant, stem: str, quirks: Quirks = NO_QUIRKS
) -> dict[str, bytes]:
    """The records that landed, with their Claret id and whether they were created or updated."""
    header = [variant.row_column, "id", *INVENTORY_FIELDS, "action"]
    rows: list[list[str]] = []
    for t, values in zip(outcome.truth, outcome.values, strict=True):
        if t.outcome != "imported" or t.input_row in quirks.missing_from_output:
            continue
        row = [str(_reference(t.input_row, variant)), str(ids[t.input_row])]
        row += [*(values[f] for f in INVENTORY_FIELDS), t.action or ""]
        rows.extend([row] * (2 if t.input_row in quirks.repeated_in_output else 1))
    return _files("output", stem, header, rows, variant)


def error_files(
    outcome: ImportOutcome, variant: Variant, stem: str, quirks: Quirks = NO_QUIRKS
) -> dict[str, bytes]:
    """Failed rows as sent, a row reference and their messages laid out per the variant; {} if none failed."""
    slip = (Reason("unclassified", "", NOT_CONFIRMED),)
    failed = [
        (t if t.outcome == "failed" else replace(t, reasons=slip), outcome.raw_rows[t.input_row - 1])
        for t in outcome.truth
        if t.outcome == "failed" or t.input_row in quirks.also_in_errors
    ]
    if not failed:
        return {}
    width = max(len(t.reasons) for t, _ in failed)
    message_header = [variant.message_column]
    if variant.layout == "columns":
        message_header = [f"{variant.message_column}_{i}" for i in range(1, width + 1)]
    header = [*outcome.headers, variant.row_column, *message_header]
    rows: list[list[str]] = []
    for truth, raw in failed:
        reference = _reference(truth.input_row, variant)
        messages = [r.message for r in truth.reasons]
        if variant.row_prefix:
            messages = [prefixed(m, reference) for m in messages]
        base = [*raw, str(reference)]
        if variant.layout == "rows":
            rows.extend([*base, m] for m in messages)
        elif variant.layout == "columns":
            rows.append([*base, *messages, *[""] * (width - len(messages))])
        elif variant.layout == "json":
            rows.append([*base, json.dumps(messages, ensure_ascii=False)])
        else:
            rows.append([*base, variant.separator.join(messages)])
    return _files("errors", stem, header, rows, variant)


def failure_file(message: str, variant: Variant, stem: str) -> dict[str, bytes]:
    """The errors file of a job that failed as a whole: no row reference, one message."""
    return _files("errors", stem, [variant.row_column, variant.message_column], [["", message]], variant)


def echo_shapes(token: str) -> tuple[str, ...]:
    """The shapes in which a careless server repeats a caller's token: header, parameter, raw, the
    Sanctum secret part alone, URL-encoded."""
    _id, _bar, plain = token.partition("|")
    return (f"Authorization: Bearer {token}", f"token={token}", token, plain or token, quote(token, safe=""))


def echo_token(data: bytes, token: str) -> bytes:
    """A CSV artifact with the caller's token appended to the last cell of each data row, one shape per
    row in turn (the `echo_token` fault): a leak the client must keep out of everything it writes."""
    bom = b"\xef\xbb\xbf" if data.startswith(b"\xef\xbb\xbf") else b""
    header, *rows = list(csv.reader(io.StringIO(data[len(bom) :].decode("utf-8"), newline="")))
    shapes = echo_shapes(token)
    for i, row in enumerate(rows):
        if row:
            row[-1] = f"{row[-1]} ({shapes[i % len(shapes)]})"
    return bom + write_csv(header, rows)
