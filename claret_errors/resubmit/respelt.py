"""What a spreadsheet does to the cells of a CSV it opens and saves again, undone against the values as
written: dates re-spelt in the program's locale (`2024-05-09` saved as `5/9/2024`), numbers re-spelt
(`12.50` as `12.5`), characters its encoding cannot hold saved as `?`. Without this, every row of a re-saved
needs_attention.csv looks changed, and a row a person fixed is held back by a date they never touched.

Only certain readings: a cell goes back to its written value when it is that value in another spelling;
a changed date is read in the day/month order the file itself proves (its re-spelt dates of days past the
12th), never guessed. Pure functions of text; reads and writes nothing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal, InvalidOperation

_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
# A date as a spreadsheet saves it for its locale: 5/9/2024, 05.09.2024, 5-9-24, with a midnight time or not.
_LOCAL = re.compile(r"^(\d{1,2})([/.-])(\d{1,2})\2(\d{4}|\d{2})(?:\s+0?0:00(?::00)?)?$")
_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)$")
MONTH_FIRST, DAY_FIRST = "month first", "day first"


def _local_date(text: str, order: str) -> date | None:
    match = _LOCAL.match(text.strip())
    if not match:
        return None
    first, second, year = int(match.group(1)), int(match.group(3)), match.group(4)
    month, day = (first, second) if order == MONTH_FIRST else (second, first)
    full = int(year) if len(year) == 4 else 2000 + int(year)  # a two-digit year is this century's
    try:
        return date(full, month, day)
    except ValueError:
        return None


def _iso(text: str) -> date | None:
    match = _ISO.match(text)
    if not match:
        return None
    try:
        return date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    except ValueError:
        return None


def date_order(pairs: Sequence[tuple[str, str]]) -> str | None:
    """The day/month order a file's dates are spelt in, from (as written, as read) pairs of date cells:
    the one order under which some re-spelt cell is its written date and is no date in the other order,
    with no cell proving the other.
    None when the file says nothing or contradicts itself."""
    proves = {MONTH_FIRST: False, DAY_FIRST: False}
    for before, now in pairs:
        written = _iso(before)
        if written is None or now == before:
            continue
        for order in (MONTH_FIRST, DAY_FIRST):
            # Proof is a written date that reads back in one order and is no date at all in the other
            # (5/13/2024); 5/9/2024 could be an untouched May 9th or a retyped September 5th.
            if _local_date(now, order) == written and _local_date(now, _other(order)) is None:
                proves[order] = True
    found = [order for order, seen in proves.items() if seen]
    return found[0] if len(found) == 1 else None


def _same_number(before: str, now: str) -> bool:
    if not (_NUMBER.match(before) and _NUMBER.match(now)):
        return False
    try:
        return Decimal(before) == Decimal(now)
    except InvalidOperation:
        return False


def _lost_in_encoding(before: str, now: str) -> bool:
    """`now` is `before` saved in Windows-1252: each character it cannot hold became `?`."""
    if len(before) != len(now) or "?" not in now:
        return False
    for b, n in zip(before, now, strict=True):
        if b == n:
            continue
        if n != "?":
            return False
        try:
            b.encode("cp1252")
        except UnicodeEncodeError:
            continue
        return False
    return True


def as_written(before: str, now: str, *, is_date: bool, order: str | None) -> tuple[str, str | None]:
    """(value to use, what was read) for one cell: `before` when `now` is it re-spelt, a changed local date
    in `order` as Y-m-d, else `now`. The second item says the reading, for the person; None when the cell
    is simply as written or simply changed."""
    if now == before:
        return now, None
    if is_date and (written := _iso(before)) is not None:
        for candidate in (MONTH_FIRST, DAY_FIRST):
            if _local_date(now, candidate) == written and (order in (None, candidate)):
                if order is None and _local_date(now, _other(candidate)) not in (None, written):
                    continue  # without the file's order a date like 5/9 could be either; not certain
                return before, None
    if is_date and order is not None and _ISO.match(now) is None:
        read = _local_date(now, order)
        if read is not None:
            return read.isoformat(), f"{now!r} read as {read.isoformat()!r} ({order}, as the file's dates)"
    if _same_number(before, now) or _lost_in_encoding(before, now):
        return before, None
    return now, None


def _other(order: str) -> str:
    return DAY_FIRST if order == MONTH_FIRST else MONTH_FIRST


def file_order(
    rows: Mapping[int, Sequence[str]],
    written: Mapping[int, Sequence[str | None]],
    date_columns: Sequence[int],
) -> str | None:
    """The date order of a whole sheet: its rows as read against the rows as written, date columns only."""
    pairs = [
        (written[n][i] or "", values[i]) for n, values in rows.items() if n in written for i in date_columns
    ]
    return date_order(pairs)
