"""Laravel's default messages, every version and every inventory field: generated from the transcribed
templates (reconcile/rules/laravel_messages.toml), each instance must come back as its rule, field and
category, in every form Laravel writes the attribute and with text around the sentence."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator
from importlib import resources
from typing import Any

import pytest

from claret_errors.fields import INVENTORY_FIELDS, alias_table
from claret_errors.reconcile.classify import RulePack

PACK = RulePack.builtin()
DATA: dict[str, Any] = tomllib.loads(
    resources.files("claret_errors.reconcile.rules").joinpath("laravel_messages.toml").read_text("utf-8")
)
# What Laravel puts in for the other placeholders (numbers where the rule compares sizes).
TEXT_VALUES = {
    "other": "lot name",
    "value": "Gallon",
    "values": "Gallon, 9LE Case",
    "date": "today",
    "format": "Y-m-d",
}
NUMBER_VALUES = {"min": "1", "max": "255", "size": "6", "digits": "4", "decimal": "2", "value": "0"}
# Every way a field reaches `:attribute`: Laravel's default (underscores as spaces), the raw key, the keys of
# rows of an array payload, a wildcard key, a nested key, and an alias from a tenant's header mapping.
FORMS = {
    "spaces": lambda f: f.replace("_", " "),
    "underscores": lambda f: f,
    "row_indexed": lambda f: f"0.{f}",
    "wildcard": lambda f: f"*.{f}",
    "nested": lambda f: f"items.3.{f.replace('_', ' ')}",
    "capitalised": lambda f: f.replace("_", " ").title(),
}
NOISE = {
    "bare": ("", ""),
    "row_prefix": ("There was an error on row 5. ", ""),
    "around": ("Import error: ", " Please check the file."),
}


def _instances() -> Iterator[tuple[str, str, str, str, str]]:
    """(rule, version, template, category expected per field via the table, numbers) of every wording."""
    for rule, spec in DATA["rule"].items():
        for versions, template in spec["wording"].items():
            for version in versions.split():
                yield (
                    rule,
                    version,
                    template,
                    spec.get("category_by_field", ""),
                    ",".join(spec.get("numbers", [])),
                )


def render(template: str, attribute: str, numbers: str) -> str:
    """The message Laravel writes for the template, the attribute and sample values."""
    numeric = {"min", "max", "size", "digits", "decimal", *filter(None, numbers.split(","))}

    def value(found: re.Match[str]) -> str:
        name = found.group(1)
        if name == "attribute":
            return attribute
        return NUMBER_VALUES[name] if name in numeric else TEXT_VALUES[name]

    return re.sub(r":([a-z_]+)", value, template)


INSTANCES = list(_instances())


@pytest.mark.parametrize(("rule", "version", "template", "by_field", "numbers"), INSTANCES)
def test_every_laravel_wording_of_every_version_classifies_to_its_rule_field_and_category(
    rule: str, version: str, template: str, by_field: str, numbers: str
) -> None:
    """A Laravel default message on any inventory field, in any attribute form, with or without text
    around it, is its rule (or one Laravel words the same), its field and its category."""
    spec = DATA["rule"][rule]
    table = DATA["field_categories"].get(by_field, {})
    for field in INVENTORY_FIELDS:
        for form, attribute in FORMS.items():
            for before, after in NOISE.values():
                message = before + render(template, attribute(field), numbers) + after
                got = PACK.classify(message)
                expected = table.get(field, spec["category"])
                assert (got.field, got.category) == (field, expected), (form, message)
                names = {got.rule, *(a for r in PACK.rules if r.name == got.rule for a in r.also)}
                assert f"laravel.{rule}" in names, message
                assert got.confidence == "rule"
                assert "{" not in got.advice and got.advice, message


def test_tenant_header_alias_as_custom_attribute_name() -> None:
    """Laravel's custom attribute names are the tenant's own headers: "Cellar position" is the bin."""
    aliases = alias_table({"bin_name": ("cellar position",)})
    for template in ("The selected :attribute is invalid.", "The :attribute field is required."):
        got = PACK.classify(render(template, "Cellar position", ""), aliases)
        assert got.field == "bin_name"


def test_versions_transcribed_for_each_template() -> None:
    """Each wording says which of Laravel 9, 10, 11 and 12 write it, and every version has its wordings."""
    seen: set[str] = set()
    for spec in DATA["rule"].values():
        for versions in spec["wording"]:
            assert set(versions.split()) <= {"9", "10", "11", "12"}
            seen.update(versions.split())
    assert seen == {"9", "10", "11", "12"}
