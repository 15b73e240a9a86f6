"""Classification: each error message to (category, field, fix, advice) by rules that are data, not if-chains.

Rules are tried in order on a normalised message: the user's `[[rules]]` first, then Claret's own wordings
(`rules/laravel.toml`), then Laravel's default messages of every version (`rules/laravel_messages.toml`),
templates compiled into patterns the first time a message could match them. A message no rule matches goes
to the fallback (`guess`): a guess is marked as one, and what stays unclear is `unclassified`, kept verbatim.
Never prints, never drops a message.
"""

from __future__ import annotations

import functools
import re
import tomllib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from dataclasses import field as dataclass_field
from importlib import resources
from typing import TYPE_CHECKING, Any, Literal

from claret_errors.config import CATEGORIES, FIX_KINDS, Settings
from claret_errors.errors import ConfigError
from claret_errors.fields import alias_table, canonical_field
from claret_errors.reconcile.advice import AdviceBook, builtin_advice
from claret_errors.reconcile.guess import Guesser, builtin_cues

if TYPE_CHECKING:
    import polars as pl

UNCLASSIFIED = "unclassified"
BUILTIN_PACK = "laravel.toml"
LARAVEL_MESSAGES = "laravel_messages.toml"
Confidence = Literal["rule", "guessed", "none"]
CONFIDENCES: tuple[Confidence, ...] = ("rule", "guessed", "none")
# Messages are untrusted: rules see this many characters at most (Laravel messages are far shorter; the
# message itself is kept whole), which bounds the regex work per distinct message.
MAX_MATCH_CHARS = 500
# "There was an error on row 5." / "Row 5:" in front of the message, as Claret may write it.
ROW_PREFIX = r"(?i)^\s*(?:there was an error on row\s*#?\s*\d+\s*[.:,;-]?\s*|row\s*#?\s*\d+\s*[.:;-]\s*)"
_ROW_PREFIX = re.compile(ROW_PREFIX)
_SPACE = re.compile(r"\s+")
# Where one cell may hold several sentences: after a full stop, before a capital letter.
_SENTENCE_BREAK = re.compile(r"(?<=\.)\s+(?=[A-Z])")

# How a template's placeholders become pattern pieces. The attribute is words joined by single spaces or
# dots, as Laravel writes a field ("bin name", "bin_name", "items.3.bin name", "*.item_name"), never a
# clause ("file had errors: the bin"); numbers are numbers; any other value is text up to a sentence end.
_PLACEHOLDER = re.compile(r":([a-z_]+)")
_WORD = r"[\w*#()'\u2019/&-]+"
ATTRIBUTE = rf"{_WORD}(?:[ .]{_WORD})*?"
NUMBER = r"-?\d(?:[\d.,-]*\d)?"
TEXT = r"(?:(?!\. ).)+?"
NUMBER_PLACEHOLDERS = frozenset({"min", "max", "size", "digits", "decimal"})


@dataclass(frozen=True)
class Classification:
    """What a message means: category, field, how to fix it, which rule said so (or why it was guessed),
    and what a person should do about it."""

    category: str
    field: str
    fix: str
    rule: str
    confidence: Confidence = "rule"
    advice: str = ""
    versions: tuple[str, ...] = ()  # the Laravel versions whose default wording matched
    reason: str = ""  # for a guess: what it rests on


@dataclass(frozen=True)
class Rule:
    """One rule; `field` fixed, else the `attr` group of the match mapped to a canonical field.

    A template rule has an `anchor`, text any message it matches contains: the pattern is compiled (once)
    only when a message has it, so a run pays for the handful of wordings its messages use.
    """

    name: str
    pattern: str
    category: str
    fix: str
    field: str = ""
    category_by_field: Mapping[str, str] = dataclass_field(default_factory=dict)
    flags: int = re.IGNORECASE
    anchor: str = ""
    versions: tuple[str, ...] = ()
    also: tuple[str, ...] = ()  # other rules with the very same wording
    advice: str = ""  # a user rule's own advice
    origin: str = "built-in"  # or the config file that holds the user's rule

    @property
    def regex(self) -> re.Pattern[str]:
        """The compiled pattern (compiled on first use, then shared)."""
        return _compiled(self.pattern, self.flags)

    def match(self, message: str, lowered: str) -> re.Match[str] | None:
        """The match on the normalised message (`lowered` is it in lower case), else None."""
        if self.anchor and self.anchor not in lowered:
            return None
        return self.regex.search(message)

    def classification(self, match: re.Match[str], aliases: Mapping[str, str]) -> Classification:
        """What the match says: the category (the field's own where the rule has one), field and fix."""
        name = self.field or _captured_attribute(match)
        canon = canonical_field(name, aliases) if name else ""
        category = self.category_by_field.get(canon, self.category)
        return Classification(category, canon, self.fix, self.name, versions=self.versions)


