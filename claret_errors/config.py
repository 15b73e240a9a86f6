"""Effective settings: flags > environment > `claret-errors.toml` > defaults, each with its source.

Parses and checks; never prints or exits. A bad file raises ConfigError naming the file, the key and the
problem. Secrets (token, password) come only from the environment: never a flag, never a file.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from claret_errors.errors import ConfigError
from claret_errors.redact import MASK, register_secret

CONFIG_FILENAME = "claret-errors.toml"
DEFAULT_BASE_URL = "https://plan.claret.app"
CATEGORIES = (
    "missing_value",
    "unknown_reference",
    "invalid_date",
    "invalid_number",
    "out_of_range",
    "duplicate",
    "not_allowed",
    "unclassified",
)
FIX_KINDS = ("auto", "suggested", "manual")


@dataclass(frozen=True)
class RuleSpec:
    """A user rule from the config file: a regex on the message to a category and field."""

    name: str
    pattern: str
    category: str
    field: str = ""
    fix: str = "manual"
    advice: str = ""  # what a person should do, shown beside the message


@dataclass(frozen=True)
class DetectOverrides:
    """What the user tells us instead of letting detection guess."""

    row_column: str | None = None
    row_base: int | str | None = None  # 0, 1, 2 or "line"
    message_columns: tuple[str, ...] = ()


@dataclass(frozen=True)
class SmtpSettings:
    """The `[smtp]` table: where owners' e-mail goes out. The password comes from CLARET_SMTP_PASSWORD."""

    host: str
    port: int = 587
    sender: str = ""
    tls: str = "starttls"  # "starttls", "implicit" (SMTPS, usually port 465) or "none"
    username: str | None = None
    timeout: float = 30.0


SMTP_TLS_MODES = ("starttls", "implicit", "none")
MIB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """The `[limits]` table: bounds on what comes from outside, far above any real night (a 1000-row job's
    files are well under 1 MiB each; a million-row job's about 200 MiB in all)."""

    file_bytes: int = 256 * MIB  # one artifact, downloaded or read; a larger one is refused (exit 8)
    status_bytes: int = 16 * MIB  # one status answer, as received and as decoded (exit 7 past it)
    download_seconds: float = 1800.0  # one download from request to last byte (exit 7 past it)
    min_rate: int = 1024  # bytes a second a download must average over each `rate_window` (else exit 7)
    rate_window: float = 30.0  # seconds


LIMIT_KEYS = {  # TOML key -> (field, its unit in bytes or seconds)
    "file_mb": ("file_bytes", MIB),
    "status_mb": ("status_bytes", MIB),
    "download_seconds": ("download_seconds", 1),
    "min_rate_kb": ("min_rate", 1024),
}


def _text(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError("must be a non-empty string")
    return value.strip()


def _positive_float(value: Any) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"must be a number of seconds, got {value!r}") from None
    if not number > 0:
        raise ValueError(f"must be greater than 0, got {value!r}")
    return number


def _positive_int(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError(f"must be a whole number, got {value!r}")
    try:
        number = int(str(value).strip())
    except ValueError:
        raise ValueError(f"must be a whole number, got {value!r}") from None
    if number < 1:
        raise ValueError(f"must be at least 1, got {value!r}")
    return number


def _base_url(value: Any) -> str:
    text = _text(value).rstrip("/")
    if not text.startswith(("http://", "https://")):
        raise ValueError(f"must start with http:// or https://, got {text!r}")
    return text


def _tenant(value: Any) -> str:
    text = _text(value)
    if "/" in text or text in (".", ".."):
        raise ValueError(f"must be a tenant name without '/', got {text!r}")
    return text


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"must be true or false, got {value!r}")


def _path(value: Any) -> Path:
    """A path from a file or env (text) or from a flag (click hands over a Path)."""
    return Path(_text(str(value) if isinstance(value, Path) else value))


