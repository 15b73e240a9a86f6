"""Options shared by the group and every command, merged into Settings (command value wins)."""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from claret_errors.config import Settings, load_settings
from claret_errors.files.jsontext import pretty_json
from claret_errors.redact import configure_logging, printable_lines, redact

F = TypeVar("F", bound=Callable[..., Any])

# Options that become settings (the rest steer output only).
SETTING_OPTIONS = (
    "tenant",
    "base_url",
    "out",
    "poll_interval",
    "max_wait",
    "concurrency",
    "owners",
)


def common_options(func: F) -> F:
    """Attach the contract's common options; all default to None so 'not given' is visible."""
    decorators = [
        click.option("--tenant", help="Claret tenant (the first part of every API path)."),
        click.option("--base-url", help="Claret base URL [default: https://plan.claret.app]."),
        click.option("--out", type=click.Path(path_type=Path), help="Output folder [default: reports/]."),
        click.option("--poll-interval", type=float, help="Seconds between status polls [default: 5]."),
        click.option("--max-wait", type=float, help="Seconds to wait for a job [default: 600]."),
        click.option("--concurrency", type=int, help="Requests to Claret at once, all jobs [default: 8]."),
        click.option("--owners", type=click.Path(path_type=Path), help="Owners file (TOML)."),
        click.option(
            "--config",
            "config_file",
            type=click.Path(path_type=Path),
            help="Config file [default: ./claret-errors.toml if present].",
        ),
        click.option(
            "--json",
            "as_json",
            is_flag=True,
            default=None,
            help="Print one JSON summary on stdout and nothing else there.",
        ),
        click.option("--quiet", "-q", is_flag=True, default=None, help="Only warnings and errors."),
        click.option("--debug", is_flag=True, default=None, help="Show tracebacks and debug logs."),
    ]
    for decorator in reversed(decorators):
        func = decorator(func)
    return func


def merged_options(ctx: click.Context, options: dict[str, Any]) -> dict[str, Any]:
    """Group-level options overlaid by the command's own (given) ones."""
    merged: dict[str, Any] = dict(ctx.find_root().obj or {})
    merged.update({k: v for k, v in options.items() if v is not None})
    return merged


def settings_from(ctx: click.Context, options: dict[str, Any]) -> tuple[Settings, dict[str, Any]]:
    """Build Settings from the merged options, set up logging, and return the output flags."""
    merged = merged_options(ctx, options)
    output = {
        "as_json": bool(merged.get("as_json")),
        "quiet": bool(merged.get("quiet")),
        "debug": bool(merged.get("debug")),
    }
    configure_logging(verbose=output["debug"], quiet=output["quiet"] or output["as_json"])
    flags = {k: merged.get(k) for k in SETTING_OPTIONS}
    settings = load_settings(flags, config_file=merged.get("config_file"))
    return settings, output


def say(text: str, *, err: bool = False) -> None:
    """Print text that may hold words from outside (Claret's statuses and messages, file names): each
    line redacted and stripped of control characters, so nothing can drive the terminal."""
    click.echo(printable_lines(text), err=err)


# JSON escapes C0 controls itself; DEL and the C1 range (an 8-bit CSI is U+009B) are escaped here.
_C1 = re.compile("[\x7f-\x9f]")


def emit_json(payload: Any) -> None:
    """The one JSON document on stdout for --json, redacted like everything else we write, with no raw
    control character in it."""
    text = _C1.sub(lambda m: f"\\u{ord(m[0]):04x}", redact(pretty_json(payload)))
    sys.stdout.write(text + "\n")
