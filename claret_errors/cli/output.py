"""How a command shows its result: one plain line per job on stdout, or one JSON object with --json."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from claret_errors.cli.common import emit_json, say

if TYPE_CHECKING:
    from claret_errors.pipeline import RunResult
    from claret_errors.results import JobResult


def job_lines(results: Sequence[JobResult]) -> None:
    """One line per job: counts, exit code and where its report is (or why there is none)."""
    from claret_errors.pipeline import job_line

    for result in results:
        say(job_line(result))


def show_run(run: RunResult, output: dict[str, Any]) -> int:
    """The run's lines and the index, or its JSON summary; returns the run's exit code."""
    if output["as_json"]:
        emit_json(run.summary())
        return run.exit_code
    job_lines(run.results)
    index = next((p for p in run.index_files if p.suffix == ".html"), None)
    if index is not None and not output["quiet"]:
        say(f"index: {index}")
    return run.exit_code
