"""Secrets never reach a log line, an exception message or a URL we print."""

from __future__ import annotations

import logging

import pytest

from claret_errors.redact import MASK, RedactingFilter, printable, redact, register_secret

TOKEN = "42|bfDoNPffjU6k541RYSLB68oEfHySweWJ2HSx34sZ"


def test_bearer_header_is_masked() -> None:
    """An Authorization header copied into a message loses its token."""
    text = redact(f"sent Authorization: Bearer {TOKEN} to Claret")
    assert "bfDoNP" not in text
    assert "Bearer ***" in text


def test_sanctum_token_in_exception_message_is_masked() -> None:
    """A token that ends up inside an exception message is masked even without a Bearer prefix."""
    try:
        raise RuntimeError(f"refused token {TOKEN}")
    except RuntimeError as exc:
        assert TOKEN not in redact(str(exc))
        assert MASK in redact(str(exc))


def test_password_and_token_in_url_are_masked() -> None:
    """tokens/create takes email and password as query parameters: a logged URL must not leak them."""
    url = "https://plan.claret.app/acme/api/v1/tokens/create?email=a%40b.c&password=hunter22&token=abc"
    text = redact(url)
    assert "hunter22" not in text
    assert "token=abc" not in text
    assert "email=a%40b.c" in text


def test_registered_secret_is_masked_anywhere() -> None:
    """A secret of any shape, once registered, is masked wherever it appears."""
    register_secret("plainpassword-xyz")
    assert "plainpassword-xyz" not in redact("login failed for plainpassword-xyz!")


def test_log_records_are_redacted_including_args_and_tracebacks(caplog: pytest.LogCaptureFixture) -> None:
    """The logging filter masks the formatted message and the traceback text."""
    logger = logging.getLogger("claret_errors.test")
    logger.addFilter(RedactingFilter())
    with caplog.at_level(logging.INFO, logger="claret_errors.test"):
        logger.info("GET %s with Bearer %s", "https://x/acme/api/v1/imports/status/1", TOKEN)
        try:
            raise ValueError(f"boom {TOKEN}")
        except ValueError:
            logger.exception("failed")
    assert TOKEN not in caplog.text
    assert "bfDoNP" not in caplog.text
    assert "Bearer ***" in caplog.text


def test_printable_strips_controls_masks_secrets_and_bounds_the_text() -> None:
    """The one helper for text from outside: no control character, no token, at most `limit` characters."""
    shown = printable("\x1b]0;owned\x07 token=1|abcdefghijklmnopqrstuvwx " + "x" * 900, limit=60)
    assert shown.startswith(" ]0;owned  token=***") and len(shown) == 60
    assert not any(ord(c) < 32 or 0x7F <= ord(c) <= 0x9F for c in shown)
