"""`claret-errors fetch JOB_ID...`: wait for the jobs and download their artifacts, nothing more.

Thin: builds settings, picks the display, calls `claret_errors.fetch.fetch`, prints one line per job.
"""

from __future__ import annotations

from typing import Any

import click

from claret_errors.cli.common import common_options, emit_json, say, settings_from


@click.command(name="fetch", short_help="Wait for jobs and download their artifacts only.")
@click.argument("job_ids", nargs=-1, required=True, metavar="JOB_ID...")
@common_options
@click.pass_context
def command(ctx: click.Context, /, job_ids: tuple[str, ...], **options: Any) -> int:
    """Wait for each job to finish and download every artifact into OUT/<tenant>/<job_log_id>/.

    A rerun skips files already complete. Exits with the worst code of the jobs.
    """
    from claret_errors.errors import worst_exit_code
    from claret_errors.fetch import fetch
    from claret_errors.progress import log_retries, make_progress

    settings, output = settings_from(ctx, options)
    log_retries()
    progress = make_progress(as_json=output["as_json"], quiet=output["quiet"])
    with progress:
        outcomes = fetch(job_ids, settings, progress=progress)
    code = int(worst_exit_code([o.exit_code for o in outcomes]))
    if output["as_json"]:
        emit_json(
            {
                "jobs": [
                    {
                        "tenant": o.tenant,
                        "job_log_id": o.job_log_id,
                        "folder": str(o.folder),
                        "status": o.status.status if o.status else None,
                        "job_status_link": o.status.job_status_link if o.status else None,
                        "files": [e.as_json() for e in o.files],
                        "exit_code": o.exit_code,
                        "error": o.error,
                    }
                    for o in outcomes
                ],
                "exit_code": code,
            }
        )
        return code
    for o in outcomes:
        state = o.status.status if o.status else "not fetched"
        line = f"job {o.job_log_id} ({o.tenant}): {state}, {len(o.files)} files in {o.folder}"
        error = (o.error or "").removeprefix(f"job {o.job_log_id}: ")
        say(line if o.error is None else f"{line} [exit {o.exit_code}] {error}")
    return code
