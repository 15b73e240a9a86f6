"""Scenarios: what the docs leave open (a tenant's output variant) and which faults to inject, from TOML.

Parses and checks `fixtures/scenarios/*.toml` into frozen values; decides nothing at request time (see
`faults.py`) and never touches HTTP.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Literal

from claret_errors.errors import ConfigError
from claret_errors.resources import fixtures_dir
from claret_errors.simulator.messages import ATTRIBUTE_STYLES, WORDINGS, AttributeStyle, Wording

SCENARIO_DIR = fixtures_dir() / "scenarios"
Layout = Literal["joined", "json", "rows", "columns"]
LAYOUTS: tuple[Layout, ...] = ("joined", "json", "rows", "columns")
ENDPOINTS = ("token", "status", "download", "upload", "any")
# echo_token: the answer repeats the caller's token (status: in its description; download: in each row).
# control_chars: a status answer's words carry terminal escapes, BEL, NUL and a C1 CSI.
# gzip: the answer is gzipped whatever the client asked, padded with `size` bytes of blanks (a bomb).
# trickle: the body is sent a byte at a time, one every `delay` seconds.
# deep_json: the status answer carries a list nested `size` levels deep.
FAULT_KINDS = (
    "http_error",
    "rate_limit",
    "latency",
    "drop",
    "short_body",
    "malformed_json",
    "echo_token",
    "control_chars",
    "gzip",
    "trickle",
    "deep_json",
)


@dataclass(frozen=True)
class Variant:
    """How one tenant writes what Claret's docs do not pin down: wording, row references, columns, layout."""

    wording: Wording = "laravel10"
    attribute_style: AttributeStyle = "spaces"
    row_prefix: bool = False  # "There was an error on row N. " before each message
    row_base: int = 1  # the row reference of the first data row: 0, 1 or 2 (2 = file line with header)
    row_column: str = "row"
    message_column: str = "error"
    layout: Layout = "joined"  # several messages: one cell joined, a JSON list, one row each, one column each
    separator: str = "; "
    files_per_category: int = 1  # >1 splits staging, output and errors into _1, _2... files
    absent_categories: Literal["omit", "empty"] = "omit"  # files not yet available: key left out or []
    bom: bool = False  # staging, output and errors files start with a UTF-8 byte order mark (Excel-style)

    def check(self, where: str) -> Variant:
        """Raise ConfigError naming the key if a value is outside what the simulator can write."""
        problems = {
            "wording": self.wording in WORDINGS,
            "attribute_style": self.attribute_style in ATTRIBUTE_STYLES,
            "row_base": self.row_base in (0, 1, 2),
            "layout": self.layout in LAYOUTS,
            "files_per_category": 1 <= self.files_per_category <= 20,
            "absent_categories": self.absent_categories in ("omit", "empty"),
            "row_column": bool(self.row_column) and bool(self.message_column),
        }
        for key, ok in problems.items():
            if not ok:
                raise ConfigError(f"unsupported value {getattr(self, key)!r}", file=where, key=key)
        return self


@dataclass(frozen=True)
class FaultRule:
    """One line of a fault schedule: which requests it hits and what it does to them.

    A request matches when its endpoint (and `match`, a substring of its path) fits; the n-th matching
    request of a key (job id or file path) is hit when n <= `first`, or n is in `on`, or a draw seeded by
    (seed, rule, key, n) falls under `probability`. `times` caps hits per key (0 = no cap).
    """

    endpoint: str
    kind: str
    status: int = 503
    first: int = 0
    on: tuple[int, ...] = ()
    probability: float = 0.0
    times: int = 0
    retry_after: int | None = None
    delay: float = 0.0
    match: str = ""
    size: int = 0  # gzip: bytes of padding; deep_json: levels


@dataclass(frozen=True)
class Lifecycle:
    """Job behaviours by job ordinal (1 = first job created by this simulator)."""

    poll_phases: bool = False  # each status poll advances at most one phase, even at speed 0
    never_finish_jobs: tuple[int, ...] = ()
    fail_jobs: tuple[int, ...] = ()
    fail_all: bool = False
    backwards_polls: tuple[int, ...] = ()  # these status polls (1-based, per job) report an earlier phase


