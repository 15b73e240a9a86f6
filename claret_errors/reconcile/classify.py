"""Classification: each error message to (category, field, fix) by rules that are data, not if-chains.

Rules are regexes compiled once and tried in order on a normalised message; user rules come first. A message
no rule matches is `unclassified` and kept verbatim. Never prints, never drops a message.
"""

from __future__ import annotations

import functools
import re
import tomllib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from importlib import resources
from typing import TYPE_CHECKING, Any

from claret_errors.config import CATEGORIES, FIX_KINDS, Settings
from claret_errors.errors import ConfigError
from claret_errors.fields import alias_table, canonical_field

if TYPE_CHECKING:
    import polars as pl

UNCLASSIFIED = "unclassified"
BUILTIN_PACK = "laravel.toml"
# Messages are untrusted: rules see this many characters at most (Laravel messages are far shorter; the
# message itself is kept whole), which bounds the regex work per distinct message.
MAX_MATCH_CHARS = 500
# "There was an error on row 5." / "Row 5:" in front of the message, as Claret may write it.
ROW_PREFIX = r"(?i)^\s*(?:there was an error on row\s*#?\s*\d+\s*[.:,;-]?\s*|row\s*#?\s*\d+\s*[.:;-]\s*)"
_ROW_PREFIX = re.compile(ROW_PREFIX)
_SPACE = re.compile(r"\s+")
# Where one cell may hold several sentences: after a full stop, before a capital letter.
_SENTENCE_BREAK = re.compile(r"(?<=\.)\s+(?=[A-Z])")


@dataclass(frozen=True)
class Classification:
    """What a message means: its category, the field it is about, how to fix it, which rule said so."""

    category: str
    field: str
    fix: str
    rule: str


@dataclass(frozen=True)
class Rule:
    """One compiled rule; `field` fixed, else the `attr` group of the match mapped to a canonical field."""

    name: str
    regex: re.Pattern[str]
    category: str
    fix: str
    field: str = ""
    category_by_field: Mapping[str, str] = dataclass_field(default_factory=dict)

    def apply(self, message: str, aliases: Mapping[str, str]) -> Classification | None:
        """The classification if this rule matches the normalised message, else None."""
        match = self.regex.search(message)
        if match is None:
            return None
        name = self.field or _captured_attribute(match)
        canon = canonical_field(name, aliases) if name else ""
        category = self.category_by_field.get(canon, self.category)
        return Classification(category=category, field=canon, fix=self.fix, rule=self.name)


def _captured_attribute(match: re.Match[str]) -> str:
    """The attribute a message names: "payload.3.bin_name" -> "bin_name"; "" when the rule captures none."""
    groups = match.groupdict()
    text = groups.get("attr") or groups.get("field") or ""
    return text.strip().rsplit(".", 1)[-1]


def normalise_message(message: str) -> str:
    """Row prefix removed, whitespace folded: the text rules match (never the text reports show)."""
    text = _ROW_PREFIX.sub("", message[:MAX_MATCH_CHARS], count=1)
    return _SPACE.sub(" ", text).strip()


class RulePack:
    """An ordered list of rules; the first that matches classifies the message."""

    def __init__(self, rules: Iterable[Rule], aliases: Mapping[str, str] | None = None) -> None:
        self.rules: tuple[Rule, ...] = tuple(rules)
        self.aliases: Mapping[str, str] = aliases if aliases is not None else alias_table()

    @classmethod
    def builtin(cls) -> RulePack:
        """The shipped pack for Claret's Laravel-style messages (reconcile/rules/laravel.toml)."""
        return cls(_builtin_rules())

    @classmethod
    def from_settings(cls, settings: Settings) -> RulePack:
        """The user's `[[rules]]` first (they override), then the built-in pack; aliases from config."""
        where = str(settings.config_file) if settings.config_file else None
        user = [
            _compile(
                name=spec.name,
                pattern=spec.pattern,
                category=spec.category,
                fix=spec.fix,
                field=spec.field,
                flags=0,
                where=where,
                key=f"rules.{spec.name}",
            )
            for spec in settings.rules
        ]
        return cls([*user, *cls.builtin().rules], alias_table(settings.aliases))

    def classify(self, message: str, aliases: Mapping[str, str] | None = None) -> Classification:
        """Classify one raw message (prefix and spacing are normalised here)."""
        return self.classify_normalised(normalise_message(message), aliases)

    def classify_normalised(self, text: str, aliases: Mapping[str, str] | None = None) -> Classification:
        """Classify a message already passed through `normalise_message`."""
        table = self.aliases if aliases is None else aliases
        for rule in self.rules:
            found = rule.apply(text, table)
            if found is not None:
                return found
        return Classification(category=UNCLASSIFIED, field="", fix="manual", rule="")


@functools.cache
def _builtin_rules() -> tuple[Rule, ...]:
    """The built-in pack, read and compiled once per process (every job of a run shares it)."""
    source = resources.files("claret_errors.reconcile.rules").joinpath(BUILTIN_PACK)
    data = tomllib.loads(source.read_text(encoding="utf-8"))
    return tuple(_parse_pack(data, f"claret_errors/reconcile/rules/{BUILTIN_PACK}"))


