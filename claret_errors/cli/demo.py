"""`claret-errors demo`: the whole loop against the built-in simulator; no setup, network or credentials."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from claret_errors.cli.common import emit_json, settings_from


@click.command(name="demo", short_help="The whole loop against a built-in simulated tenant.")
@click.option("--out", type=click.Path(path_type=Path), help="Output folder [default: reports/].")
@click.option("--json", "as_json", is_flag=True, default=None, help="Print one JSON summary on stdout.")
@click.option("--quiet", "-q", is_flag=True, default=None, help="Only the result lines.")
@click.pass_context
def command(ctx: click.Context, /, **options: Any) -> int:
    """Start a simulated Claret tenant on loopback, upload the sample nightly inventory file in 1000-record
    chunks, wait for the jobs, analyse, fix and report them, resubmit the corrected files and follow the
    second round to the end. Everything lands in OUT/demo/; a second demo replaces it.
    """
    from claret_errors.cli.output import job_lines
    from claret_errors.demo import demo
    from claret_errors.progress import make_progress

    settings, output = settings_from(ctx, options)
    progress = make_progress(as_json=output["as_json"], quiet=True)
    result = demo(settings.out, progress=progress)
    if output["as_json"]:
        emit_json(
            {
                "schema_version": 1,
                "uploaded": [{"file": f, "records": n, "job_log_id": j} for f, n, j in result.uploaded],
                "first_round": result.first.summary(),
                "second_round": result.second.summary(),
                "third_round": result.third.summary(),
                "messages": result.messages.summary(),
                "seconds": round(result.seconds, 2),
                "exit_code": result.exit_code,
            }
        )
        return result.exit_code
    total = sum(n for _, n, _ in result.uploaded)
    click.echo(f"Uploaded {total} records in {len(result.uploaded)} imports (Claret takes 1000 at most).")
    click.echo("Round 1: the nightly import")
    job_lines(result.first.results)
    sent = sum(u.planned.records for u in result.second.uploaded)
    click.echo(f"Round 2: {sent} corrected records resubmitted in {len(result.second.uploaded)} imports")
    if result.second.new_jobs:
        job_lines(result.second.new_jobs.results)
    attention = sum(r.fixes.manual_rows + r.fixes.suggested_rows for r in result.first.results if r.fixes)
    click.echo(f"{attention} rows need a person: see needs_attention.xlsx and owners/ in each job folder.")
    for sheet in result.third.worksheets:
        click.echo(
            f"Round 3: a person fixed {len(sheet.ready)} rows in {sheet.worksheet.name} of job "
            f"{sheet.job_log_id} ({len(sheet.conversions)} values read as meant); "
            f"{len(sheet.problems)} cells still to fix"
        )
        for problem in sheet.problems:
            click.echo(f"  still invalid: {problem}")
    if result.third.new_jobs:
        job_lines(result.third.new_jobs.results)
    rest = sum(w.rows - len(w.ready) for w in result.third.worksheets)
    click.echo(f"{rest} rows of that worksheet wait for their owners, each with its advice in the worksheet.")
    click.echo(f"The e-mail each owner would get (nothing is sent): {result.messages.folder}")
    index = result.tenant_dir / "index.html"
    click.echo(f"Open {index} (done in {result.seconds:.1f} s)")
    return result.exit_code