@functools.cache
def _compiled(pattern: str, flags: int) -> re.Pattern[str]:
    """Each pattern compiled once per process, whichever pack holds it."""
    return re.compile(pattern, flags)


def _captured_attribute(match: re.Match[str]) -> str:
    """The attribute a message names: "payload.3.bin_name" -> "bin_name"; "" when the rule captures none."""
    groups = match.groupdict()
    text = groups.get("attr") or groups.get("field") or ""
    # "The lot name field has already been taken.": the word "field" is Laravel's, not the field's name.
    return text.strip().rsplit(".", 1)[-1].removesuffix(" field")


def _values(match: re.Match[str]) -> dict[str, str]:
    """What the message said for each placeholder but the attribute (for the advice)."""
    return {k: v for k, v in match.groupdict().items() if v is not None and k not in ("attr", "field")}


def normalise_message(message: str) -> str:
    """Row prefix removed, whitespace folded: the text rules match (never the text reports show)."""
    text = _ROW_PREFIX.sub("", message[:MAX_MATCH_CHARS], count=1)
    return _SPACE.sub(" ", text).strip()


def template_pattern(template: str, numbers: Iterable[str] = ()) -> tuple[str, str]:
    """A Laravel template ("The :attribute field must be at least :min.") as (pattern, anchor).

    The pattern finds the sentence anywhere in a message, so text before or after it does not matter; the
    anchor is the template's longest stretch of plain text, in lower case.
    """
    numeric = NUMBER_PLACEHOLDERS | set(numbers)
    body = template.strip().removesuffix(".")
    pieces: list[str] = [r"(?<!\w)"]
    literals: list[str] = []
    seen: set[str] = set()
    position = 0
    for found in _PLACEHOLDER.finditer(body):
        literal = body[position : found.start()]
        literals.append(literal)
        pieces.append(re.escape(literal))
        name = "attr" if found.group(1) == "attribute" else found.group(1)
        if name in seen:
            pieces.append(f"(?P={name})")
        elif name == "attr":
            pieces.append(f"(?P<attr>{ATTRIBUTE})")
        else:
            pieces.append(f"(?P<{name}>{NUMBER if name in numeric else TEXT})")
        seen.add(name)
        position = found.end()
    literals.append(body[position:])
    # A sentence may end without its full stop, or go on with other text; but a template that ends with
    # a text (":values.") ends at a full stop or the message's end, or the text would stop at its first space.
    open_end = position > 0 and not body[position:] and name not in numeric
    end = r"(?:\.(?=\s|$)|$)" if open_end else r"\.?(?=\s|$)"
    pieces.append(re.escape(body[position:]) + end)
    return "".join(pieces), max(literals, key=len).strip().lower()


def _template_key(template: str, numbers: Iterable[str]) -> str:
    """The template with each placeholder replaced by its kind: two rules with one key share a wording."""
    numeric = NUMBER_PLACEHOLDERS | set(numbers)

    def kind(found: re.Match[str]) -> str:
        name = found.group(1)
        return "<attr>" if name == "attribute" else "<n>" if name in numeric else "<text>"

    return _PLACEHOLDER.sub(kind, template.strip().removesuffix(".")).lower()


