"""Who hears about a night: e-mail addresses per owner, the digest's readers and chat webhooks.

Read from the owners file (the same TOML that routes records to owners), so one file says who fixes what
and how they are told. Parses and checks only; never sends. A bad entry raises ConfigError naming the file
and key: a typo in an address must stop the run before anything is sent, not bounce at 6:30.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from claret_errors.errors import ConfigError
from claret_errors.reconcile.owners import read_owners_file
from claret_errors.redact import register_secret

# Deliberately stricter than RFC 5322: plain addresses only, so nothing can smuggle a header or a second
# recipient through an address (no CR/LF, no commas, no quotes, no display names).
_ADDRESS = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,62})(?:\.[A-Za-z0-9-]{1,63})*$"
)
WebhookFormat = Literal["slack", "teams"]
WEBHOOK_FORMATS: tuple[WebhookFormat, ...] = ("slack", "teams")


@dataclass(frozen=True)
class Webhook:
    """A chat channel's incoming webhook; its URL is a credential and is redacted wherever it could show."""

    url: str
    format: WebhookFormat
    key: str  # "webhook[0]", to name it in messages without showing the URL


@dataclass(frozen=True)
class Contacts:
    """E-mail addresses per owner, the digest's addresses and the chat webhooks of one owners file."""

    owners: dict[str, tuple[str, ...]]
    digest: tuple[str, ...] = ()
    webhooks: tuple[Webhook, ...] = ()
    source: str = ""

    @property
    def empty(self) -> bool:
        """True when nobody would be told anything."""
        return not (self.owners or self.digest or self.webhooks)


def check_address(value: Any, where: str, key: str) -> str:
    """One plain e-mail address, or ConfigError naming the file and key."""
    if not isinstance(value, str) or len(value) > 254 or not _ADDRESS.match(value):
        raise ConfigError(f"not a plain e-mail address: {str(value)[:80]!r}", file=where, key=key)
    return value


def _addresses(value: Any, where: str, key: str) -> tuple[str, ...]:
    values = [value] if isinstance(value, str) else value
    if not isinstance(values, list) or not values:
        raise ConfigError("must be an address or a list of addresses", file=where, key=key)
    return tuple(dict.fromkeys(check_address(v, where, f"{key}[{i}]") for i, v in enumerate(values)))


def _webhook(raw: Any, where: str, key: str) -> Webhook:
    if not isinstance(raw, dict):
        raise ConfigError("must be a table with url and format", file=where, key=key)
    unknown = set(raw) - {"url", "format"}
    if unknown:
        raise ConfigError("unknown key", file=where, key=f"{key}.{sorted(unknown)[0]}")
    url = raw.get("url")
    if (
        not isinstance(url, str)
        or not url.startswith(("https://", "http://"))
        or any(c.isspace() for c in url)
    ):
        raise ConfigError("must be an http(s) URL", file=where, key=f"{key}.url")
    fmt = raw.get("format", "slack")
    if fmt not in WEBHOOK_FORMATS:
        raise ConfigError(f"must be one of {', '.join(WEBHOOK_FORMATS)}", file=where, key=f"{key}.format")
    register_secret(url)
    return Webhook(url=url, format=fmt, key=key)


def contacts_from(data: dict[str, Any], where: str) -> Contacts:
    """The `[contacts]`, `[digest]` and `[[webhook]]` parts of a parsed owners file."""
    raw_contacts = data.get("contacts", {})
    if not isinstance(raw_contacts, dict):
        raise ConfigError("must be a table of owner = address(es)", file=where, key="contacts")
    owners = {
        str(owner): _addresses(value, where, f"contacts.{owner}") for owner, value in raw_contacts.items()
    }
    raw_digest = data.get("digest", {})
    if not isinstance(raw_digest, dict) or set(raw_digest) - {"to"}:
        raise ConfigError("must be a table with `to`", file=where, key="digest")
    digest = _addresses(raw_digest["to"], where, "digest.to") if "to" in raw_digest else ()
    raw_hooks = data.get("webhook", [])
    if not isinstance(raw_hooks, list):
        raise ConfigError("must be an array of tables ([[webhook]])", file=where, key="webhook")
    hooks = tuple(_webhook(raw, where, f"webhook[{i}]") for i, raw in enumerate(raw_hooks))
    return Contacts(owners=owners, digest=digest, webhooks=hooks, source=where)


def load_contacts(path: Path | None) -> Contacts:
    """The contacts of an owners file; no file means nobody to tell."""
    if path is None:
        return Contacts(owners={})
    return contacts_from(read_owners_file(path), str(path))
