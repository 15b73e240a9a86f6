"""Classification: the hand-written corpus, the simulator's catalogue, user rules, and untrusted text."""

from __future__ import annotations

import csv
from collections.abc import Mapping
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from claret_errors.config import CATEGORIES, RuleSpec, Settings, load_settings
from claret_errors.errors import ConfigError
from claret_errors.fields import alias_table
from claret_errors.reconcile.classify import (
    Classification,
    RulePack,
    classify_messages,
    split_cells,
    split_sentences,
)
from claret_errors.simulator import messages as catalogue

CORPUS = Path(__file__).parent.parent / "fixtures" / "messages" / "laravel.csv"
PACK = RulePack.builtin()


def _corpus() -> list[dict[str, str]]:
    with CORPUS.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.mark.parametrize("row", _corpus(), ids=lambda r: r["message"][:60])
def test_corpus_message_gets_expected_category_field_and_rule(row: dict[str, str]) -> None:
    """Every wording we have seen or expect keeps its meaning: a regression here misroutes real records."""
    got = PACK.classify(row["message"])
    assert (got.category, got.field, got.rule) == (row["category"], row["field"], row["rule"])


def test_corpus_covers_every_hand_written_rule() -> None:
    """A rule without a corpus line is a rule nobody checked (the Laravel templates have their own tests)."""
    used = {row["rule"] for row in _corpus()}
    assert {rule.name for rule in PACK.rules if not rule.versions} <= used


def test_builtin_rule_names_are_unique_and_categories_valid() -> None:
    """Reports show the rule that matched: two rules with one name and version would make that meaningless."""
    names = [(rule.name, rule.versions) for rule in PACK.rules]
    assert len(names) == len(set(names))
    assert all(rule.category in CATEGORIES and rule.category != "unclassified" for rule in PACK.rules)


@pytest.mark.parametrize("wording", catalogue.WORDINGS)
@pytest.mark.parametrize("style", catalogue.ATTRIBUTE_STYLES)
@pytest.mark.parametrize("prefix", [False, True])
def test_every_simulator_message_variant_classifies_to_its_rule_category(
    wording: catalogue.Wording, style: catalogue.AttributeStyle, prefix: bool
) -> None:
    """The simulator's catalogue is Claret's wordings as we know them: each must map to its known category."""
    for rule, category in catalogue.CATEGORY_OF_RULE.items():
        for field in ("item_name", "bin_name", "lot_name", "date_filled", "quantity", "uom"):
            text = catalogue.render(rule, field, wording, style)
            if prefix:
                text = catalogue.prefixed(text, 7)
            got = PACK.classify(text)
            assert got.category == category, text
            if "{attribute}" in catalogue.TEMPLATES[wording][rule]:
                assert got.field == field, text


def test_unmatched_message_is_unclassified_with_empty_field_and_rule() -> None:
    """A new kind of failure must surface as unclassified, never be forced into a familiar category."""
    got = PACK.classify("The moon is in the wrong phase.")
    assert (got.category, got.field, got.fix, got.rule, got.confidence) == (
        "unclassified",
        "",
        "manual",
        "",
        "none",
    )


def test_fix_hint_follows_the_rule() -> None:
    """The fix stage relies on the hint: dates it reformats, references it suggests, the rest is manual."""
    assert PACK.classify("The date filled field must match the format Y-m-d.").fix == "auto"
    assert PACK.classify("The selected bin name is invalid.").fix == "suggested"
    assert PACK.classify("The item name field is required.").fix == "manual"


def test_classify_messages_keeps_order_and_verbatim_text() -> None:
    """messages.csv shows the message as Claret wrote it, aligned with its row."""
    raw = [
        "There was an error on row 2. The selected uom is invalid.",
        "Odd   message\twith tabs",
        None,
        "The selected uom is invalid.",
    ]
    frame = classify_messages(pl.Series(raw, dtype=pl.String), PACK, alias_table())
    assert frame.columns == ["message", "category", "field", "fix", "rule", "confidence", "advice"]
    assert frame["message"].to_list() == [raw[0], raw[1], "", raw[3]]
    assert frame["category"].to_list() == [
        "unknown_reference",
        "unclassified",
        "unclassified",
        "unknown_reference",
    ]
    assert frame["field"].to_list() == ["uom", "", "", "uom"]


def test_classify_messages_runs_rules_once_per_distinct_wording() -> None:
    """A million messages in a handful of wordings must cost a handful of regex passes, not a million."""
    seen: list[str] = []

    class CountingPack(RulePack):
        def classify_normalised(
            self,
            text: str,
            aliases: Mapping[str, str] | None = None,
            columns: Mapping[str, str] | None = None,
        ) -> Classification:
            seen.append(text)
            return super().classify_normalised(text, aliases, columns)

    pack = CountingPack(PACK.rules)
    series = pl.Series(
        ["The selected uom is invalid.", "There was an error on row 9. The selected uom is invalid."] * 5000
    )
    frame = classify_messages(series, pack, alias_table())
    assert frame.height == 10000
    assert seen == ["The selected uom is invalid."]


def test_aliases_from_config_map_message_attribute_to_field() -> None:
    """A tenant calling the bin "cellar position" still gets its messages on bin_name."""
    aliases = alias_table({"bin_name": ("cellar position",)})
    got = PACK.classify("The selected cellar position is invalid.", aliases)
    assert got.field == "bin_name"


