"""Keep secrets out of every line we write: logs, exception messages, reports and files.

Redacts bearer tokens, Sanctum-style `N|secret` tokens, password/token query parameters and any secret
value registered at run time. It must never raise: redaction runs on the error path.
"""

from __future__ import annotations

import logging
import re
import threading

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
_secrets: set[str] = set()


def register_secret(value: str | None) -> None:
    """Remember a secret (token, password) so that any later text containing it is masked."""
    if value and len(value) >= 4:
        with _lock:
            _secrets.add(value)


def redact(text: str) -> str:
    """Return `text` with every known secret and secret-shaped value masked."""
    try:
        with _lock:
            known = sorted(_secrets, key=len, reverse=True)
        for secret in known:
            if secret in text:
                text = text.replace(secret, MASK)
        for pattern, repl in _PATTERNS:
            text = pattern.sub(repl, text)
        return text
    except Exception:  # pragma: no cover - redaction must never be the thing that fails
        return "<unprintable message withheld>"


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]+")


def printable(text: str, limit: int = 500) -> str:
    """Untrusted text made safe for a line: no control characters, no secrets, at most `limit` characters."""
    return redact(_CONTROL.sub(" ", text))[:limit]


class RedactingFilter(logging.Filter):
    """A logging filter that renders each record and masks secrets in the final text."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        record.msg = redact(message)
        record.args = None
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
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
