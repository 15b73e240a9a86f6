"""Decide which artifact paths may be fetched with our token, and what local name each file gets.

Claret's paths are untrusted: only relative paths, or absolute URLs on the exact origin of the base URL,
are resolved; anything else is refused before a request exists. Local names never leave their folder.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from urllib.parse import unquote, urlsplit

from claret_errors.errors import ArtifactError
from claret_errors.redact import mask_secrets

_DEFAULT_PORTS = {"http": 80, "https": 443}
_UNSAFE_CHARS = re.compile(r"[^A-Za-z0-9._-]+")
_MAX_NAME = 120
_WINDOWS_RESERVED = frozenset(
    {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(1, 10)), *(f"lpt{i}" for i in range(1, 10))}
)


class UnsafeSourceError(ArtifactError):
    """An artifact path points off the base URL's origin, or is not a path at all; it is never fetched."""


def origin(url: str) -> tuple[str, str, int]:
    """(scheme, host, port) with default ports filled in, the unit a token may be sent to."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port or _DEFAULT_PORTS.get(scheme, 0)
    except ValueError:
        port = -1
    return scheme, (parts.hostname or "").lower(), port


def _shown(source: str) -> str:
    """A printable, bounded rendering of an untrusted path for messages."""
    return repr(mask_secrets(source)[:200])


def resolve_source(base_url: str, source: str) -> str:
    """The absolute URL for an artifact path Claret gave, or UnsafeSourceError if it may not get our token.

    Relative paths are appended to the base URL (never joined with URL rules, so `@host` or `//host`
    cannot change the host); absolute URLs must have exactly the base URL's scheme, host and port.
    """
    if not source or any(ch.isspace() or unicodedata.category(ch).startswith("C") for ch in source):
        raise UnsafeSourceError(f"refused artifact path {_shown(source)}: empty or holds control characters")
    if "\\" in source:
        raise UnsafeSourceError(f"refused artifact path {_shown(source)}: holds a backslash")
    base = base_url.rstrip("/")
    parts = urlsplit(source)
    if parts.scheme or source.startswith("//"):
        if parts.username is not None or parts.password is not None:
            raise UnsafeSourceError(f"refused artifact URL {_shown(source)}: carries credentials")
        if origin(source) != origin(base):
            raise UnsafeSourceError(
                f"refused artifact URL {_shown(source)}: not on the origin of the base URL {base}"
            )
        url = source
    else:
        url = base + ("" if source.startswith("/") else "/") + source
    resolved = urlsplit(url)
    if origin(url) != origin(base) or resolved.username is not None or resolved.password is not None:
        raise UnsafeSourceError(f"refused artifact path {_shown(source)}: it would leave {base}")
    return url


def safe_component(text: str, *, fallback: str = "file") -> str:
    """One path component made of `[A-Za-z0-9._-]`, not hidden, not `.`/`..`, not a reserved device name."""
    name = unicodedata.normalize("NFKC", text)
    name = _UNSAFE_CHARS.sub("_", name).strip("._")
    if not name:
        name = fallback
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    if stem.lower() in _WINDOWS_RESERVED:
        name = f"_{name}"
    if len(name) > _MAX_NAME:
        ext = ext[:16]
        name = name[: _MAX_NAME - len(ext) - 1].rstrip("._") + ("." + ext if ext else "")
    return name


def local_name(source: str, taken: Iterable[str]) -> str:
    """The file name for an artifact: its last path segment made safe, suffixed `-2`, `-3`... on collision.

    Collisions are checked case-insensitively so that the folder is the same on every file system.
    """
    path = urlsplit(source).path if "://" in source else source.split("?", 1)[0].split("#", 1)[0]
    segment = re.split(r"[/\\]", unquote(path).rstrip("/\\"))[-1]
    name = safe_component(segment)
    used = {t.lower() for t in taken}
    if name.lower() not in used:
        return name
    stem, dot, ext = name.rpartition(".")
    if not dot or not stem:
        stem, ext = name, ""
    n = 2
    while True:
        candidate = f"{stem}-{n}" + (f".{ext}" if ext else "")
        if candidate.lower() not in used:
            return candidate
        n += 1
