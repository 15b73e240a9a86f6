"""`claret-errors analyze PATH...`: the offline half, on job folders already on disk."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from claret_errors.cli.common import common_options, settings_from


@click.command(name="analyze", short_help="Analyse job folders already on disk, without Claret.")
@click.argument(
    "paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path), metavar="PATH..."
)
@click.option("--job-id", help="The job id of a plain folder (default: the folder's name).")
@common_options
@click.pass_context
def command(ctx: click.Context, /, paths: tuple[Path, ...], job_id: str | None, **options: Any) -> int:
    """Analyse job folders without Claret: a folder `fetch` wrote, or one holding the four kinds of CSV
    (named *input*/*untouched*, *staging*, *output*/*final*, *error*).

    A fetched folder gets its results beside its artifacts; a plain folder's go to OUT/<tenant>/<job id>/
    (tenant `local` unless --tenant is given).
    """
    from claret_errors.cli.output import show_run
    from claret_errors.pipeline import analyze

    settings, output = settings_from(ctx, options)
    return show_run(analyze(paths, settings, tenant=settings.tenant, job_id=job_id), output)
