"""`claret-errors notify FOLDER...`: each owner's share of a night by e-mail, the digest, the chat summary."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from claret_errors.cli.common import common_options, emit_json, settings_from

if TYPE_CHECKING:
    from claret_errors.notify.deliver import NotifyResult


@click.command(name="notify", short_help="E-mail each owner their share of a night; digest and chat.")
@click.argument(
    "paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path), metavar="FOLDER..."
)
@click.option("--confirm", is_flag=True, help="Send (without it, only write the .eml files it would send).")
@click.option(
    "--force", is_flag=True, help="Send again what the ledger says this night's readers already got."
)
@click.option("--night", metavar="YYYY-MM-DD", help="Which night of a run folder (default: the latest).")
@common_options
@click.pass_context
def command(
    ctx: click.Context,
    /,
    paths: tuple[Path, ...],
    confirm: bool,
    force: bool,
    night: str | None,
    **options: Any,
) -> int:
    """Tell each owner in the owners file's [contacts] what their rows of the night need, send the data
    team the digest ([digest] to) and post the summary to each [[webhook]].

    FOLDER is a job folder or a run folder (OUT/<tenant>/). The messages are written as .eml files into
    OUT/<tenant>/notifications/<night>/; only --confirm sends them, through the config's [smtp] server
    (password from CLARET_SMTP_PASSWORD). Exit 9 when any message could not be delivered.
    """
    from claret_errors.notify.deliver import notify

    settings, output = settings_from(ctx, options)
    result = notify(list(paths), settings, confirm=confirm, force=force, night=night)
    return show_notify(result, output)


def show_notify(result: NotifyResult, output: dict[str, Any]) -> int:
    """One line per message, or the JSON summary; returns the exit code."""
    from claret_errors.redact import printable

    if output["as_json"]:
        emit_json(result.summary())
        return result.exit_code
    for outcome in result.outcomes:
        to = f" to {', '.join(outcome.recipients)}" if outcome.recipients else ""
        detail = f": {outcome.detail}" if outcome.detail else ""
        where = f" ({outcome.file})" if outcome.file else ""
        click.echo(printable(f"{outcome.key}{to}: {outcome.state}{detail}{where}", 2000))
    if not result.confirmed and not output["quiet"]:
        click.echo(f"nothing was sent; the messages are in {result.folder}; add --confirm to send")
    return result.exit_code
