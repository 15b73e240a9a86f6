"""The auto-fix rules: each a small named pure function from a failed cell to a certain fix or a suggestion.

A rule returns an `Outcome` with `after` only when the new value is certain; anything less is a suggestion
(shown to a person, never written into a corrected file). No I/O, no printing, no knowledge of jobs.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cached_property
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import polars as pl

# Spreadsheet serial dates (days since 1899-12-30, Excel and LibreOffice): this range is 1954-10-03 to
# 2119-01-10, wide enough for fill dates and narrow enough that a stray quantity is not read as a date.
SERIAL_EPOCH = date(1899, 12, 30)
SERIAL_RANGE = (20000, 80000)
CLOSE_MATCH_CUTOFF = 80.0  # rapidfuzz ratio (0-100) from which a known name is worth suggesting
CLOSE_MATCH_LIMIT = 3
YEAR_RANGE = (1900, 2100)

# Built-in unit aliases (normalised alias -> unit name); the config's [units] table adds and overrides.
DEFAULT_UNIT_ALIASES: Mapping[str, str] = {
    "gal": "Gallon",
    "gals": "Gallon",
    "gallon": "Gallon",
    "gallons": "Gallon",
    "l": "Liter",
    "liter": "Liter",
    "liters": "Liter",
    "litre": "Liter",
    "litres": "Liter",
    "ea": "Each",
    "each": "Each",
    "case": "Case",
    "cases": "Case",
    "cs": "Case",
    "btl": "Bottle",
    "bottle": "Bottle",
    "bottles": "Bottle",
    "kg": "Kilogram",
    "kilogram": "Kilogram",
    "kilograms": "Kilogram",
    "lb": "Pound",
    "lbs": "Pound",
    "pound": "Pound",
    "pounds": "Pound",
    "ton": "Ton",
    "tons": "Ton",
}

# Letters that look Latin but are not (Cyrillic, Greek), and dash-like characters: NFKC keeps them apart.
_LOOKALIKES = str.maketrans(
    {
        **dict(
            zip(
                "\u0410\u0412\u0415\u041a\u041c\u041d\u041e\u0420\u0421\u0422\u0425\u0405\u0406\u0408\u0430\u0435\u043e\u0440\u0441\u0443\u0445\u0456\u0458\u0501\u0455",
                "ABEKMHOPCTXSIJaeopcyxijds",
                strict=True,
            )
        ),
        **dict(
            zip(
                "\u0391\u0392\u0395\u0396\u0397\u0399\u039a\u039c\u039d\u039f\u03a1\u03a4\u03a5\u03a7\u03bf\u03b9",
                "ABEZHIKMNOPTYXoi",
                strict=True,
            )
        ),
        **dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d", "-"),
        **dict.fromkeys("\u200b\u200c\u200d\u2060\ufeff\u00ad", ""),
    }
)

_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_YEAR_FIRST = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$")
_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_DATETIME = re.compile(r"^(\d{4}-\d{2}-\d{2})[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?$")
_SERIAL = re.compile(r"^(\d{5})(?:\.0+)?$")
_NUMERIC_DATE = re.compile(r"^(\d{1,2})[-/.](\d{1,2})[-/.](\d{2}|\d{4})$")
NUMERIC_DATE_PATTERN = r"^\s*(\d{1,2})[-/.](\d{1,2})[-/.]\d{4}\s*$"
_MONTH_NAME_FORMATS = (
    "%d-%b-%Y",
    "%d %b %Y",
    "%d-%B-%Y",
    "%d %B %Y",
    "%b %d, %Y",
    "%B %d, %Y",
    "%b %d %Y",
    "%B %d %Y",
    "%Y-%b-%d",
)

_PLAIN_NUMBER = re.compile(r"^\+?(\d+(\.\d+)?|\.\d+)$")
_WITH_UNIT = re.compile(r"^(\+?[\d.,' ]*\d[\d.,' ]*?)\s*([A-Za-z][A-Za-z0-9 .]*)$")
_SPACE_GROUPS = re.compile(r"^\d{1,3}(?:[ ']\d{3})+(?:[.,]\d+)?$")
_COMMA_GROUPS = re.compile(r"^\d{1,3}(?:,\d{3})+$")
_COMMA_GROUPS_DOT_DECIMAL = re.compile(r"^\d{1,3}(?:,\d{3})+\.\d+$")
_DOT_GROUPS_COMMA_DECIMAL = re.compile(r"^\d{1,3}(?:\.\d{3})+,\d+$")
_DECIMAL_COMMA = re.compile(r"^\d+,(?:\d{1,2}|\d{4,})$")
# What each quantity rule takes for granted, said to the person who reads the corrections.
QUANTITY_ASSUMPTIONS: Mapping[str, str] = {
    "quantity.unit_suffix": "the unit written after the number is the row's unit of measure",
    "quantity.digit_grouping": "spaces or apostrophes group the thousands",
    "quantity.thousands_separator": "the comma groups thousands: the file writes no decimal commas",
    "quantity.decimal_comma": "the comma is the decimal point",
}
# Evidence in a file's quantities of how it writes decimals: comma-decimal files write "12,5" or "1.234,5".
COMMA_DECIMAL_EVIDENCE = r"^\s*(\d+,(\d{1,2}|\d{4,})|\d{1,3}(\.\d{3})+,\d+)\s*$"


@dataclass(frozen=True)
class Outcome:
    """What a rule made of a value: `after` if certain, else a `suggestion` for a person; `rule` names it.

    `assumption` says, for people, what a certain change took for granted (shown in the reports and in
    corrections_log.csv): every automatic change must be checkable by the one who reads it.
    """

    rule: str
    after: str | None = None
    suggestion: str = ""
    assumption: str = ""

    @property
    def certain(self) -> bool:
        return self.after is not None


def fold_text(value: str) -> str:
    """NFKC, look-alike letters and dashes to ASCII, invisible characters dropped, whitespace collapsed.

    ASCII text is its own NFKC form and holds no look-alike, so it only has its whitespace collapsed; and
    str.split() splits where `\\s+` matches (both take str.isspace() characters), without a regex.
    """
    if not value.isascii():
        value = unicodedata.normalize("NFKC", value).translate(_LOOKALIKES)
    return " ".join(value.split())


def reference_key(value: str) -> str:
    """The form two references are compared in: folded and case-insensitive."""
    return fold_text(value).casefold()


# --- dates ---------------------------------------------------------------------------------------------


def _ymd(year: int, month: int, day: int) -> str | None:
    """`Y-m-d` if the parts make a real date in a plausible year."""
    if not YEAR_RANGE[0] <= year <= YEAR_RANGE[1]:
        return None
    try:
        return date(year, month, day).isoformat()
    except ValueError:
        return None


def date_order(values: pl.Series) -> bool | None:
    """Whether the file writes dates day first (True), month first (False), or cannot tell (None).

    Decided only by its own unambiguous dates: 13/02/2024 proves day first, 02/13/2024 month first; a file
    with both kinds proves nothing. Whether a kind occurs is all that counts, so each distinct value is read
    once (a million rows hold a few hundred dates).
    """
    import polars as pl

    parts = values.cast(pl.String).unique().str.extract_groups(NUMERIC_DATE_PATTERN)
    first = parts.struct.field("1").cast(pl.Int32, strict=False)
    second = parts.struct.field("2").cast(pl.Int32, strict=False)
    day_first = int(((first > 12) & (second <= 12)).sum())
    month_first = int(((second > 12) & (first <= 12)).sum())
    if day_first and not month_first:
        return True
    if month_first and not day_first:
        return False
    return None


def fix_spreadsheet_serial(value: str) -> Outcome | None:
    """`45123` -> `2023-07-16`: a date cell a spreadsheet exported as its day number."""
    match = _SERIAL.match(fold_text(value))
    if not match:
        return None
    days = int(match.group(1))
    if not SERIAL_RANGE[0] <= days <= SERIAL_RANGE[1]:
        return None
    return Outcome(
        "date.spreadsheet_serial",
        (SERIAL_EPOCH + timedelta(days=days)).isoformat(),
        assumption="a 5-digit number in a date column is a spreadsheet's day number (days since 1899-12-30)",
    )


def fix_date_format(value: str, day_first: bool | None) -> Outcome | None:
    """Other date spellings to `Y-m-d`; day/month order from the value itself, else from the file."""
    text = fold_text(value)
    if _ISO.match(text):
        return None  # already the format; if Claret refused it, the date itself is wrong
    for pattern, rule in ((_YEAR_FIRST, "date.year_first"), (_COMPACT, "date.compact")):
        match = pattern.match(text)
        if match:
            after = _ymd(int(match.group(1)), int(match.group(2)), int(match.group(3)))
            return (
                Outcome(rule, after, assumption="a date that starts with the year goes on month, day")
                if after
                else None
            )
    match = _DATETIME.match(text)
    if match:
        year, month, day = (int(p) for p in match.group(1).split("-"))
        after = _ymd(year, month, day)
        return (
            Outcome(
                "date.datetime", after, assumption="the time of day is dropped: Claret takes the date alone"
            )
            if after
            else None
        )
    match = _NUMERIC_DATE.match(text)
    if match:
        return _numeric_date(int(match.group(1)), int(match.group(2)), match.group(3), day_first)
    for fmt in _MONTH_NAME_FORMATS:
        try:
            parsed = datetime.strptime(text, fmt).date()
        except ValueError:
            continue
        after = _ymd(parsed.year, parsed.month, parsed.day)
        return (
            Outcome("date.month_name", after, assumption="the month is written as a word") if after else None
        )
    return None


def _numeric_date(first: int, second: int, year_text: str, day_first: bool | None) -> Outcome | None:
    """`08/01/2023`: certain when one part exceeds 12, the parts are equal, or the file's order is known."""
    year = int(year_text)
    readings = {"day first": _ymd(year, second, first), "month first": _ymd(year, first, second)}
    if len(year_text) == 2:
        # A two-digit year could be 19xx or 20xx: never certain, show the 20xx readings.
        readings = {k: _ymd(2000 + year, *_month_day(k, first, second)) for k in readings}
        return _date_suggestion("date.two_digit_year", readings)
    valid = {k: v for k, v in readings.items() if v}
    if not valid:
        return None
    if len(valid) == 1:
        [(key, after)] = valid.items()
        return Outcome("date.day_month_order", after, assumption=f"{key}: the other order is no real date")
    if len(set(valid.values())) == 1:
        return Outcome(
            "date.day_month_order",
            next(iter(valid.values())),
            assumption="day and month read alike either way",
        )
    if day_first is not None:
        key = "day first" if day_first else "month first"
        return Outcome(
            "date.file_order",
            valid[key],
            assumption=f"{key}, decided from the file's unambiguous dates (a part over 12 is the day)",
        )
    return _date_suggestion("date.ambiguous_order", valid)


