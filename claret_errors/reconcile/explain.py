"""`explain`: how one message is classified, in full: the rule (or the guess, and what it rests on), the
field, the category, the advice, and a `[[rules]]` entry a tenant can paste for its own wording.

The library half of `claret-errors explain`; never prints.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from typing import Any

from claret_errors.config import CATEGORIES, Settings
from claret_errors.fields import alias_table
from claret_errors.reconcile.classify import UNCLASSIFIED, RulePack, normalise_message

# Parts of a message that change from row to row: quoted values and words holding a digit ("SS-99", "5").
_VARIABLE = re.compile(r"'[^']*'|\"[^\"]*\"|\S*\d\S*")
_NO_REASON = "no rule matches, and the message names no known column and has no cue word"


@dataclass(frozen=True)
class Explanation:
    """Everything `explain` knows about one message."""

    message: str
    text: str  # what the rules saw: row prefix removed, spacing folded
    category: str
    field: str
    fix: str
    confidence: str
    advice: str
    rule: str
    origin: str  # "built-in", or the config file of the user's rule; "" without a rule
    versions: tuple[str, ...]  # the Laravel versions whose default wording this is
    also: tuple[str, ...]  # other Laravel rules worded the same
    reason: str  # why it was guessed, or why nothing was
    toml: str  # a [[rules]] entry for this wording

    def as_json(self) -> dict[str, Any]:
        return {**asdict(self), "versions": list(self.versions), "also": list(self.also)}


def explain(message: str, settings: Settings, pack: RulePack | None = None) -> Explanation:
    """Classify `message` with the user's rules and the built-in pack, and say how."""
    pack = pack if pack is not None else RulePack.from_settings(settings)
    aliases = alias_table(settings.aliases)
    text = normalise_message(message)
    got = pack.classify_normalised(text, aliases)
    found = pack.find(text)
    rule = found[0] if found is not None else None
    reason = got.reason or ("" if rule is not None else _NO_REASON)
    return Explanation(
        message=message,
        text=text,
        category=got.category,
        field=got.field,
        fix=got.fix,
        confidence=got.confidence,
        advice=got.advice,
        rule=got.rule,
        origin=rule.origin if rule is not None else "",
        versions=got.versions,
        also=rule.also if rule is not None else (),
        reason=reason,
        toml=suggested_rule(text, got.category, got.field, got.advice),
    )


def suggested_pattern(text: str) -> str:
    """A regex for this wording: the words as they are, values that vary (quoted, or holding a digit) as
    anything, case-insensitive, the final full stop optional."""
    body = text.strip().removesuffix(".")
    pieces: list[str] = []
    position = 0
    for found in _VARIABLE.finditer(body):
        pieces.append(_escape(body[position : found.start()]))
        pieces.append(".+?")
        position = found.end()
    pieces.append(_escape(body[position:]))
    return "(?i)^" + "".join(pieces) + r"\.?$"


def suggested_rule(text: str, category: str, field: str, advice: str) -> str:
    """A `[[rules]]` entry for claret-errors.toml that reads this wording as it was classified."""
    name = f"own-{category}-{field or 'record'}".replace("_", "-")
    lines = ["[[rules]]", f"name = {_toml(name)}", f"pattern = {_toml(suggested_pattern(text))}"]
    if category == UNCLASSIFIED:
        lines.append("# choose the category: " + ", ".join(c for c in CATEGORIES if c != UNCLASSIFIED))
    lines.append(f"category = {_toml(category)}")
    if field:
        lines.append(f"field = {_toml(field)}")
    lines.append(f"fix = {_toml('manual')}")
    if advice:
        lines.append(f"advice = {_toml(advice)}")
    return "\n".join(lines) + "\n"


def _escape(text: str) -> str:
    """`re.escape`, with spaces left readable (they match themselves outside verbose mode)."""
    return re.escape(text).replace("\\ ", " ")


def _toml(text: str) -> str:
    """A TOML string: literal ('...') when it can be, so a pattern's backslashes stay as typed."""
    if "'" not in text and text.isprintable():
        return f"'{text}'"
    # A JSON string of printable ASCII is a valid TOML basic string.
    return json.dumps(text, ensure_ascii=True)