def split_sentences(message: str, pack: RulePack, aliases: Mapping[str, str]) -> tuple[str, ...]:
    """Several messages written in one cell without a separator, as pieces; else the message alone.

    Cut after a full stop before a capital letter (a bare row prefix stays with what follows), and only
    when every piece is classified, so an unknown message that merely has two sentences is never cut.
    """
    return split_cells([message], pack, aliases)[0]


def split_cells(messages: Iterable[str], pack: RulePack, aliases: Mapping[str, str]) -> list[tuple[str, ...]]:
    """`split_sentences` of many cells; each distinct piece wording is classified once, not once per cell
    (cells that differ only by their row prefixes would otherwise run the rules again and again)."""
    known: dict[str, bool] = {}

    def classified(piece: str) -> bool:
        text = normalise_message(piece)
        if text not in known:
            known[text] = pack.classify_normalised(text, aliases).category != UNCLASSIFIED
        return known[text]

    return [_split(message, classified) for message in messages]


def _split(message: str, classified: Callable[[str], bool]) -> tuple[str, ...]:
    if len(message) > MAX_MATCH_CHARS:
        return (message,)
    pieces: list[str] = []
    for part in _SENTENCE_BREAK.split(message.strip()):
        if pieces and not _ROW_PREFIX.sub("", pieces[-1], count=1).strip():
            pieces[-1] = f"{pieces[-1]} {part}"
        else:
            pieces.append(part)
    if len(pieces) < 2 or not all(classified(p) for p in pieces):
        return (message,)
    return tuple(pieces)


def _compile(
    *,
    name: str,
    pattern: str,
    category: str,
    fix: str,
    field: str,
    flags: int,
    where: str | None,
    key: str,
    category_by_field: Mapping[str, str] | None = None,
) -> Rule:
    """Check a rule's values and compile its pattern once; a bad rule names the file and key."""
    if category not in CATEGORIES:
        raise ConfigError(f"category must be one of {', '.join(CATEGORIES)}", file=where, key=key)
    if fix not in FIX_KINDS:
        raise ConfigError(f"fix must be one of {', '.join(FIX_KINDS)}", file=where, key=key)
    for value in (category_by_field or {}).values():
        if value not in CATEGORIES:
            raise ConfigError(
                f"category_by_field values must be categories, got {value!r}", file=where, key=key
            )
    try:
        regex = re.compile(pattern, flags)
    except re.error as exc:
        raise ConfigError(f"not a valid regex: {exc}", file=where, key=key) from None
    return Rule(
        name=name,
        regex=regex,
        category=category,
        fix=fix,
        field=field,
        category_by_field=dict(category_by_field or {}),
    )


def _parse_pack(data: Mapping[str, Any], where: str) -> list[Rule]:
    """The `[[rule]]` tables of a pack file, compiled case-insensitively in file order."""
    rules: list[Rule] = []
    for i, raw in enumerate(data.get("rule", [])):
        key = f"rule[{i}]"
        if not isinstance(raw, dict) or not all(isinstance(raw.get(k), str) for k in ("name", "pattern")):
            raise ConfigError("a rule needs a name and a pattern", file=where, key=key)
        rules.append(
            _compile(
                name=raw["name"],
                pattern=raw["pattern"],
                category=str(raw.get("category", "")),
                fix=str(raw.get("fix", "manual")),
                field=str(raw.get("field", "")),
                flags=re.IGNORECASE,
                where=where,
                key=f"{key} ({raw['name']})",
                category_by_field=raw.get("category_by_field", {}),
            )
        )
    return rules


def classify_messages(messages: pl.Series, pack: RulePack, aliases: Mapping[str, str]) -> pl.DataFrame:
    """One row per message, in order: `message` (verbatim), `category`, `field`, `fix`, `rule`.

    Only distinct messages are normalised (vectorised) and the rules run once per distinct normalised
    wording; joins spread the answers back, so a million messages in a few wordings cost a few regex passes.
    """
    import polars as pl

    text = messages.cast(pl.String).fill_null("").rename("message")
    distinct = text.unique()
    norm = (
        distinct.str.slice(0, MAX_MATCH_CHARS)
        .str.replace(ROW_PREFIX, "")
        .str.replace_all(r"\s+", " ")
        .str.strip_chars()
        .rename("_norm")
    )
    wordings = norm.unique().to_list()
    found = [pack.classify_normalised(t, aliases) for t in wordings]
    table = pl.DataFrame(
        {
            "_norm": wordings,
            "category": [c.category for c in found],
            "field": [c.field for c in found],
            "fix": [c.fix for c in found],
            "rule": [c.rule for c in found],
        },
        schema=dict.fromkeys(("_norm", "category", "field", "fix", "rule"), pl.String),
    )
    by_message = pl.DataFrame([distinct, norm]).join(table, on="_norm", how="left").drop("_norm")
    return text.to_frame().join(by_message, on="message", how="left", maintain_order="left")
