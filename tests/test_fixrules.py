"""Each auto-fix rule on its own: what it fixes for certain, what it only suggests, what it leaves alone."""

from __future__ import annotations

import os
import subprocess
import sys

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from claret_errors.fix.rules import (
    NameIndex,
    UnitTable,
    date_order,
    fix_date_format,
    fix_quantity,
    fix_spreadsheet_serial,
    fix_unit_alias,
    fold_text,
    quantity_style,
    reference_key,
)


def test_spreadsheet_serial_becomes_ymd() -> None:
    """A date cell exported as its day number is the date the spreadsheet showed."""
    outcome = fix_spreadsheet_serial("45123")
    assert outcome is not None
    assert (outcome.after, outcome.rule) == ("2023-07-16", "date.spreadsheet_serial")


@pytest.mark.parametrize("value", ["123", "999999", "4512", "45123.5"])
def test_numbers_outside_the_serial_range_are_not_dates(value: str) -> None:
    """A stray number is not read as a date: only plausible whole day numbers are."""
    assert fix_spreadsheet_serial(value) is None


@pytest.mark.parametrize(
    ("value", "after", "rule"),
    [
        ("2023/08/01", "2023-08-01", "date.year_first"),
        ("2023.8.1", "2023-08-01", "date.year_first"),
        ("20230801", "2023-08-01", "date.compact"),
        ("2023-08-01T00:00:00Z", "2023-08-01", "date.datetime"),
        ("1-Aug-2023", "2023-08-01", "date.month_name"),
        ("Aug 1, 2023", "2023-08-01", "date.month_name"),
        ("13/02/2024", "2024-02-13", "date.day_month_order"),
        ("02/13/2024", "2024-02-13", "date.day_month_order"),
        ("05/05/2024", "2024-05-05", "date.day_month_order"),
    ],
)
def test_unambiguous_dates_become_ymd(value: str, after: str, rule: str) -> None:
    """Spellings with only one possible reading are fixed, whatever the file's habit."""
    outcome = fix_date_format(value, None)
    assert outcome is not None
    assert (outcome.after, outcome.rule) == (after, rule)


def test_ambiguous_date_is_only_a_suggestion_when_the_file_does_not_say() -> None:
    """08/01/2023 is 1 August or 8 January: without evidence nothing is guessed."""
    outcome = fix_date_format("08/01/2023", None)
    assert outcome is not None and outcome.after is None
    assert "2023-08-01 (month first)" in outcome.suggestion
    assert "2023-01-08 (day first)" in outcome.suggestion


@pytest.mark.parametrize(("day_first", "after"), [(True, "2023-01-08"), (False, "2023-08-01")])
def test_ambiguous_date_follows_the_file_order(day_first: bool, after: str) -> None:
    """When the file's own dates prove an order, the ambiguous ones follow it."""
    outcome = fix_date_format("08/01/2023", day_first)
    assert outcome is not None
    assert (outcome.after, outcome.rule) == (after, "date.file_order")


@pytest.mark.parametrize("value", ["2023-13-45", "2023-02-30", "yesterday", "31/31/2023", "2023-08-01"])
def test_impossible_or_already_formatted_dates_are_not_fixed(value: str) -> None:
    """A date that does not exist, or one already in Y-m-d that Claret refused, needs a person."""
    assert fix_date_format(value, True) is None


def test_two_digit_year_is_never_certain() -> None:
    """08/01/23 could be 1923 or 2023: a suggestion at most."""
    outcome = fix_date_format("13/01/23", None)
    assert outcome is not None and outcome.after is None
    assert "2023-01-13" in outcome.suggestion


def test_date_order_comes_from_the_files_unambiguous_dates() -> None:
    """One 13/02/2024 makes a file day-first; mixed evidence decides nothing."""
    assert date_order(pl.Series(["08/01/2023", "13/02/2024", None])) is True
    assert date_order(pl.Series(["08/01/2023", "02/13/2024"])) is False
    assert date_order(pl.Series(["08/01/2023", "2023-01-01"])) is None
    assert date_order(pl.Series(["13/02/2024", "02/13/2024"])) is None
    # Read once per distinct value: repeats weigh nothing, one unambiguous date among many still decides.
    assert date_order(pl.Series(["08/01/2023"] * 1000 + [" 13/02/2024 "] + ["2023-01-01"] * 1000)) is True
    assert date_order(pl.Series([13022024, None])) is None
    assert date_order(pl.Series([], dtype=pl.String)) is None


