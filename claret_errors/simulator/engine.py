"""The import engine: parse an uploaded inventory CSV and validate every row as Claret would.

Pure: bytes and master data in, an `ImportOutcome` out (rows, per-row ground truth, records to land).
It writes no files and does not change the inventory; `jobs.py` renders artifacts, the state applies landings.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date
from typing import Literal

from claret_errors.fields import INVENTORY_FIELDS, normalize_header
from claret_errors.simulator.master import Inventory, MasterData, RecordKey
from claret_errors.simulator.messages import CATEGORY_OF_RULE, MISSING_COLUMNS, PARSE_FAILURE, render
from claret_errors.simulator.scenario import Variant

MAX_LENGTH = 255
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)")
REFERENCE_FIELDS = ("item_name", "bin_name", "lot_name", "uom")


@dataclass(frozen=True)
class Reason:
    """Why a row was rejected: taxonomy category, canonical field ('' if none), message (no row prefix)."""

    category: str
    field: str
    message: str


@dataclass(frozen=True)
class RowTruth:
    """What really happened to one input row: the ground truth our own tests score against."""

    input_row: int  # 1-based data row
    outcome: Literal["imported", "failed"]
    action: Literal["created", "updated"] | None
    reasons: tuple[Reason, ...] = ()


@dataclass(frozen=True)
class ImportOutcome:
    """An import's rows as sent, their trimmed values, what happened to each, and the records that land."""

    headers: tuple[str, ...]
    raw_rows: tuple[tuple[str, ...], ...]
    values: tuple[dict[str, str], ...]  # canonical field -> trimmed value, per row
    truth: tuple[RowTruth, ...]
    parse_error: str | None = None

    @property
    def failed(self) -> bool:
        """A file that could not be read makes the whole job fail."""
        return self.parse_error is not None


def read_csv(data: bytes) -> tuple[tuple[str, ...], list[tuple[str, ...]]]:
    """Header and rows of an uploaded file; ValueError says why it cannot be read as Claret's CSV."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValueError(f"not UTF-8 (byte {exc.start})") from exc
    try:
        rows = [tuple(r) for r in csv.reader(io.StringIO(text, newline=""), strict=True)]
    except csv.Error as exc:
        raise ValueError(str(exc)) from exc
    rows = [r for r in rows if any(cell.strip() for cell in r)]
    if not rows:
        raise ValueError("the file is empty")
    header, body = rows[0], rows[1:]
    for number, row in enumerate(body, start=2):
        if len(row) != len(header):
            raise ValueError(f"line {number} has {len(row)} fields, the header has {len(header)}")
    return header, body


def count_records(data: bytes) -> int | None:
    """How many data rows a file holds, or None if it cannot be read (the job will fail on it)."""
    try:
        return len(read_csv(data)[1])
    except ValueError:
        return None


def _columns(header: tuple[str, ...], mapping: dict[str, str]) -> dict[str, int]:
    """Canonical field -> column index, through the upload's field mapping or the header's own names."""
    found: dict[str, int] = {}
    for index, name in enumerate(header):
        target = mapping.get(name, name)
        key = normalize_header(target)
        if key in INVENTORY_FIELDS and key not in found:
            found[key] = index
    return found


def _field_rule(field_name: str, value: str, master: MasterData) -> str | None:
    """The first rule a trimmed value breaks (Laravel's `bail`), or None."""
    if not value:
        return "required"
    if len(value) > MAX_LENGTH:
        return "max"
    if field_name in REFERENCE_FIELDS and not master.knows(field_name, value):
        return "exists"
    if field_name == "date_filled":
        if not _DATE.fullmatch(value):
            return "date_format"
        try:
            date.fromisoformat(value)
        except ValueError:
            return "date_format"
    if field_name == "quantity":
        if not _NUMBER.fullmatch(value):
            return "numeric"
        if float(value) <= 0:
            return "gt"
    return None


def validate(
    data: bytes,
    master: MasterData,
    inventory: Inventory,
    variant: Variant,
    *,
    allow_record_creation: bool = True,
    allow_record_update: bool = False,
    mapping: dict[str, str] | None = None,
) -> ImportOutcome:
    """Validate an upload row by row: field rules, duplicates within the file, then creation/update rights."""
    try:
        header, body = read_csv(data)
    except ValueError as exc:
        return ImportOutcome((), (), (), (), parse_error=PARSE_FAILURE.format(detail=exc))
    columns = _columns(header, mapping or {})
    missing = [f for f in INVENTORY_FIELDS if f not in columns]
    if missing:
        error = MISSING_COLUMNS.format(columns=", ".join(missing))
        return ImportOutcome(header, tuple(body), (), (), parse_error=error)

    def say(rule: str, field_name: str) -> Reason:
        message = render(rule, field_name, variant.wording, variant.attribute_style)
        category = CATEGORY_OF_RULE[rule]
        return Reason(category, "" if category == "not_allowed" else field_name, message)

    values: list[dict[str, str]] = []
    truth: list[RowTruth] = []
    seen: set[RecordKey] = set()
    for number, row in enumerate(body, start=1):
        record = {f: row[columns[f]].strip() for f in INVENTORY_FIELDS}
        values.append(record)
        reasons = [say(rule, f) for f in INVENTORY_FIELDS if (rule := _field_rule(f, record[f], master))]
        key = (record["item_name"], record["bin_name"], record["lot_name"])
        action: Literal["created", "updated"] = "updated" if key in inventory.records else "created"
        if not reasons:
            if key in seen:
                reasons.append(say("duplicate", "item_name"))
            elif action == "created" and not allow_record_creation:
                reasons.append(say("creation_not_allowed", ""))
            elif action == "updated" and not allow_record_update:
                reasons.append(say("update_not_allowed", ""))
            seen.add(key)
        if reasons:
            truth.append(RowTruth(number, "failed", None, tuple(reasons)))
        else:
            truth.append(RowTruth(number, "imported", action))
    return ImportOutcome(header, tuple(body), tuple(values), tuple(truth))
