"""`claret-errors run JOB_ID...`: the nightly command: fetch, analyse, fix and report every job."""

from __future__ import annotations

from typing import Any

import click

from claret_errors.cli.common import common_options, settings_from


@click.command(name="run", short_help="Fetch, analyse, fix and report jobs: the nightly command.")
@click.argument("job_ids", nargs=-1, metavar="[JOB_ID]...")
@click.option("--from-file", metavar="FILE", help="Also read job ids from FILE, one per line (- for stdin).")
@common_options
@click.pass_context
def command(ctx: click.Context, /, job_ids: tuple[str, ...], from_file: str | None, **options: Any) -> int:
    """Wait for each job, download its files, account for every row, explain every failure, write corrected
    CSVs and reports into OUT/<tenant>/<job_log_id>/, and the run index into OUT/<tenant>/.

    A rerun resumes from what is on disk. Exits with the worst code of the jobs (see --help of the tool).
    """
    from claret_errors.cli.jobids import collect_job_ids
    from claret_errors.cli.output import show_run
    from claret_errors.pipeline import run
    from claret_errors.progress import log_retries, make_progress

    ids = collect_job_ids(job_ids, from_file)
    settings, output = settings_from(ctx, options)
    log_retries()
    progress = make_progress(as_json=output["as_json"], quiet=output["quiet"])
    with progress:
        result = run(ids, settings, progress=progress)
    return show_run(result, output)