@pytest.mark.parametrize(
    ("value", "after", "rule"),
    [
        ("1,200", "1200", "quantity.thousands_separator"),
        ("1,234,567.5", "1234567.5", "quantity.thousands_separator"),
        ("1 200", "1200", "quantity.digit_grouping"),
        ("1\u00a0200", "1200", "quantity.digit_grouping"),
        ("1'200.5", "1200.5", "quantity.digit_grouping"),
        ("12,5", "12.5", "quantity.decimal_comma"),
        ("1.234,5", "1234.5", "quantity.decimal_comma"),
        ("12 gal", "12", "quantity.unit_suffix"),
        ("12Gallon", "12", "quantity.unit_suffix"),
        ("1,200 gallons", "1200", "quantity.unit_suffix+quantity.thousands_separator"),
    ],
)
def test_quantity_spellings_become_plain_numbers(value: str, after: str, rule: str) -> None:
    """Separators, spaces, a decimal comma and the row's own unit are removed; the number is kept."""
    outcome = fix_quantity(value, "Gallon", UnitTable(), comma_decimal_file=False)
    assert outcome is not None
    assert (outcome.after, outcome.rule) == (after, rule)


def test_unit_suffix_other_than_the_rows_unit_is_only_a_suggestion() -> None:
    """12 gal on a row counted in cases is a contradiction a person must resolve."""
    outcome = fix_quantity("12 gal", "Case", UnitTable(), comma_decimal_file=False)
    assert outcome is not None and outcome.after is None
    assert "uom is Case" in outcome.suggestion


def test_thousands_separator_is_a_suggestion_in_a_decimal_comma_file() -> None:
    """In a file that writes 12,5, "1,200" may be 1.2: both readings are shown, neither applied."""
    assert quantity_style(pl.Series(["12,5", "3"])) is True
    assert quantity_style(pl.Series(["1,200", "3.5"])) is False
    assert quantity_style(pl.Series([None, " 1.234,5 ", "1,200"])) is True
    assert quantity_style(pl.Series(["1,200,000", "12,345", "a,5", None])) is False
    assert quantity_style(pl.Series([1, 2])) is False
    assert quantity_style(pl.Series([], dtype=pl.String)) is False
    outcome = fix_quantity("1,200", "Gallon", UnitTable(), comma_decimal_file=True)
    assert outcome is not None and outcome.after is None
    assert outcome.suggestion == "1200 or 1.200 (decimal comma)"


@pytest.mark.parametrize("value", ["0", "-5", "0,00", "n/a", "approx 40", "12", ""])
def test_quantities_that_are_wrong_not_misspelt_are_left_alone(value: str) -> None:
    """Zero, negative, text and already-plain numbers have nothing a rule can certainly fix."""
    outcome = fix_quantity(value, "Gallon", UnitTable(), comma_decimal_file=False)
    assert outcome is None or outcome.after is None


def test_unit_alias_maps_to_the_unit_name_and_the_config_extends_it() -> None:
    """gal -> Gallon built in; the config's [units] adds its own aliases."""
    units = UnitTable({"cs9": "9LE Case"})
    gallon = fix_unit_alias("GAL", units, None)
    custom = fix_unit_alias("CS9", units, frozenset({"9LE Case"}))
    assert gallon is not None and (gallon.after, gallon.rule) == ("Gallon", "uom.alias")
    assert custom is not None and custom.after == "9LE Case"
    assert fix_unit_alias("Gallon", units, None) is None


def test_unit_alias_to_an_unknown_unit_is_only_a_suggestion() -> None:
    """If the tenant's units are known and the alias's target is not one of them, nothing is certain."""
    outcome = fix_unit_alias("gal", UnitTable(), frozenset({"Liter"}))
    assert outcome is not None and outcome.after is None