@dataclass(frozen=True)
class Scalar:
    """How one scalar setting may be given: its environment variable and converter, whether it is a
    secret (environment only: never a file key, never a flag), and the help of its common CLI option
    (none: no option)."""

    env: str
    convert: Callable[[Any], Any]
    secret: bool = False
    option_help: str | None = None


def _scalar(
    env: str, convert: Callable[[Any], Any], *, secret: bool = False, option: str | None = None
) -> dict[str, Scalar]:
    """The field metadata that makes a Settings field a scalar setting; see `Scalar`."""
    return {"scalar": Scalar(env, convert, secret, option)}


@dataclass(frozen=True)
class Settings:
    """Every setting the tool uses; `sources` says where each scalar came from."""

    tenant: str | None = field(
        default=None,
        metadata=_scalar(
            "CLARET_TENANT", _tenant, option="Claret tenant (the first part of every API path)."
        ),
    )
    base_url: str = field(
        default=DEFAULT_BASE_URL,
        metadata=_scalar(
            "CLARET_BASE_URL",
            _base_url,
            option="Claret base URL [default: https://plan.claret.app].",
        ),
    )
    out: Path = field(
        default=Path("reports"),
        metadata=_scalar("CLARET_OUT", _path, option="Output folder [default: reports/]."),
    )
    poll_interval: float = field(
        default=5.0,
        metadata=_scalar(
            "CLARET_POLL_INTERVAL", _positive_float, option="Seconds between status polls [default: 5]."
        ),
    )
    max_wait: float = field(
        default=600.0,
        metadata=_scalar(
            "CLARET_MAX_WAIT", _positive_float, option="Seconds to wait for a job [default: 600]."
        ),
    )
    concurrency: int = field(
        default=8,
        metadata=_scalar(
            "CLARET_CONCURRENCY", _positive_int, option="Requests to Claret at once, all jobs [default: 8]."
        ),
    )
    owners: Path | None = field(
        default=None, metadata=_scalar("CLARET_OWNERS", _path, option="Owners file (TOML).")
    )
    master_data: Path | None = field(default=None, metadata=_scalar("CLARET_MASTER_DATA", _path))
    # A company's CA certificates (PEM); wins over SSL_CERT_FILE/SSL_CERT_DIR.
    ca_bundle: Path | None = field(default=None, metadata=_scalar("CLARET_CA_BUNDLE", _path))
    token: str | None = field(default=None, metadata=_scalar("CLARET_TOKEN", _text, secret=True))
    email: str | None = field(default=None, metadata=_scalar("CLARET_EMAIL", _text))
    password: str | None = field(default=None, metadata=_scalar("CLARET_PASSWORD", str, secret=True))
    allow_record_creation: bool = True
    allow_record_update: bool = False
    aliases: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    units: Mapping[str, str] = field(default_factory=dict)
    rules: tuple[RuleSpec, ...] = ()
    detect: DetectOverrides = field(default_factory=DetectOverrides)
    smtp: SmtpSettings | None = None
    smtp_password: str | None = field(
        default=None, metadata=_scalar("CLARET_SMTP_PASSWORD", str, secret=True)
    )
    attachment_limit: int = 5 * 1024 * 1024  # bytes; a larger worksheet is named by path in the e-mail
    limits: Limits = field(default_factory=Limits)
    config_file: Path | None = None
    sources: Mapping[str, str] = field(default_factory=dict)

    def shown(self) -> list[tuple[str, str, str]]:
        """(name, value, source) for `config show`, secrets masked."""
        rows: list[tuple[str, str, str]] = []
        for f in fields(self):
            if f.name in ("sources",):
                continue
            value = getattr(self, f.name)
            if f.name in SECRET_KEYS and value:
                text = MASK
            elif value is None:
                text = ""
            elif isinstance(value, SmtpSettings):
                text = ", ".join(f"{k}={v}" for k, v in vars(value).items() if v not in (None, ""))
            elif isinstance(value, Limits):
                text = ", ".join(f"{k}={v}" for k, v in vars(value).items())
            elif isinstance(value, DetectOverrides):
                text = ", ".join(f"{k}={v}" for k, v in vars(value).items() if v not in (None, ()))
            elif isinstance(value, tuple) and all(isinstance(r, RuleSpec) for r in value):
                text = ", ".join(r.name for r in value)
            elif isinstance(value, Mapping):
                text = ", ".join(f"{k}={v}" for k, v in value.items())
            else:
                text = str(value)
            rows.append((f.name, text, self.sources.get(f.name, "default")))
        return rows


