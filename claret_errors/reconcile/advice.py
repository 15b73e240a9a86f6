"""Plain-language advice: what a person does about a message, read from `rules/advice.toml` (data).

Looked up by the user's own rule, the built-in rule, the category on its field, then the category alone;
the placeholders are filled from what Claret's message said. Pure lookups: never prints, never reads the
config (the rule pack hands over a user rule's own advice).
"""

from __future__ import annotations

import functools
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

from claret_errors.errors import ConfigError

ADVICE_FILE = "advice.toml"
# Said wherever a person reads advice that rests on a message read only by its cue words, not a known wording.
GUESSED = "our best guess from the wording"


class _Keep(dict[str, str]):
    """Placeholders the message did not fill stay as written, so a user's typo shows instead of failing."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


@dataclass(frozen=True)
class AdviceBook:
    """The advice sentences: by rule id, by category and field, by category; and the fields' labels."""

    labels: Mapping[str, str]
    by_category: Mapping[str, str]
    by_field: Mapping[str, Mapping[str, str]]
    by_rule: Mapping[str, str]

    def label(self, field: str) -> str:
        """How a person calls the field: "bin", "fill date"; else its name with spaces; "value" if none."""
        return self.labels.get(field) or field.replace("_", " ") or "value"

    def template(self, category: str, field: str = "", rule: str = "", own: str = "") -> str:
        """The advice sentence before its placeholders are filled."""
        return (
            own
            or self.by_rule.get(rule)
            or self.by_field.get(category, {}).get(field)
            or self.by_category.get(category)
            or self.by_category.get("unclassified", "")
        )

    def advice(
        self,
        category: str,
        field: str = "",
        rule: str = "",
        values: Mapping[str, str] | None = None,
        own: str = "",
    ) -> str:
        """The advice for a classified message, its placeholders filled from the message's `values`."""
        text = self.template(category, field, rule, own)
        filled = _Keep({k: v.strip() for k, v in (values or {}).items() if v is not None})
        filled["field"] = self.label(field)
        try:
            return text.format_map(filled)
        except (ValueError, IndexError, AttributeError):
            return text  # a stray brace in a user's sentence: shown as written


@functools.cache
def builtin_advice() -> AdviceBook:
    """The shipped advice, read once per process."""
    source = resources.files("claret_errors.reconcile.rules").joinpath(ADVICE_FILE)
    return parse_advice(tomllib.loads(source.read_text(encoding="utf-8")), f"reconcile/rules/{ADVICE_FILE}")


def parse_advice(data: Mapping[str, Any], where: str) -> AdviceBook:
    """Check the tables of an advice file: each a table of text."""

    def texts(value: Any, key: str) -> dict[str, str]:
        if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
            raise ConfigError("must be a table of sentences", file=where, key=key)
        return dict(value)

    fields = data.get("field", {})
    if not isinstance(fields, dict):
        raise ConfigError("must be a table of tables", file=where, key="field")
    return AdviceBook(
        labels=texts(data.get("labels", {}), "labels"),
        by_category=texts(data.get("category", {}), "category"),
        by_field={category: texts(table, f"field.{category}") for category, table in fields.items()},
        by_rule=texts(data.get("rule", {}), "rule"),
    )


def advice_for(
    category: str, field: str = "", rule: str = "", values: Mapping[str, str] | None = None
) -> str:
    """The built-in advice for a category on a field (and a rule, when known)."""
    return builtin_advice().advice(category, field, rule, values)
