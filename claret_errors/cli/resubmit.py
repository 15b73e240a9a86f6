"""`claret-errors resubmit PATH...`: send a job's corrected CSVs, or the rows a person fixed in its worksheet,
as new imports and follow them to the end."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from claret_errors.cli.common import common_options, emit_json, say, settings_from

if TYPE_CHECKING:
    from claret_errors.resubmit.worksheet import WorksheetCheck


@click.command(name="resubmit", short_help="Send corrected CSVs or edited worksheets as new imports.")
@click.argument(
    "paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path), metavar="PATH..."
)
@click.option("--confirm", is_flag=True, help="Send the files (without it, only show what would be sent).")
@click.option(
    "--force",
    is_flag=True,
    help="Send files (or worksheet rows) again that the ledger says were sent before.",
)
@click.option(
    "--sent-as",
    metavar="JOB_ID",
    help="Record that the one corrected file given, whose upload's outcome is unknown, is this job in "
    "Claret (found in its import list), and follow it; sends nothing.",
)
@common_options
@click.pass_context
def command(
    ctx: click.Context,
    /,
    paths: tuple[Path, ...],
    confirm: bool,
    force: bool,
    sent_as: str | None,
    **options: Any,
) -> int:
    """Upload the corrected files of job folders (or single corrected files) as new Claret imports, wait for
    the new jobs, analyse them, and link them with the originals in both reports.

    A PATH may be a worksheet a person edited (needs_attention.xlsx, owners/<owner>.xlsx, or the
    needs_attention.csv): only the rows they changed are sent, each checked first; rows still wrong are
    listed by cell (exit 3), rows sent before are not sent again without --force.

    Creation and update flags come from the config ([import] allow_record_creation, allow_record_update).
    The ledger OUT/<tenant>/resubmissions.json refuses to send the same file twice unless --force, and
    holds back a file whose earlier upload has an unknown outcome (its answer was lost), with exit 7, until
    you have checked Claret's import list: --sent-as JOB_ID if it is there, --force if not.
    """
    from claret_errors.cli.output import job_lines
    from claret_errors.pipeline import resubmit
    from claret_errors.progress import log_retries, make_progress

    settings, output = settings_from(ctx, options)
    log_retries()
    following = confirm or sent_as is not None
    progress = make_progress(as_json=output["as_json"], quiet=output["quiet"] or not following)
    with progress:
        result = resubmit(paths, settings, confirm=confirm, force=force, progress=progress, sent_as=sent_as)
    if output["as_json"]:
        emit_json(result.summary())
        return result.exit_code
    for sheet in result.worksheets:
        worksheet_lines(sheet)
    sent = {u.planned.file: u.new_job for u in result.uploaded}
    lost = {u.planned.file: u for u in result.unknown}
    for item in result.planned:
        before = result.before(item)
        if item.file in sent:
            state = f"{'recorded' if sent_as else 'sent'} as job {sent[item.file]}"
        elif item.file in result.rows_sent:
            rows = result.rows_sent[item.file]
            said = ", ".join(f"input row {n} was sent as job {j}" for n, j in sorted(rows.items()))
            state = f"not sent: {said} in another file; give its worksheet again to send the rest"
        elif item.file in lost:
            unsure = lost[item.file]
            state = f"OUTCOME UNKNOWN ({unsure.error}); {result.check_advice(item, unsure.started)}"
        elif before and before.outcome_unknown and not force:
            state = (
                f"not sent: an earlier upload (started {before.sent_at}) has an unknown outcome; "
                + result.check_advice(item, before.sent_at)
            )
        elif before and not force:
            state = f"skipped: sent before as job {before.new_job} (--force sends it again)"
        elif confirm and result.unknown:
            state = "not sent: sending stopped at an upload whose outcome is unknown"
        else:
            earlier = ""
            if before:
                earlier = (
                    f", sent before as job {before.new_job}" if before.new_job else ", outcome unknown before"
                )
            state = "would be sent" + earlier
        say(f"{item.file} ({item.records} records, from job {item.original_job}): {state}")
    if not result.planned and result.worksheets:
        click.echo("nothing to send: no changed row of the worksheets is ready")
    elif not result.planned:
        click.echo("nothing to send: the folders hold no corrected files")
    elif not following:
        click.echo("nothing was sent; add --confirm to send")
    if result.new_jobs is not None:
        job_lines(result.new_jobs.results)
        job_lines(result.originals)
    return result.exit_code


def worksheet_lines(sheet: WorksheetCheck) -> None:
    """What an edited worksheet holds: the counts, each cell still wrong and why, what was converted."""
    say(
        f"{sheet.worksheet} (job {sheet.job_log_id}, {sheet.tenant}): {sheet.rows} rows, {sheet.unchanged} "
        f"unchanged (not sent), {len(sheet.ready)} changed and ready, {len(sheet.problems)} cells to fix"
    )
    for note in sheet.notes:
        say(f"  note: {note}")
    for line in sheet.conversions:
        say(f"  converted {line}")
    for problem in sheet.problems:
        click.echo(f"  still invalid: {problem}")
    for number, other in sorted(sheet.also_in.items()):
        say(f"  input row {number} is changed alike in {other}: sent once, from there")
    for number, job in sorted(sheet.sent_before.items()):
        state = "sent again (--force)" if number in sheet.ready else "not sent again without --force"
        say(f"  input row {number} was sent before as job {job}: {state}")