@dataclass(frozen=True)
class Quirks:
    """Reporting slips by input row (1-based): the files say something other than what happened.

    Ground truth keeps what happened (these rows landed); reconcile must flag the files as anomalies.
    """

    missing_from_output: tuple[int, ...] = ()  # landed, yet in neither output nor errors: unaccounted
    also_in_errors: tuple[int, ...] = ()  # landed, and listed in the errors file too
    repeated_in_output: tuple[int, ...] = ()  # landed, and listed twice in the output file


@dataclass(frozen=True)
class Scenario:
    """A named bundle of tenant variants, job behaviours and a fault schedule."""

    name: str = "default"
    description: str = ""
    variant: Variant = field(default_factory=Variant)
    variants: dict[str, Variant] = field(default_factory=dict)  # per-tenant overrides
    lifecycle: Lifecycle = field(default_factory=Lifecycle)
    faults: tuple[FaultRule, ...] = ()
    quirks: Quirks = field(default_factory=Quirks)
    # How long a token lives after it is minted, in requests the simulator lets in (with any live token): a
    # deterministic stand-in for Sanctum's `expiration` minutes, so a long run meets an expiry while a fresh
    # token lasts as long. Then 401, or the login redirect without X-Requested-With. 0 = never expire.
    token_lifetime: int = 0

    def variant_for(self, tenant: str) -> Variant:
        """The tenant's own variant if the scenario names one, else the scenario's."""
        return self.variants.get(tenant, self.variant)


def _build(cls: Any, data: dict[str, Any], where: str, base: Any = None) -> Any:
    """A dataclass from a TOML table, refusing unknown keys; lists become tuples."""
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ConfigError(f"unknown key(s) {', '.join(unknown)}", file=where)
    values = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items()}
    try:
        return replace(base, **values) if base is not None else cls(**values)
    except TypeError as exc:
        raise ConfigError(str(exc), file=where) from exc


def parse_scenario(data: dict[str, Any], where: str, name: str) -> Scenario:
    """A Scenario from parsed TOML, checked: ConfigError names the file and key of any bad value."""
    tables = ("variant", "variants", "lifecycle", "faults", "quirks")
    top = {k: v for k, v in data.items() if k not in tables}
    unknown = sorted(set(top) - {"name", "description", "token_lifetime"})
    if unknown:
        raise ConfigError(f"unknown key(s) {', '.join(unknown)}", file=where)
    token_lifetime = top.get("token_lifetime", 0)
    if not isinstance(token_lifetime, int) or isinstance(token_lifetime, bool) or token_lifetime < 0:
        raise ConfigError("must be a whole number >= 0", file=where, key="token_lifetime")
    variant = _build(Variant, data.get("variant", {}), where).check(where)
    variants = {
        tenant: _build(Variant, table, where, base=variant).check(where)
        for tenant, table in data.get("variants", {}).items()
    }
    faults = tuple(_build(FaultRule, rule, where) for rule in data.get("faults", []))
    for rule in faults:
        if rule.endpoint not in ENDPOINTS:
            raise ConfigError(f"endpoint must be one of {ENDPOINTS}", file=where, key="faults.endpoint")
        if rule.kind not in FAULT_KINDS:
            raise ConfigError(f"kind must be one of {FAULT_KINDS}", file=where, key="faults.kind")
    return Scenario(
        name=str(top.get("name", name)),
        description=str(top.get("description", "")),
        variant=variant,
        variants=variants,
        lifecycle=_build(Lifecycle, data.get("lifecycle", {}), where),
        faults=faults,
        quirks=_build(Quirks, data.get("quirks", {}), where),
        token_lifetime=token_lifetime,
    )


def scenario_names() -> list[str]:
    """The built-in scenarios, by file stem."""
    return sorted(p.stem for p in SCENARIO_DIR.glob("*.toml"))


def load_scenario(scenario: str | Path | Scenario) -> Scenario:
    """A Scenario as given, from a TOML file path, or by built-in name (`fixtures/scenarios/NAME.toml`)."""
    if isinstance(scenario, Scenario):
        return scenario
    path = Path(scenario)
    if path.suffix != ".toml":
        path = SCENARIO_DIR / f"{scenario}.toml"
        if str(scenario) not in scenario_names():
            raise ConfigError(f"no scenario named {str(scenario)!r}; built-in: {', '.join(scenario_names())}")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read scenario: {exc.strerror}", file=str(path)) from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"not valid TOML: {exc}", file=str(path)) from exc
    return parse_scenario(data, str(path), path.stem)
