"""`claret-errors explain`: the rule or the guess behind a message, its advice, and a [[rules]] entry that,
pasted into the config, makes the tenant's wording a rule match."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

from claret_errors.cli import main
from claret_errors.config import Settings, load_settings
from claret_errors.reconcile.explain import explain, suggested_pattern

pytestmark = pytest.mark.usefixtures("no_claret_env")


def test_laravel_wording_names_its_rule_and_versions(capsys: pytest.CaptureFixture[str]) -> None:
    """The data team sees which Laravel rule and versions wrote the message, and what to tell the owner."""
    code = main(["explain", "--json", "There was an error on row 5. The selected bin_name is invalid."])
    shown = json.loads(capsys.readouterr().out)
    assert code == 0
    assert (shown["rule"], shown["field"], shown["category"], shown["confidence"]) == (
        "laravel.exists",
        "bin_name",
        "unknown_reference",
        "rule",
    )
    assert shown["versions"] == ["9", "10", "11", "12"]
    assert set(shown["also"]) == {"laravel.in", "laravel.not_in", "laravel.enum"}
    assert shown["advice"].startswith("Choose a bin that exists in Claret")


def test_guess_says_what_it_rests_on(capsys: pytest.CaptureFixture[str]) -> None:
    """A guess is shown as one, with the column and the cue it was read from."""
    assert main(["explain", "Bin SS-99 was not found."]) == 0
    out = capsys.readouterr().out
    assert 'rule:      none; guessed: names the column "bin"; says "not found"' in out
    assert "field:     bin_name" in out
    assert "nothing is fixed automatically on a guess" in out


@pytest.mark.parametrize(
    ("message", "other"),
    [
        ("Bin SS-99 was not found.", "Bin TK-7 was not found"),
        ("The moon is in the wrong phase", "the moon is in the wrong phase."),
        ("Lot 'RM19.ZAM' is closed [code 7]", "Lot 'X (2)' is closed [code 12]"),
        ('Quantity "1,5" rejected: \\d+ expected', 'Quantity "7" rejected: \\d+ expected'),
    ],
)
def test_pasted_rule_makes_the_wording_a_rule_match(tmp_path: Path, message: str, other: str) -> None:
    """The printed entry is valid TOML and, in the config, classifies this wording and its other values
    by the tenant's rule, with the same field and category."""
    first = explain(message, Settings())
    (tmp_path / "claret-errors.toml").write_text(first.toml, encoding="utf-8")
    assert tomllib.loads(first.toml)["rules"][0]["category"] == first.category
    settings = load_settings(env={}, cwd=tmp_path)
    for text in (message, other):
        again = explain(text, settings)
        assert (again.rule, again.confidence) == (settings.rules[0].name, "rule"), text
        assert (again.category, again.field) == (first.category, first.field)
        assert again.origin == str(tmp_path / "claret-errors.toml")


def test_config_rule_takes_precedence_over_the_builtin_one(tmp_path: Path) -> None:
    """A tenant who reads a Laravel wording differently is obeyed, and explain says whose rule it was."""
    (tmp_path / "claret-errors.toml").write_text(
        '[[rules]]\nname = "closed-lots"\npattern = "selected lot name is invalid"\n'
        'category = "not_allowed"\nfield = "lot_name"\nadvice = "The lot is closed: ask the cellar."\n',
        encoding="utf-8",
    )
    got = explain("The selected lot name is invalid.", load_settings(env={}, cwd=tmp_path))
    assert (got.rule, got.category, got.advice) == (
        "closed-lots",
        "not_allowed",
        "The lot is closed: ask the cellar.",
    )
    assert got.versions == ()


def test_suggested_pattern_keeps_words_and_loosens_values() -> None:
    """Words stay literal (escaped), values that change from row to row match anything."""
    assert (
        suggested_pattern("Item '124' (vintage 2019) is archived.")
        == r"(?i)^Item .+? \(vintage .+? is archived\.?$"
    )
