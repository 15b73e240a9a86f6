"""Post the night's summary to chat: Slack-compatible (`{"text": ...}`) or Teams-compatible (an Adaptive
Card message, as Teams workflows take it). Uses httpx with its defaults, so the company proxy and CA
bundle apply as for Claret. The webhook URL is a credential: it never appears in a message or a file.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from typing import Any

import httpx
import stamina

from claret_errors.notify.contacts import Webhook
from claret_errors.redact import printable


@dataclass(frozen=True)
class Posted:
    """What became of one webhook post."""

    key: str
    error: str | None = None


class _Retry(Exception):
    """A 5xx answer, a 429 or a dropped connection: worth another try."""


def payload(hook: Webhook, text: str) -> dict[str, Any]:
    """The JSON body for the hook's chat product."""
    if hook.format == "teams":
        return {
            "type": "message",
            "attachments": [
                {
                    "contentType": "application/vnd.microsoft.card.adaptive",
                    "content": {
                        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                        "type": "AdaptiveCard",
                        "version": "1.4",
                        "body": [
                            {"type": "TextBlock", "text": line, "wrap": True} for line in text.splitlines()
                        ],
                    },
                }
            ],
        }
    # Slack reads &, < and > as markup (links, mentions): escaped as its docs ask.
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return {"text": escaped}


def post(hook: Webhook, text: str, *, timeout: float = 10.0, ca_file: str | None = None) -> Posted:
    """Post once, retrying transient failures; never raises for a delivery problem. `ca_file` is the
    config's company CA bundle; without it httpx's own trust applies (SSL_CERT_FILE, certifi)."""
    body = payload(hook, text)
    verify: ssl.SSLContext | bool = ssl.create_default_context(cafile=ca_file) if ca_file else True
    try:
        with httpx.Client(timeout=timeout, verify=verify) as client:
            for attempt in stamina.retry_context(on=_Retry, attempts=3, wait_initial=1.0, wait_max=5.0):
                with attempt:
                    try:
                        answer = client.post(hook.url, json=body)
                    except httpx.TransportError as exc:
                        raise _Retry(type(exc).__name__) from exc
                    if answer.status_code == 429 or answer.status_code >= 500:
                        raise _Retry(f"HTTP {answer.status_code}")
                    if answer.status_code >= 400:
                        return Posted(
                            hook.key, f"the chat service refused the post: HTTP {answer.status_code}"
                        )
    except _Retry as exc:
        return Posted(hook.key, printable(f"gave up after 3 tries: {exc}", 200))
    except httpx.HTTPError as exc:
        return Posted(hook.key, printable(f"cannot post: {type(exc).__name__}", 200))
    return Posted(hook.key)