def _month_day(reading: str, first: int, second: int) -> tuple[int, int]:
    return (second, first) if reading == "day first" else (first, second)


def _date_suggestion(rule: str, readings: Mapping[str, str | None]) -> Outcome | None:
    shown = [f"{v} ({k})" for k, v in readings.items() if v]
    return Outcome(rule, suggestion=" or ".join(dict.fromkeys(shown))) if shown else None


# --- units and quantities ------------------------------------------------------------------------------


class UnitTable:
    """Unit aliases (`gal` -> `Gallon`): the built-in table with the config's `[units]` on top."""

    def __init__(self, extra: Mapping[str, str] | None = None) -> None:
        self.aliases = {reference_key(k): v for k, v in DEFAULT_UNIT_ALIASES.items()}
        self.aliases.update({reference_key(k): fold_text(v) for k, v in (extra or {}).items()})

    def resolve(self, value: str) -> str | None:
        """The unit name an alias stands for, or None if it is no alias."""
        return self.aliases.get(reference_key(value).rstrip("."))

    def same_unit(self, a: str, b: str) -> bool:
        """Whether two spellings name one unit (`gal` and `Gallon`)."""
        key_a = reference_key(self.resolve(a) or a)
        key_b = reference_key(self.resolve(b) or b)
        return bool(key_a) and key_a == key_b


