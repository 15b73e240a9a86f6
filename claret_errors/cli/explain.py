"""`claret-errors explain "MESSAGE"`: which rule (or guess) classifies a message, and how to add your own."""

from __future__ import annotations

from typing import Any

import click

from claret_errors.cli.common import common_options, emit_json, say, settings_from


@click.command(name="explain")
@click.argument("message")
@common_options
@click.pass_context
def command(ctx: click.Context, /, message: str, **options: Any) -> int:
    """Show how MESSAGE is classified: the rule that matched (or why it was guessed), the field, the
    category, the advice, and a [[rules]] entry to paste into claret-errors.toml for your own wording.

    Your config's rules are tried first, as in a run (--config).
    """
    from claret_errors.reconcile.explain import explain

    settings, output = settings_from(ctx, options)
    found = explain(message, settings)
    if output["as_json"]:
        emit_json(found.as_json())
        return 0
    if found.rule:
        rule = found.rule
        if found.versions:
            rule += f" (Laravel {', '.join(found.versions)}'s default wording)"
        if found.origin != "built-in":
            rule += f" from {found.origin}"
        if found.also:
            rule += f"; Laravel words {', '.join(found.also)} the same"
    elif found.confidence == "guessed":
        rule = f"none; guessed: {found.reason}"
    else:
        rule = f"none: {found.reason}"
    fix = found.fix
    if found.confidence == "guessed":
        fix += " (nothing is fixed automatically on a guess)"
    lines = [
        f"message:   {found.text}",
        f"rule:      {rule}",
        f"category:  {found.category}",
        f"field:     {found.field or '-'}",
        f"fix:       {fix}",
        f"advice:    {found.advice}",
        "",
        "To read this wording your own way, add to claret-errors.toml (first match wins, yours first):",
        "",
        found.toml.rstrip("\n"),
    ]
    say("\n".join(lines))
    return 0