# Derived from the fields above, so each scalar setting is declared once.
SCALARS: dict[str, Scalar] = {
    f.name: f.metadata["scalar"] for f in fields(Settings) if "scalar" in f.metadata
}
SECRET_KEYS = frozenset(name for name, scalar in SCALARS.items() if scalar.secret)
OPTION_KEYS = tuple(name for name, scalar in SCALARS.items() if scalar.option_help)  # common CLI options
_FILE_SCALARS = tuple(name for name in SCALARS if name not in SECRET_KEYS)
_FILE_TABLES = ("import", "aliases", "units", "detect", "rules", "smtp", "notify", "limits")


def find_config_file(explicit: Path | None, cwd: Path) -> Path | None:
    """The file given with --config (must exist), else `claret-errors.toml` in the working directory."""
    if explicit is not None:
        if not explicit.is_file():
            raise ConfigError("config file not found", file=str(explicit))
        return explicit
    candidate = cwd / CONFIG_FILENAME
    return candidate if candidate.is_file() else None


def _read_file(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"not valid TOML: {exc}", file=str(path)) from exc
    except OSError as exc:
        raise ConfigError(f"cannot read: {exc.strerror}", file=str(path)) from exc


def _parse_tables(data: Mapping[str, Any], path: Path) -> dict[str, Any]:
    """Check and convert the table sections of the file, one step a table."""
    where = str(path)
    out: dict[str, Any] = _import_table(data.get("import", {}), where)
    out["aliases"] = _aliases(data.get("aliases", {}), where)
    out["units"] = _units(data.get("units", {}), where)
    out["detect"] = _detect(data.get("detect", {}), where)
    out["rules"] = _rules(data.get("rules", []), where)
    out.update(_notify_tables(data, where))
    if "limits" in data:
        out["limits"] = _limits(data["limits"], where)
    return out


def _import_table(imp: Any, where: str) -> dict[str, bool]:
    """The `[import]` table: the flags sent with `resubmit` uploads."""
    if not isinstance(imp, dict):
        raise ConfigError("must be a table", file=where, key="import")
    out: dict[str, bool] = {}
    for key, value in imp.items():
        if key not in ("allow_record_creation", "allow_record_update"):
            raise ConfigError("unknown key", file=where, key=f"import.{key}")
        try:
            out[key] = _bool(value)
        except ValueError as exc:
            raise ConfigError(str(exc), file=where, key=f"import.{key}") from None
    return out


def _aliases(aliases: Any, where: str) -> dict[str, tuple[str, ...]]:
    """The `[aliases]` table: field = [header names]; one name alone stands for a list of one."""
    if not isinstance(aliases, dict):
        raise ConfigError("must be a table of field = [names]", file=where, key="aliases")
    parsed: dict[str, tuple[str, ...]] = {}
    for name, values in aliases.items():
        if isinstance(values, str):
            values = [values]
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise ConfigError("must be a list of header names", file=where, key=f"aliases.{name}")
        parsed[name] = tuple(values)
    return parsed


def _units(units: Any, where: str) -> dict[str, str]:
    """The `[units]` table: alias = "Unit name"."""
    if not isinstance(units, dict) or not all(isinstance(v, str) for v in units.values()):
        raise ConfigError('must be a table of alias = "Unit name"', file=where, key="units")
    return dict(units)