def test_folding_handles_unicode_lookalikes_dashes_and_spaces() -> None:
    """Cyrillic letters, en dashes, non-breaking and doubled spaces fold to the ASCII form."""
    assert fold_text("\u0405\u0405\u2013\u200b01 ") == "SS-01"
    assert reference_key(" 9LE\u00a0 case") == "9le case"


def test_reference_exact_after_folding_is_a_fix() -> None:
    """ss-01 is SS-01 when that is the only known name folding alike."""
    index = NameIndex(["SS-01", "SS-02"])
    outcome = index.match("ss\u201101")
    assert outcome is not None
    assert (outcome.after, outcome.rule) == ("SS-01", "reference.normalised")


def test_reference_folding_to_two_names_is_only_a_suggestion() -> None:
    """Two known names that differ only in case make the match uncertain."""
    outcome = NameIndex(["Lot-A", "LOT-A"]).match("lot-a")
    assert outcome is not None and outcome.after is None
    assert outcome.suggestion == "one of LOT-A, Lot-A"


def test_close_reference_is_a_suggestion_with_its_score() -> None:
    """SS-99 near SS-09 is shown with its score, never applied."""
    outcome = NameIndex(["SS-09", "BRL-001"]).match("SS-99")
    assert outcome is not None and outcome.after is None
    assert outcome.suggestion == "SS-09 (score 80)"
    assert NameIndex(["BRL-001"]).match("TANK-7") is None


def test_known_reference_is_not_changed() -> None:
    """A value that is already a known name has nothing to fix."""
    assert NameIndex(["SS-01"]).match("SS-01") is None
    assert not NameIndex([])


def _fold_by_regex(value: str) -> str:
    """fold_text as first written: NFKC, look-alikes, then `\\s+` collapsed by a regex and stripped."""
    import re
    import unicodedata

    from claret_errors.fix.rules import _LOOKALIKES

    text = unicodedata.normalize("NFKC", value).translate(_LOOKALIKES)
    return re.sub(r"\s+", " ", text).strip()


def test_fold_text_shortcuts_hold_for_every_character() -> None:
    """Why the quick fold equals the regex one: ASCII is its own NFKC form and no look-alike, and the regex
    `\\s` matches exactly the characters str.split() and str.strip() take as whitespace."""
    import re
    import sys
    import unicodedata

    from claret_errors.fix.rules import _LOOKALIKES

    ascii_text = "".join(map(chr, range(128)))
    assert unicodedata.normalize("NFKC", ascii_text).translate(_LOOKALIKES) == ascii_text
    space = re.compile(r"\s")
    assert all(bool(space.match(chr(c))) == chr(c).isspace() for c in range(sys.maxunicode + 1))
    for code in range(sys.maxunicode + 1):
        if chr(code).isspace() or code < 128:
            value = f" a{chr(code)}{chr(code)}b\u00a0{chr(code)}"
            assert fold_text(value) == _fold_by_regex(value), repr(value)
            assert fold_text(value[:4]) == _fold_by_regex(value[:4]), repr(value)


@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=30))
def test_fold_text_equals_the_regex_fold(value: str) -> None:
    assert fold_text(value) == _fold_by_regex(value)
    assert reference_key(value) == _fold_by_regex(value).casefold()


def test_close_matches_that_tie_are_the_same_on_every_run() -> None:
    """Ties at the suggestion limit are broken by name, not by the process's string hashing."""
    script = (
        "from claret_errors.fix.rules import NameIndex\n"
        "names = [f'SS-{c}1' for c in 'ABCDEFGHIJ']\n"
        "print(NameIndex(names).match('SS-Z1').suggestion)\n"
    )
    seen = {
        subprocess.run(
            [sys.executable, "-c", script],
            env={**os.environ, "PYTHONHASHSEED": str(seed)},
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        for seed in range(6)
    }
    assert len(seen) == 1
    assert seen.pop().startswith("SS-A1 (score")