def fix_unit_alias(value: str, units: UnitTable, known: frozenset[str] | None) -> Outcome | None:
    """`gal` -> `Gallon`; certain unless the job's known units say the target does not exist."""
    target = units.resolve(value)
    if target is None or target == value:
        return None
    if known and target not in known:
        return Outcome("uom.alias", suggestion=f"{target} (alias of {fold_text(value)!r}, not a known unit)")
    return Outcome("uom.alias", target, assumption=f"{fold_text(value)!r} is short for {target}")


def quantity_style(values: pl.Series) -> bool:
    """Whether a file writes decimal commas ("12,5", "1.234,5"): then "1,200" is no longer certain.

    Both kinds of evidence hold a comma: the pattern is matched only on the values that do."""
    import polars as pl

    texts = values.cast(pl.String)
    commas = texts.filter(texts.str.contains(",", literal=True).fill_null(False))
    return bool(commas.str.contains(COMMA_DECIMAL_EVIDENCE).fill_null(False).any())


def fix_quantity(value: str, uom: str, units: UnitTable, comma_decimal_file: bool) -> Outcome | None:
    """Quantities Claret refuses for their spelling: `1,200`, `1 200`, `12 gal`, `12,5`; positive only."""
    text = fold_text(value)
    steps: list[str] = []
    match = _WITH_UNIT.match(text)
    if match:
        number, unit = match.group(1).strip(), match.group(2).strip()
        if not uom.strip() or not units.same_unit(unit, uom):
            row_unit = fold_text(uom) or "empty"
            return Outcome(
                "quantity.unit_suffix", suggestion=f"{number} (written in {unit!r}, uom is {row_unit})"
            )
        text = number
        steps.append("quantity.unit_suffix")
    after, rule, suggestion = _plain_number(text, comma_decimal_file)
    if rule:
        steps.append(rule)
    if suggestion:
        return Outcome("+".join(steps), suggestion=suggestion)
    if after is None or not steps or not _PLAIN_NUMBER.match(after) or not _positive(after):
        return None
    return Outcome("+".join(steps), after, assumption="; ".join(QUANTITY_ASSUMPTIONS[s] for s in steps))


