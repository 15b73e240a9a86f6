"""`claret-errors run JOB_ID...`: the nightly command: fetch, analyse, fix and report every job."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from claret_errors.cli.common import common_options, settings_from

if TYPE_CHECKING:
    from claret_errors.config import Settings
    from claret_errors.pipeline import RunResult


@click.command(name="run", short_help="Fetch, analyse, fix and report jobs: the nightly command.")
@click.argument("job_ids", nargs=-1, metavar="[JOB_ID]...")
@click.option("--from-file", metavar="FILE", help="Also read job ids from FILE, one per line (- for stdin).")
@click.option(
    "--notify", "notify_owners", is_flag=True, help="Then write each owner's e-mail (see `notify`)."
)
@click.option("--confirm", is_flag=True, help="With --notify: send the e-mail and chat posts.")
@common_options
@click.pass_context
def command(
    ctx: click.Context,
    /,
    job_ids: tuple[str, ...],
    from_file: str | None,
    notify_owners: bool,
    confirm: bool,
    **options: Any,
) -> int:
    """Wait for each job, download its files, account for every row, explain every failure, write corrected
    CSVs and reports into OUT/<tenant>/<job_log_id>/, and the run index into OUT/<tenant>/.

    A rerun resumes from what is on disk. Exits with the worst code of the jobs (see --help of the tool).
    With --notify, each owner's message for the night is then written (and with --confirm sent).
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
    if not notify_owners:
        if confirm:
            raise click.UsageError("--confirm belongs with --notify (it sends the e-mail)")
        return show_run(result, output)
    return _run_and_notify(result, settings, output, confirm)


def _run_and_notify(result: RunResult, settings: Settings, output: dict[str, Any], confirm: bool) -> int:
    """The run's lines, then the night's messages; the worse of the two codes."""
    from claret_errors.cli.notify import show_notify
    from claret_errors.cli.output import show_run
    from claret_errors.errors import worst_exit_code
    from claret_errors.notify.deliver import notify
    from claret_errors.notify.shares import night_jobs

    folders = [r.folder for r in result.results if (r.folder / "summary.json").is_file()]
    if not folders:
        return show_run(result, output)
    night, _ = night_jobs(folders)
    sent = notify([folders[0].parent], settings, confirm=confirm, night=night)
    if output["as_json"]:
        from claret_errors.cli.common import emit_json

        code = int(worst_exit_code([result.exit_code, sent.exit_code]))
        emit_json({**result.summary(), "messages": sent.summary(), "exit_code": code})
        return code
    run_code = show_run(result, output)
    return int(worst_exit_code([run_code, show_notify(sent, output)]))
