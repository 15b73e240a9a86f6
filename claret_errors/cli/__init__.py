"""The command line: parse, call the library function of the same name, turn errors into exit codes.

The one catch site lives in `main`. Command modules import heavy libraries (polars, httpx) inside their
functions so that `claret-errors --help` starts fast.
"""

from __future__ import annotations

import importlib
import logging
import sys
from collections.abc import Sequence

import click

from claret_errors import __version__
from claret_errors.cli.common import common_options, say
from claret_errors.errors import ClaretErrorsError, ExitCode, is_bug

log = logging.getLogger("claret_errors")

# Each module defines `command`, a click command added to the group (one line per command).
COMMAND_MODULES = ("run", "fetch", "analyze", "resubmit", "explain", "notify", "demo", "simulate", "config")


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, "--version", prog_name="claret-errors")
@common_options
@click.pass_context
def cli(ctx: click.Context, /, **options: object) -> None:
    """Account for every row of a Claret import, explain every failure, correct what can be.

    Credentials come from the environment only: CLARET_TOKEN, or CLARET_EMAIL and CLARET_PASSWORD.
    Exit codes: 0 all landed, 2 usage/config, 3 records failed, 4 job failed, 5 gave up waiting,
    6 auth refused, 7 Claret unreachable or job not found, 8 unreadable artifacts, 9 a message not
    delivered (notify), 1 a bug.
    """
    ctx.obj = dict(options)


for _name in COMMAND_MODULES:
    cli.add_command(importlib.import_module(f"claret_errors.cli.{_name}").command)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI and return its exit code; every expected error becomes a message and a code."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    try:
        result = cli.main(args=args, prog_name="claret-errors", standalone_mode=False)
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        return int(ExitCode.USAGE)
    except click.exceptions.Abort:
        click.echo("Interrupted.", err=True)
        return int(ExitCode.INTERRUPTED)
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        return int(ExitCode.INTERRUPTED)
    except ClaretErrorsError as exc:
        if debug:
            log.exception("traceback (--debug)")
        say(f"Error: {exc}", err=True)
        if exc.hint:
            say(exc.hint, err=True)
        return int(exc.exit_code)
    except BaseException as exc:
        if not is_bug(exc):
            raise
        if debug:
            log.exception("traceback (--debug)")
        say(f"Internal error (a bug in claret-errors): {type(exc).__name__}: {exc}", err=True)
        click.echo("Run again with --debug for the traceback, and report it.", err=True)
        return int(ExitCode.BUG)
    return int(result or 0)


def run_main() -> None:
    """Console-script entry point."""
    sys.exit(main())