class RulePack:
    """An ordered list of rules; the first that matches classifies the message, else the fallback guesses."""

    def __init__(
        self,
        rules: Iterable[Rule],
        aliases: Mapping[str, str] | None = None,
        advice: AdviceBook | None = None,
        field_categories: Mapping[str, Mapping[str, str]] | None = None,
    ) -> None:
        self.rules: tuple[Rule, ...] = tuple(rules)
        self.aliases: Mapping[str, str] = aliases if aliases is not None else alias_table()
        self.advice: AdviceBook = advice if advice is not None else builtin_advice()
        self.field_categories = field_categories if field_categories is not None else _builtin()[1]
        self._guessers: dict[tuple[tuple[str, str], ...], Guesser] = {}

    @classmethod
    def builtin(cls) -> RulePack:
        """The shipped pack: Claret's own wordings, then Laravel's default messages of every version."""
        return cls(_builtin()[0])

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
                advice=spec.advice,
                origin=where or "config",
            )
            for spec in settings.rules
        ]
        return cls([*user, *cls.builtin().rules], alias_table(settings.aliases))

    def classify(
        self, message: str, aliases: Mapping[str, str] | None = None, columns: Mapping[str, str] | None = None
    ) -> Classification:
        """Classify one raw message (prefix and spacing are normalised here)."""
        return self.classify_normalised(normalise_message(message), aliases, columns)

    def classify_normalised(
        self, text: str, aliases: Mapping[str, str] | None = None, columns: Mapping[str, str] | None = None
    ) -> Classification:
        """Classify a message already passed through `normalise_message`; `columns` are the job's own
        headers (header -> field) the fallback may find in it, besides the aliases."""
        table = self.aliases if aliases is None else aliases
        found = self.find(text)
        if found is None:
            return self._guess(text, table, columns or {})
        rule, match = found
        got = rule.classification(match, table)
        advice = self.advice.advice(got.category, got.field, got.rule, _values(match), rule.advice)
        return Classification(got.category, got.field, got.fix, got.rule, "rule", advice, got.versions)

    def find(self, text: str) -> tuple[Rule, re.Match[str]] | None:
        """The first rule that matches the normalised message, and its match."""
        lowered = text.lower()
        for rule in self.rules:
            match = rule.match(text, lowered)
            if match is not None:
                return rule, match
        return None

    def _guess(self, text: str, aliases: Mapping[str, str], columns: Mapping[str, str]) -> Classification:
        guess = self.guesser(aliases, columns).guess(text) if text else None
        if guess is None or not (guess.category or guess.field):
            return Classification(UNCLASSIFIED, "", "manual", "", "none", self.advice.advice(UNCLASSIFIED))
        category = guess.category or UNCLASSIFIED
        advice = self.advice.advice(category, guess.field)
        return Classification(category, guess.field, "manual", "", "guessed", advice, reason=guess.reason)

    def guesser(self, aliases: Mapping[str, str], columns: Mapping[str, str]) -> Guesser:
        """The fallback for these known columns (built once per set of columns)."""
        key = tuple(sorted({**aliases, **columns}.items()))
        if key not in self._guessers:
            tables = tuple((n, tuple(sorted(t.items()))) for n, t in sorted(self.field_categories.items()))
            names = {**{n.replace("_", " "): f for n, f in aliases.items()}, **aliases, **columns}
            self._guessers[key] = Guesser(builtin_cues(tables), names)
        return self._guessers[key]


@functools.cache
def _builtin() -> tuple[tuple[Rule, ...], dict[str, dict[str, str]]]:
    """The built-in rules and the named field tables, read once per process (every job of a run shares
    them); the Laravel templates are compiled when first needed."""
    folder = resources.files("claret_errors.reconcile.rules")
    own = tomllib.loads(folder.joinpath(BUILTIN_PACK).read_text(encoding="utf-8"))
    laravel = tomllib.loads(folder.joinpath(LARAVEL_MESSAGES).read_text(encoding="utf-8"))
    where = f"claret_errors/reconcile/rules/{LARAVEL_MESSAGES}"
    tables = laravel.get("field_categories", {})
    templates = _parse_templates(laravel, tables, where)
    return (*_parse_pack(own, f"claret_errors/reconcile/rules/{BUILTIN_PACK}"), *templates), tables


