"""Keep secrets out of every line we write: logs, exception messages, reports and files.

Redacts bearer tokens, Sanctum-style `N|secret` tokens, password/token query parameters and any secret
value registered at run time. It must never raise: redaction runs on the error path. `printable` is the
one helper for text from outside that we show (strip control characters, redact, truncate).
"""

from __future__ import annotations

import html
import json
import logging
import re
import threading
from urllib.parse import quote, quote_plus

from claret_errors.files.mdtext import markdown_text

MASK = "***"

_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # Authorization: Bearer <token>
    (re.compile(r"(?i)(bearer\s+)[^\s'\",;]+"), rf"\g<1>{MASK}"),
    # password=..., token=..., email+password in query strings or key=value text
    (
        re.compile(r"(?i)\b(password|passwd|token|access_token|secret)(\s*[=:]\s*)[^\s&'\",;]+"),
        rf"\g<1>\g<2>{MASK}",
    ),
    # JSON-ish "token": "..."
    (
        re.compile(r"(?i)(\"(?:password|token|access_token|secret)\"\s*:\s*\")[^\"]*(\")"),
        rf"\g<1>{MASK}\g<2>",
    ),
    # Laravel Sanctum token shape: digits|40-ish chars (also URL-encoded |)
    (re.compile(r"\b\d+(?:\||%7[Cc])[A-Za-z0-9]{20,}"), MASK),
)

_lock = threading.Lock()
# Every form in which a registered secret can reach a file, longest first (a longer form may contain a
# shorter one), as text and as UTF-8 bytes; replaced whole, so each is read in one go without the lock.
_forms: tuple[str, ...] = ()
_byte_forms: tuple[bytes, ...] = ()
_SANCTUM = re.compile(r"\d+\|(.{8,})")


def _shapes(value: str) -> set[str]:
    """The secret as our writers and Claret can render it: raw, URL-encoded, in a JSON string (Laravel
    escapes slashes too), escaped for HTML and for our Markdown, and quoted for CSV."""
    json_text = json.dumps(value, ensure_ascii=False)[1:-1]
    return {
        value,
        quote(value, safe=""),
        quote_plus(value, safe=""),
        json_text,
        json_text.replace("/", "\\/"),
        json.dumps(value)[1:-1],
        html.escape(value, quote=True),
        html.escape(value, quote=True).replace("&quot;", "&#34;").replace("&#x27;", "&#39;"),
        markdown_text(value),
        value.replace('"', '""'),
    }


def register_secret(value: str | None) -> None:
    """Remember a secret (token, password) so that any later text or file containing it, in any of the
    shapes our writers give it, is masked. A Sanctum token's secret part (after `N|`) counts on its own:
    a server may echo only that part."""
    global _forms, _byte_forms
    if not value or len(value) < 4:
        return
    shapes = _shapes(value)
    part = _SANCTUM.fullmatch(value)
    if part:
        shapes |= _shapes(part.group(1))
    with _lock:
        forms = set(_forms) | {f for f in shapes if len(f) >= 4}
        _forms = tuple(sorted(forms, key=len, reverse=True))
        _byte_forms = tuple(f.encode("utf-8") for f in _forms)


def redact_bytes(data: bytes) -> bytes:
    """`data` with every registered secret masked, in any of its shapes; free when none is registered.

    The shape patterns of `redact` are left out: files carry data (a lot code may look like `12|...`),
    and only what we hold is a secret there."""
    for form in _byte_forms:
        if form in data:
            data = data.replace(form, MASK.encode())
    return data


def mask_secrets(text: str) -> str:
    """`text` with every registered secret masked (no shape patterns): what a function that cuts text
    short must call first, since a cut secret no longer matches whole where the file is written."""
    for secret in _forms:
        if secret in text:
            text = text.replace(secret, MASK)
    return text


class StreamRedactor:
    """`redact_bytes` for a body that arrives in pieces: the tail that could start a secret cut by a
    piece's end is held back until the next piece (or `flush`) completes it."""

    def __init__(self) -> None:
        self._forms = _byte_forms  # those registered now, as one consistent set for the whole body
        self._keep = max((len(f) for f in self._forms), default=1) - 1
        self._tail = b""

    def feed(self, piece: bytes) -> bytes:
        """The bytes that are final now, secrets masked."""
        if not self._forms:
            return piece
        data = self._tail + piece
        for form in self._forms:
            if form in data:
                data = data.replace(form, MASK.encode())
        cut = max(len(data) - self._keep, 0)
        self._tail = data[cut:]
        return data[:cut]

    def flush(self) -> bytes:
        """The held-back tail: no secret is whole in it (it was searched with what came before)."""
        tail, self._tail = self._tail, b""
        return tail


def redact(text: str) -> str:
    """Return `text` with every known secret and secret-shaped value masked."""
    try:
        text = mask_secrets(text)
        for pattern, repl in _PATTERNS:
            text = pattern.sub(repl, text)
        return text
    except Exception:  # pragma: no cover - redaction must never be the thing that fails
        return "<unprintable message withheld>"


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]+")


def printable(text: str, limit: int = 500) -> str:
    """Untrusted text made safe for a line: no control characters, no secrets, at most `limit` characters."""
    return redact(_CONTROL.sub(" ", text))[:limit]


LINE_LIMIT = 2000  # characters of one printed or logged line of ours that holds text from outside


def printable_lines(text: str, limit: int = LINE_LIMIT) -> str:
    """`printable` for each line of a text that has several (a traceback, a hint, `explain`'s answer)."""
    return "\n".join(printable(line, limit) for line in text.split("\n"))


class RedactingFilter(logging.Filter):
    """A logging filter that renders each record, masks secrets in the final text and strips control
    characters (a status string from Claret must not move the cursor or retitle the terminal)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        record.msg = printable_lines(message)
        record.args = None
        if record.exc_text:
            record.exc_text = printable_lines(record.exc_text)
        return True


def configure_logging(*, verbose: bool = False, quiet: bool = False) -> None:
    """Send our log lines to stderr, redacted; stdout stays free for `--json`."""
    logger = logging.getLogger("claret_errors")
    logger.handlers.clear()
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s", "%H:%M:%S"))
    handler.addFilter(RedactingFilter())
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG if verbose else logging.WARNING if quiet else logging.INFO)
    logger.propagate = False
    for noisy in ("httpx", "httpcore"):
        logging.getLogger(noisy).addFilter(RedactingFilter())
