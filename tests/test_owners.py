"""Owners: one owner per failed record, first matching route wins, a bad file names its key."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from claret_errors.errors import ConfigError
from claret_errors.reconcile.owners import DEFAULT_OWNER, Owners

EXAMPLE = Path(__file__).parent.parent / "fixtures" / "owners.example.toml"


def failed_frame() -> pl.DataFrame:
    """Failed records as reconcile gives them: input columns and per-message categories and fields."""
    return pl.DataFrame(
        {
            "input_row": [1, 2, 3, 4, 5],
            "item_name": ["122-16", "ZAMNVCAS19", "124", "122-16", None],
            "bin_name": ["SS-01", "BB-02", "BB-03", "BB-04", "SS-09"],
            "categories": [
                ["unknown_reference"],
                ["unknown_reference", "invalid_date"],
                ["invalid_date", "unknown_reference"],
                ["out_of_range"],
                [],
            ],
            "fields": [
                ["bin_name"],
                ["bin_name", "date_filled"],
                ["date_filled", "item_name"],
                ["quantity"],
                [],
            ],
        },
        schema_overrides={"categories": pl.List(pl.String), "fields": pl.List(pl.String)},
    )


def test_example_file_routes_first_match_else_default() -> None:
    """The documented example is the contract users copy: it must load and route as its comments say."""
    owners = Owners.load(EXAMPLE)
    routed = owners.route(failed_frame()).to_list()
    assert routed == ["cellar", "data-team", "planning", "bottling", "cellar"]
    assert owners.names == ("cellar", "planning", "bottling", "data-team")


def test_category_and_field_must_hold_on_the_same_message(tmp_path: Path) -> None:
    """Row 2 has an unknown bin and a bad date: a route for unknown dates must not take it."""
    path = tmp_path / "owners.toml"
    path.write_text('[[route]]\nowner = "dates"\ncategory = "unknown_reference"\nfield = "date_filled"\n')
    assert Owners.load(path).route(failed_frame()).to_list() == [DEFAULT_OWNER] * 5


def test_no_owners_file_routes_everything_to_the_default_owner() -> None:
    """Without --owners every record still has exactly one owner."""
    routed = Owners.load(None).route(failed_frame())
    assert routed.to_list() == [DEFAULT_OWNER] * 5
    assert routed.name == "owner"


def test_alias_column_name_in_route_means_the_canonical_field(tmp_path: Path) -> None:
    """Users write `bin`, the frame says `bin_name`: same aliases as loading."""
    path = tmp_path / "owners.toml"
    path.write_text('default = "x"\n[[route]]\nowner = "tanks"\nbin = "^BB-0[23]$"\n')
    assert Owners.load(path).route(failed_frame()).to_list() == ["x", "tanks", "tanks", "x", "x"]


def test_route_on_a_column_the_records_lack_is_a_config_error(tmp_path: Path) -> None:
    """A typo in a column name would silently send everything to the default owner."""
    path = tmp_path / "owners.toml"
    path.write_text('[[route]]\nowner = "x"\nbinn_name = "^SS"\n')
    with pytest.raises(ConfigError, match=r"route\[0\]"):
        Owners.load(path).route(failed_frame())


def test_route_on_a_field_of_another_import_type_just_does_not_match(tmp_path: Path) -> None:
    """One owners file serves inventory and sales jobs alike."""
    path = tmp_path / "owners.toml"
    path.write_text('[[route]]\nowner = "sales"\nsupply_type = "."\n')
    assert Owners.load(path).route(failed_frame()).to_list() == [DEFAULT_OWNER] * 5


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ('default = "../etc"\n', "key 'default'"),
        ('[[route]]\nowner = "a"\nbin_name = "(?<=x)"\n', "route[0].bin_name"),
        ('[[route]]\nowner = "a"\ncategory = "typo"\n', "route[0].category"),
        ('[[route]]\nowner = "a"\n', "route[0]"),
        ('[[route]]\nbin_name = "x"\n', "route[0].owner"),
        ('owner = "a"\n', "key 'owner'"),
        ("route = [\n", "not valid TOML"),
    ],
)
def test_bad_owners_file_raises_config_error_naming_file_and_key(tmp_path: Path, text: str, key: str) -> None:
    """A broken owners file stops the run with exit 2 and says where, instead of misrouting records."""
    path = tmp_path / "owners.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        Owners.load(path)
    assert str(path) in str(info.value)
    assert key in str(info.value)
    assert info.value.exit_code == 2


def test_missing_owners_file_is_a_config_error(tmp_path: Path) -> None:
    """--owners pointing nowhere is a usage mistake (exit 2), not a crash."""
    with pytest.raises(ConfigError, match="cannot read"):
        Owners.load(tmp_path / "nope.toml")
