"""The fallback for wordings no rule knows: a field from the one known column a message names, a category
from cue words (`rules/fallback.toml`, data).

A guess is shown as a guess (confidence `guessed`) and is never the ground for an automatic fix. Pure text
work; never prints.
"""

from __future__ import annotations

import functools
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

from claret_errors.config import CATEGORIES
from claret_errors.errors import ConfigError

FALLBACK_FILE = "fallback.toml"


@dataclass(frozen=True)
class Cue:
    """Phrases that suggest a category; `by_field` gives the category a field's value means instead."""

    category: str
    phrases: tuple[str, ...]
    by_field: Mapping[str, str]
    regex: re.Pattern[str]
    needs_field: bool = False


@dataclass(frozen=True)
class Guess:
    """What the fallback made of a message: category ("" when no cue), field ("" when not one), why."""

    category: str
    field: str
    reason: str


def _words(names: Iterable[str]) -> str:
    """Whole-word alternation of the names, longest first (so "bin name" wins over "bin"), where a space
    and an underscore are the same."""
    ordered = sorted({n for n in names if n}, key=lambda n: (-len(n), n))
    return "|".join(re.escape(n).replace("_", "[ _]").replace(r"\ ", "[ _]") for n in ordered)


@functools.cache
def builtin_cues(field_categories: tuple[tuple[str, tuple[tuple[str, str], ...]], ...]) -> tuple[Cue, ...]:
    """The shipped cues, read and compiled once; `field_categories` are the pack's named field tables."""
    source = resources.files("claret_errors.reconcile.rules").joinpath(FALLBACK_FILE)
    data = tomllib.loads(source.read_text(encoding="utf-8"))
    return parse_cues(data, {name: dict(table) for name, table in field_categories}, FALLBACK_FILE)


def parse_cues(
    data: Mapping[str, Any], tables: Mapping[str, Mapping[str, str]], where: str
) -> tuple[Cue, ...]:
    """Check and compile the `[[cue]]` entries in order."""
    cues: list[Cue] = []
    for i, raw in enumerate(data.get("cue", [])):
        key = f"cue[{i}]"
        phrases = raw.get("phrases") if isinstance(raw, dict) else None
        if not isinstance(phrases, list) or not all(isinstance(p, str) and p for p in phrases):
            raise ConfigError("needs a list of phrases", file=where, key=key)
        category = raw.get("category")
        if category not in CATEGORIES or category == "unclassified":
            raise ConfigError("category must be a taxonomy category", file=where, key=key)
        by_field_name = raw.get("by_field")
        if by_field_name is not None and by_field_name not in tables:
            raise ConfigError(f"unknown field table {by_field_name!r}", file=where, key=key)
        regex = re.compile(rf"(?<!\w)(?:{_words(p.lower() for p in phrases)})(?!\w)")
        by_field = tables[by_field_name] if by_field_name else {}
        cues.append(Cue(str(category), tuple(phrases), dict(by_field), regex, bool(raw.get("needs_field"))))
    return tuple(cues)


class Guesser:
    """Guesses for one set of known columns: names (headers, aliases, fields) -> canonical field."""

    def __init__(self, cues: tuple[Cue, ...], columns: Mapping[str, str]) -> None:
        self.cues = cues
        self.columns = {name.lower(): field for name, field in columns.items() if name}
        words = _words(self.columns)
        self._names = re.compile(rf"(?<!\w)(?:{words})(?!\w)") if words else None

    def field(self, text: str) -> tuple[str, str]:
        """The one known field the message names, and the name it used; ("", "") for none or several."""
        if self._names is None:
            return "", ""
        found: dict[str, str] = {}
        for match in self._names.finditer(text.lower()):
            name = match.group(0)
            field = self.columns.get(name) or self.columns.get(name.replace(" ", "_"), "")
            found.setdefault(field, name)
        if len(found) != 1:
            return "", ""
        ((field, name),) = found.items()
        return field, name

    def guess(self, text: str) -> Guess:
        """The category of the first cue the message has, and the field it names; why, in words."""
        field, name = self.field(text)
        lowered = text.lower()
        reasons = [f'names the column "{name}"'] if field else []
        for cue in self.cues:
            if cue.needs_field and not field:
                continue
            match = cue.regex.search(lowered)
            if match is not None:
                category = cue.by_field.get(field, cue.category)
                reasons.append(f'says "{match.group(0)}"')
                return Guess(category, field, "; ".join(reasons))
        return Guess("", field, "; ".join(reasons))
