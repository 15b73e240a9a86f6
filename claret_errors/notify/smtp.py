"""Send e-mail through the standard library's smtplib: STARTTLS or implicit TLS, login, timeouts, retries.

One connection per message, so a refused recipient or a dropped connection costs that message only.
Transient failures (4xx answers, dropped or timed-out connections) are retried a few times; permanent ones
(5xx, refused recipients) are reported at once. The password comes from the caller (the environment, via
the settings) and never appears in an error: smtplib's own messages are redacted on the way out.
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from ipaddress import ip_address

import stamina

from claret_errors.config import SmtpSettings
from claret_errors.errors import ConfigError
from claret_errors.redact import printable


def check(smtp: SmtpSettings, password: str | None) -> None:
    """Refuse a login over a connection that would carry the password in clear text, or with no password."""
    if smtp.username and smtp.tls == "none" and not _loopback(smtp.host):
        raise ConfigError(
            "a login needs TLS (tls = starttls or implicit) unless the server is on this machine",
            key="smtp.tls",
        )
    if smtp.username and not password:
        raise ConfigError("smtp.username is set but CLARET_SMTP_PASSWORD is not", key="smtp.username")


@dataclass(frozen=True)
class Delivery:
    """What became of one message: every recipient accepted, some refused, or not sent at all."""

    key: str
    accepted: tuple[str, ...]
    refused: dict[str, str]
    error: str | None = None
    server_down: bool = False  # the server itself failed (no answer, no connection): later messages would too

    @property
    def ok(self) -> bool:
        """Every recipient took the message."""
        return self.error is None and not self.refused


class TransientSmtpError(Exception):
    """A failure worth another try: the server said 4xx, or the connection dropped or timed out."""


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ip_address(host).is_loopback
    except ValueError:
        return False


def _connect(settings: SmtpSettings, password: str | None, ca_file: str | None) -> smtplib.SMTP:
    context = ssl.create_default_context(cafile=ca_file)
    server: smtplib.SMTP
    if settings.tls == "implicit":
        server = smtplib.SMTP_SSL(settings.host, settings.port, timeout=settings.timeout, context=context)
    else:
        server = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
        if settings.tls == "starttls":
            server.starttls(context=context)
    if settings.username:
        server.login(settings.username, password or "")
    return server


def _send_once(
    settings: SmtpSettings,
    password: str | None,
    ca_file: str | None,
    message: EmailMessage,
    to: tuple[str, ...],
) -> dict[str, str]:
    """One attempt; returns the refused recipients with the server's reason."""
    try:
        server = _connect(settings, password, ca_file)
        try:
            refused = server.send_message(message, from_addr=settings.sender, to_addrs=list(to))
        finally:
            try:
                server.quit()
            except (smtplib.SMTPException, OSError):
                server.close()
    except smtplib.SMTPRecipientsRefused as exc:
        return {addr: _reason(code, text) for addr, (code, text) in exc.recipients.items()}
    except smtplib.SMTPResponseException as exc:
        if 400 <= exc.smtp_code < 500:
            raise TransientSmtpError(_reason(exc.smtp_code, exc.smtp_error)) from exc
        raise
    except (TimeoutError, smtplib.SMTPServerDisconnected, ConnectionError) as exc:
        raise TransientSmtpError(printable(str(exc) or type(exc).__name__, 200)) from exc
    return {addr: _reason(code, text) for addr, (code, text) in refused.items()}


def _reason(code: int, text: bytes | str) -> str:
    message = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
    return printable(f"{code} {message}", 200)


def send(
    settings: SmtpSettings,
    password: str | None,
    key: str,
    message: EmailMessage,
    to: tuple[str, ...],
    *,
    ca_file: str | None = None,
) -> Delivery:
    """Send one message, retrying transient failures; never raises for a delivery problem."""
    try:
        for attempt in stamina.retry_context(
            on=TransientSmtpError, attempts=3, wait_initial=1.0, wait_max=5.0
        ):
            with attempt:
                refused = _send_once(settings, password, ca_file, message, to)
    except TransientSmtpError as exc:
        return Delivery(key, (), {}, error=f"gave up after 3 tries: {exc}", server_down=True)
    except smtplib.SMTPAuthenticationError as exc:
        return Delivery(
            key, (), {}, error=f"the SMTP server refused the login: {_reason(exc.smtp_code, exc.smtp_error)}"
        )
    except smtplib.SMTPResponseException as exc:
        return Delivery(
            key,
            (),
            {},
            error=f"the SMTP server refused the message: {_reason(exc.smtp_code, exc.smtp_error)}",
        )
    except (smtplib.SMTPException, ssl.SSLError, OSError) as exc:
        where = f"{settings.host}:{settings.port}"
        return Delivery(
            key, (), {}, error=printable(f"cannot send through {where}: {exc}", 300), server_down=True
        )
    accepted = tuple(addr for addr in to if addr not in refused)
    return Delivery(key, accepted, refused)
