"""`claret-errors config show`: the effective settings and where each came from."""

from __future__ import annotations

from typing import Any

import click

from claret_errors.cli.common import common_options, emit_json, settings_from


@click.group(name="config")
def command() -> None:
    """Inspect the effective configuration."""


@command.command(name="show")
@common_options
@click.pass_context
def show(ctx: click.Context, /, **options: Any) -> int:
    """Print every setting, its value (secrets masked) and its source: flag, env, file or default."""
    settings, output = settings_from(ctx, options)
    rows = settings.shown()
    if output["as_json"]:
        emit_json({name: {"value": value, "source": source} for name, value, source in rows})
        return 0
    width = max(len(name) for name, _, _ in rows)
    for name, value, source in rows:
        click.echo(f"{name.ljust(width)}  {value or '-'}  ({source})")
    return 0