def test_user_rule_overrides_builtin_and_names_itself(tmp_path: Path) -> None:
    """Users correct the built-in pack from claret-errors.toml; the report then shows their rule."""
    config = tmp_path / "claret-errors.toml"
    config.write_text(
        '[[rules]]\nname = "lots-closed"\npattern = "^The selected lot name is invalid"\n'
        'category = "not_allowed"\nfield = "lot_name"\n'
    )
    pack = RulePack.from_settings(load_settings(env={}, cwd=tmp_path))
    got = pack.classify("The selected lot name is invalid.")
    assert (got.category, got.field, got.fix, got.rule) == (
        "not_allowed",
        "lot_name",
        "manual",
        "lots-closed",
    )
    assert pack.classify("The selected bin name is invalid.").rule == "laravel.exists"


def test_user_rule_with_attr_group_maps_the_captured_field() -> None:
    """A user rule can name its field through the message, like the built-in ones."""
    spec = RuleSpec(name="frozen", pattern=r"^(?P<attr>\w+) is frozen", category="not_allowed")
    pack = RulePack.from_settings(Settings(rules=(spec,)))
    assert pack.classify("bin is frozen").field == "bin_name"


def test_bad_user_rule_category_raises_config_error_naming_the_rule() -> None:
    """A typo in a rule must stop the run with the key named, not classify silently wrong."""
    spec = RuleSpec(name="mine", pattern="x", category="oops")
    with pytest.raises(ConfigError, match=r"rules\.mine"):
        RulePack.from_settings(Settings(rules=(spec,)))


@given(st.text(max_size=300))
def test_any_text_classifies_without_error(text: str) -> None:
    """Messages come from outside: no text may crash the classifier, and unmatched text has no rule."""
    got = PACK.classify(text)
    assert got.category in CATEGORIES
    assert (got.rule == "") == (got.confidence != "rule")
    assert (got.confidence == "none") == (got.category == "unclassified" and got.field == "")


def test_huge_message_is_classified_on_its_head_and_kept_whole() -> None:
    """A megabyte message must not stall the run, and the report still gets the whole text."""
    text = "The selected bin name is invalid." + " x" * 500_000
    frame = classify_messages(pl.Series([text]), PACK, alias_table())
    assert frame["message"][0] == text
    assert frame.select("category", "field").row(0) == ("unknown_reference", "bin_name")


def test_rule_never_reads_two_messages_as_one() -> None:
    """Two messages in one cell must not yield a field like "the_quantity" from a match across them."""
    got = PACK.classify("The selected bin name is invalid. The quantity field must be a number.")
    assert (got.category, got.field) in {("unknown_reference", "bin_name"), ("invalid_number", "quantity")}


@pytest.mark.parametrize(
    ("cell", "pieces"),
    [
        (
            "The date filled does not match the format Y-m-d. Record creation is not allowed for this "
            "import.",
            (
                "The date filled does not match the format Y-m-d.",
                "Record creation is not allowed for this import.",
            ),
        ),
        (
            "There was an error on row 4. The selected uom is invalid. "
            "There was an error on row 4. The lot name field is required.",
            (
                "There was an error on row 4. The selected uom is invalid.",
                "There was an error on row 4. The lot name field is required.",
            ),
        ),
        (
            "The tank is frozen. The selected uom is invalid.",
            ("The tank is frozen. The selected uom is invalid.",),
        ),
        (
            "There was an error on row 4. The selected uom is invalid.",
            ("There was an error on row 4. The selected uom is invalid.",),
        ),
    ],
)
def test_split_sentences_cuts_only_into_known_messages(cell: str, pieces: tuple[str, ...]) -> None:
    """Several messages in one cell are told apart; an unknown text is kept whole, prefix stays attached."""
    assert split_sentences(cell, PACK, alias_table()) == pieces


def test_split_cells_classifies_each_piece_wording_once() -> None:
    """Cells that differ only by their row prefixes must not run the rules once per cell (50k cells: 5 s)."""
    seen: list[str] = []

    class CountingPack(RulePack):
        def classify_normalised(
            self,
            text: str,
            aliases: Mapping[str, str] | None = None,
            columns: Mapping[str, str] | None = None,
        ) -> Classification:
            seen.append(text)
            return super().classify_normalised(text, aliases, columns)

    cells = [
        f"The selected uom is invalid. There was an error on row {n}. The lot name field is required."
        for n in range(500)
    ]
    pieces = split_cells(cells, CountingPack(PACK.rules), alias_table())
    assert pieces[7] == (
        "The selected uom is invalid.",
        "There was an error on row 7. The lot name field is required.",
    )
    assert len(pieces) == len(cells)
    assert sorted(seen) == ["The lot name field is required.", "The selected uom is invalid."]


CUSTOM = Path(__file__).parent.parent / "fixtures" / "messages" / "custom.csv"


def _custom() -> list[dict[str, str]]:
    with CUSTOM.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.mark.parametrize("row", _custom(), ids=lambda r: r["message"][:60])
def test_custom_wording_gets_its_field_and_category_guessed(row: dict[str, str]) -> None:
    """A wording no rule knows still reaches the right owner and action, marked as a guess."""
    got = PACK.classify(row["message"])
    assert (got.field, got.category) == (row["field"], row["category"] or "unclassified")
    if not got.rule:
        assert got.confidence == ("guessed" if got.field or row["category"] else "none")
        assert got.fix == "manual"
        assert bool(got.reason) == (got.confidence == "guessed")


def test_guess_needs_exactly_one_named_column() -> None:
    """A message naming two columns gets no field: picking one would send the row to the wrong owner."""
    got = PACK.classify("The lot name does not exist for this item.")
    assert (got.field, got.category, got.confidence) == ("", "unknown_reference", "guessed")


def test_guess_finds_the_files_own_header_names() -> None:
    """A sales file's "Ship From" column is found by its own header when the message names it."""
    got = PACK.classify("Ship From was not found.", {}, {"ship_from": "location"})
    assert (got.field, got.category) == ("location", "unknown_reference")