def _parse_templates(
    data: Mapping[str, Any], tables: Mapping[str, Mapping[str, str]], where: str
) -> list[Rule]:
    """One rule per distinct wording of `[rule.<laravel rule>]`, the most specific first (the longest
    plain text: "greater than or equal to :value" before "greater than :value")."""
    rules: list[Rule] = []
    plain: list[int] = []  # each rule's length of plain text
    index: dict[str, int] = {}
    for rule_name, spec in data.get("rule", {}).items():
        key = f"rule.{rule_name}"
        wording = spec.get("wording") if isinstance(spec, dict) else None
        if not isinstance(wording, dict) or not wording:
            raise ConfigError('needs wording."<versions>" = template', file=where, key=key)
        by_field = spec.get("category_by_field")
        if by_field is not None and by_field not in tables:
            raise ConfigError(f"unknown field table {by_field!r}", file=where, key=key)
        # Checked once per Laravel rule; its templates are compiled when a message first needs them.
        base = _compile(
            name=f"laravel.{rule_name}",
            pattern="",
            category=str(spec.get("category", "")),
            fix=str(spec.get("fix", "manual")),
            field="",
            flags=re.IGNORECASE,
            where=where,
            key=key,
            category_by_field=tables[by_field] if by_field else None,
            lazy=True,
        )
        numbers = tuple(spec.get("numbers", ()))
        also = tuple(f"laravel.{a}" for a in spec.get("also", ()))
        for versions, template in wording.items():
            if not isinstance(template, str) or ":attribute" not in template:
                raise ConfigError("a template must name :attribute", file=where, key=f"{key}.{versions}")
            same = _template_key(template, numbers)
            if same in index:
                first = rules[index[same]]
                rules[index[same]] = replace(first, also=(*first.also, base.name))
                continue
            pattern, anchor = template_pattern(template, numbers)
            index[same] = len(rules)
            rules.append(
                replace(base, pattern=pattern, anchor=anchor, versions=tuple(versions.split()), also=also)
            )
            plain.append(len(_PLACEHOLDER.sub("", template)))
    order = sorted(range(len(rules)), key=lambda i: -plain[i])  # stable: file order among equals
    return [rules[i] for i in order]


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
            # Only a rule's match counts: a guess must not cut one unknown message into two.
            known[text] = pack.classify_normalised(text, aliases).confidence == "rule"
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
    advice: str = "",
    lazy: bool = False,
    origin: str = "built-in",
) -> Rule:
    """Check a rule's values and (unless `lazy`: built-in templates) compile its pattern; a bad rule names
    the file and key."""
    if category not in CATEGORIES:
        raise ConfigError(f"category must be one of {', '.join(CATEGORIES)}", file=where, key=key)
    if fix not in FIX_KINDS:
        raise ConfigError(f"fix must be one of {', '.join(FIX_KINDS)}", file=where, key=key)
    for value in (category_by_field or {}).values():
        if value not in CATEGORIES:
            raise ConfigError(
                f"category_by_field values must be categories, got {value!r}", file=where, key=key
            )
    if not lazy:
        try:
            _compiled(pattern, flags)
        except re.error as exc:
            raise ConfigError(f"not a valid regex: {exc}", file=where, key=key) from None
    return Rule(
        name=name,
        pattern=pattern,
        category=category,
        fix=fix,
        field=field,
        category_by_field=dict(category_by_field or {}),
        flags=flags,
        advice=advice,
        origin=origin,
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


MESSAGE_COLUMNS = ("category", "field", "fix", "rule", "confidence", "advice")


def classify_messages(
    messages: pl.Series,
    pack: RulePack,
    aliases: Mapping[str, str],
    columns: Mapping[str, str] | None = None,
) -> pl.DataFrame:
    """One row per message, in order: `message` (verbatim), then `MESSAGE_COLUMNS`.

    Only distinct messages are normalised (vectorised) and the rules run once per distinct normalised
    wording; joins spread the answers back, so a million messages in a few wordings cost a few regex passes.
    `columns` are the job's own headers (header -> field), for the fallback.
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
    found = [pack.classify_normalised(t, aliases, columns) for t in wordings]
    table = pl.DataFrame(
        {"_norm": wordings, **{name: [getattr(c, name) for c in found] for name in MESSAGE_COLUMNS}},
        schema=dict.fromkeys(("_norm", *MESSAGE_COLUMNS), pl.String),
    )
    by_message = pl.DataFrame([distinct, norm]).join(table, on="_norm", how="left").drop("_norm")
    return text.to_frame().join(by_message, on="message", how="left", maintain_order="left")
