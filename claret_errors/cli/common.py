"""Options shared by the group and every command, merged into Settings (command value wins)."""

from __future__ import annotations

import functools
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar, get_args, get_type_hints

import click

from claret_errors.config import OPTION_KEYS, SCALARS, Settings, load_settings
from claret_errors.files.jsontext import pretty_json
from claret_errors.redact import configure_logging, printable_lines, redact

F = TypeVar("F", bound=Callable[..., Any])


@functools.cache
def _settings_hints() -> dict[str, Any]:
    """Settings' field types, resolved once: each resolution evaluates every annotation again."""
    return get_type_hints(Settings)


def _setting_option(name: str, help_text: str) -> Callable[[F], F]:
    """A common option for a scalar setting, typed as its Settings field is."""
    hint = _settings_hints()[name]
    kind = next(t for t in (get_args(hint) or (hint,)) if t is not type(None))
    click_type: Any = click.Path(path_type=Path) if kind is Path else None if kind is str else kind
    return click.option("--" + name.replace("_", "-"), type=click_type, help=help_text)


def common_options(func: F) -> F:
    """Attach the contract's common options; all default to None so 'not given' is visible."""
    decorators = [
        *(_setting_option(name, SCALARS[name].option_help or "") for name in OPTION_KEYS),
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
    flags = {k: merged.get(k) for k in OPTION_KEYS}
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