def _detect(detect: Any, where: str) -> DetectOverrides:
    """The `[detect]` table: overrides for when detecting the layout of Claret's files guesses wrong."""
    if not isinstance(detect, dict):
        raise ConfigError("must be a table", file=where, key="detect")
    unknown = set(detect) - {"row_column", "row_base", "message_columns"}
    if unknown:
        raise ConfigError("unknown key", file=where, key=f"detect.{sorted(unknown)[0]}")
    row_base = detect.get("row_base")
    if row_base is not None and row_base not in (0, 1, 2, "line"):
        raise ConfigError('must be 0, 1, 2 or "line"', file=where, key="detect.row_base")
    message_columns = detect.get("message_columns", [])
    if isinstance(message_columns, str):
        message_columns = [message_columns]
    if not isinstance(message_columns, list) or not all(isinstance(c, str) for c in message_columns):
        raise ConfigError("must be a list of column names", file=where, key="detect.message_columns")
    row_column = detect.get("row_column")
    if row_column is not None and not isinstance(row_column, str):
        raise ConfigError("must be a column name", file=where, key="detect.row_column")
    return DetectOverrides(row_column, row_base, tuple(message_columns))


def _rules(rules: Any, where: str) -> tuple[RuleSpec, ...]:
    """The `[[rules]]` array: the site's own classification rules, each checked whole."""
    if not isinstance(rules, list):
        raise ConfigError("must be an array of tables ([[rules]])", file=where, key="rules")
    return tuple(_rule(i, rule, where) for i, rule in enumerate(rules))


def _rule(i: int, rule: Any, where: str) -> RuleSpec:
    """One `[[rules]]` table: a known category and fix, a pattern that compiles."""
    key = f"rules[{i}]"
    if not isinstance(rule, dict):
        raise ConfigError("must be a table", file=where, key=key)
    unknown = set(rule) - {"name", "pattern", "category", "field", "fix", "advice"}
    if unknown:
        raise ConfigError("unknown key", file=where, key=f"{key}.{sorted(unknown)[0]}")
    for required in ("pattern", "category"):
        if not isinstance(rule.get(required), str) or not rule[required]:
            raise ConfigError("is required", file=where, key=f"{key}.{required}")
    if rule["category"] not in CATEGORIES:
        raise ConfigError(f"must be one of {', '.join(CATEGORIES)}", file=where, key=f"{key}.category")
    fix = rule.get("fix", "manual")
    if fix not in FIX_KINDS:
        raise ConfigError(f"must be one of {', '.join(FIX_KINDS)}", file=where, key=f"{key}.fix")
    try:
        re.compile(rule["pattern"])
    except re.error as exc:
        raise ConfigError(f"not a valid regex: {exc}", file=where, key=f"{key}.pattern") from None
    return RuleSpec(
        name=str(rule.get("name") or f"config:{i + 1}"),
        pattern=rule["pattern"],
        category=rule["category"],
        field=str(rule.get("field", "")),
        fix=fix,
        advice=str(rule.get("advice", "")),
    )


def _limits(table: Any, where: str) -> Limits:
    """The `[limits]` table: each key a positive number in the unit its name says."""
    if not isinstance(table, dict):
        raise ConfigError("must be a table", file=where, key="limits")
    values: dict[str, Any] = {}
    for key, value in table.items():
        if key not in LIMIT_KEYS:
            raise ConfigError(f"unknown key; known: {', '.join(LIMIT_KEYS)}", file=where, key=f"limits.{key}")
        name, unit = LIMIT_KEYS[key]
        if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
            message = f"must be a number greater than 0, got {value!r}"
            raise ConfigError(message, file=where, key=f"limits.{key}")
        number = value * unit
        values[name] = number if name == "download_seconds" else int(number)
    return Limits(**values)