def _plain_number(text: str, comma_decimal_file: bool) -> tuple[str | None, str, str]:
    """(number, rule, suggestion) for the separators in `text`; rule "" when nothing needed changing."""
    if _PLAIN_NUMBER.match(text):
        return text, "", ""
    if _SPACE_GROUPS.match(text):
        return text.replace(" ", "").replace("'", "").replace(",", "."), "quantity.digit_grouping", ""
    if _COMMA_GROUPS.match(text):
        plain = text.replace(",", "")
        if comma_decimal_file:
            return (
                None,
                "quantity.thousands_separator",
                f"{plain} or {text.replace(',', '.')} (decimal comma)",
            )
        return plain, "quantity.thousands_separator", ""
    if _COMMA_GROUPS_DOT_DECIMAL.match(text):
        return text.replace(",", ""), "quantity.thousands_separator", ""
    if _DOT_GROUPS_COMMA_DECIMAL.match(text):
        return text.replace(".", "").replace(",", "."), "quantity.decimal_comma", ""
    if _DECIMAL_COMMA.match(text):
        return text.replace(",", "."), "quantity.decimal_comma", ""
    return None, "", ""


def _positive(number: str) -> bool:
    return any(c in "123456789" for c in number)


# --- references ----------------------------------------------------------------------------------------


class NameIndex:
    """Names a field's values must be one of (proven by the job or the master data), for matching."""

    def __init__(self, names: Iterable[str]) -> None:
        self.names = frozenset(n for n in names if n and n.strip())

    @cached_property
    def by_key(self) -> dict[str, set[str]]:
        """The names under their reference keys; made at the first match (a job proves 50,000 lots and may
        never need them)."""
        by_key: dict[str, set[str]] = {}
        for name in self.names:
            by_key.setdefault(reference_key(name), set()).add(name)
        return by_key

    @cached_property
    def keys(self) -> list[str]:
        # Sorted: among names that tie on score at the limit, the same ones are shown on every run (a set's
        # order changes with each process's string hashing).
        return sorted(self.by_key)

    def __bool__(self) -> bool:
        return bool(self.names)

    def match(self, value: str) -> Outcome | None:
        """Exact after folding is a fix (when one name folds alike); a close match only a suggestion."""
        key = reference_key(value)
        if not key or value in self.names:
            return None
        hits = self.by_key.get(key)
        if hits and len(hits) == 1:
            [name] = hits
            return Outcome(
                "reference.normalised",
                name,
                assumption="the one known name that differs only in case, spaces or look-alike letters",
            )
        if hits:
            return Outcome("reference.normalised", suggestion="one of " + ", ".join(sorted(hits)))
        return self.close(key)

    def close(self, key: str) -> Outcome | None:
        """The nearest known names by rapidfuzz ratio, with their scores; never certain."""
        from rapidfuzz import fuzz, process

        found = process.extract(
            key, self.keys, scorer=fuzz.ratio, score_cutoff=CLOSE_MATCH_CUTOFF, limit=CLOSE_MATCH_LIMIT
        )
        shown = [
            f"{name} (score {score:.0f})"
            for match_key, score, _i in found
            for name in sorted(self.by_key[match_key])
        ]
        return Outcome("reference.close_match", suggestion=", ".join(shown)) if shown else None