def _notify_tables(data: Mapping[str, Any], where: str) -> dict[str, Any]:
    """The `[smtp]` and `[notify]` tables: how owners are told."""
    out: dict[str, Any] = {}
    smtp = data.get("smtp")
    if smtp is not None:
        if not isinstance(smtp, dict):
            raise ConfigError("must be a table", file=where, key="smtp")
        unknown = set(smtp) - {"host", "port", "from", "tls", "username", "timeout"}
        if unknown:
            raise ConfigError("unknown key", file=where, key=f"smtp.{sorted(unknown)[0]}")
        if "password" in smtp:
            raise ConfigError("secrets do not belong in files; set CLARET_SMTP_PASSWORD", file=where)
        try:
            host = _text(smtp.get("host"))
            port = _positive_int(smtp.get("port", 587))
            timeout = _positive_float(smtp.get("timeout", 30.0))
        except ValueError as exc:
            raise ConfigError(str(exc), file=where, key="smtp") from None
        sender = smtp.get("from")
        if not isinstance(sender, str) or "@" not in sender or any(c in sender for c in "\r\n,"):
            raise ConfigError("must be the sender's e-mail address", file=where, key="smtp.from")
        tls = smtp.get("tls", "starttls")
        if tls not in SMTP_TLS_MODES:
            raise ConfigError(f"must be one of {', '.join(SMTP_TLS_MODES)}", file=where, key="smtp.tls")
        username = smtp.get("username")
        if username is not None and not isinstance(username, str):
            raise ConfigError("must be a string", file=where, key="smtp.username")
        out["smtp"] = SmtpSettings(host, port, sender, tls, username or None, timeout)
    notify = data.get("notify", {})
    if not isinstance(notify, dict) or set(notify) - {"attachment_limit_mb"}:
        raise ConfigError("must be a table with attachment_limit_mb", file=where, key="notify")
    if "attachment_limit_mb" in notify:
        try:
            out["attachment_limit"] = int(_positive_float(notify["attachment_limit_mb"]) * 1024 * 1024)
        except ValueError as exc:
            raise ConfigError(str(exc), file=where, key="notify.attachment_limit_mb") from None
    return out


def load_settings(
    flags: Mapping[str, Any] | None = None,
    *,
    env: Mapping[str, str] | None = None,
    config_file: Path | None = None,
    cwd: Path | None = None,
) -> Settings:
    """Merge flags > env > file > defaults. `flags` holds only options the user actually gave."""
    flags = {k: v for k, v in (flags or {}).items() if v is not None}
    env = os.environ if env is None else env
    cwd = Path.cwd() if cwd is None else cwd
    path = find_config_file(config_file, cwd)
    data: dict[str, Any] = _read_file(path) if path else {}

    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    if path:
        for key in data:
            if key in SECRET_KEYS:
                raise ConfigError(
                    f"secrets do not belong in files; set {SCALARS[key].env} in the environment",
                    file=str(path),
                    key=key,
                )
            if key not in _FILE_SCALARS and key not in _FILE_TABLES:
                raise ConfigError("unknown key", file=str(path), key=key)
        for key in _FILE_SCALARS:
            if key in data:
                try:
                    value = SCALARS[key].convert(data[key])
                except ValueError as exc:
                    raise ConfigError(str(exc), file=str(path), key=key) from None
                if isinstance(value, Path) and not value.is_absolute():
                    value = path.parent / value
                values[key], sources[key] = value, f"file {path}"
        tables = _parse_tables(data, path)
        for key, value in tables.items():
            values[key] = value
            if key in ("allow_record_creation", "allow_record_update", "limits"):
                sources[key] = f"file {path}"
    for key, scalar in SCALARS.items():
        var = scalar.env
        raw = env.get(var)
        if raw is None or raw == "":
            continue
        try:
            values[key] = scalar.convert(raw)
        except ValueError as exc:
            raise ConfigError(str(exc), key=var) from None
        sources[key] = f"env {var}"
    for key, raw in flags.items():
        if key not in SCALARS:
            raise ConfigError("unknown setting", key=key)
        try:
            values[key] = SCALARS[key].convert(raw)
        except ValueError as exc:
            raise ConfigError(str(exc), key="--" + key.replace("_", "-")) from None
        sources[key] = "flag"

    for key in SECRET_KEYS:
        register_secret(values.get(key))
    return Settings(**values, config_file=path, sources=sources)
