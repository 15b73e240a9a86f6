"""Which rows of a job have since landed in its resubmissions, by each resubmission job's own accounting:
the ledger says which edited file became which job, `edited/rows.json` which of the job's input rows that
file holds and in what order, and the new job's output which of its rows Claret imported.

Reads files only. A row counts as landed only with all three in hand and the new job's input being the very
file sent; anything less leaves the row where it was, still to fix.
"""

from __future__ import annotations

from pathlib import Path

from claret_errors.claret.urls import safe_component
from claret_errors.config import Settings
from claret_errors.errors import ClaretErrorsError
from claret_errors.files.manifest import file_sha256
from claret_errors.load.job import load_job
from claret_errors.reconcile.accounting import imported_rows
from claret_errors.resubmit.ledger import Ledger
from claret_errors.resubmit.worksheet import edited_rows


def landed_later(
    folder: Path, job_log_id: str, settings: Settings, *, seen: frozenset[str] = frozenset()
) -> dict[int, str]:
    """input_row of this job -> the resubmission job that imported it since: the row's own resubmission,
    or, for a row refused there and fixed in that job's worksheet in turn, the one after. ConfigError for a
    damaged ledger; a resubmission job whose folder is missing or unreadable lands nothing."""
    files = edited_rows(folder)
    if not files:
        return {}
    seen = seen | {job_log_id}  # a ledger naming a job as its own resubmission ends here
    landed: dict[int, str] = {}
    for sent in Ledger.open(folder.parent).sent_from(job_log_id):
        rows = files.get(sent.sha256)
        if rows is None or sent.new_job in seen:  # a corrected file: the runner's to-do line covers it
            continue
        new_folder = folder.parent / safe_component(sent.new_job, fallback="job")
        imported = _imported(new_folder, sent.sha256, settings)
        if imported is None:
            continue
        later = landed_later(new_folder, sent.new_job, settings, seen=seen)
        for number, job in {**later, **dict.fromkeys(imported, sent.new_job)}.items():
            if 1 <= number <= len(rows):
                landed[rows[number - 1]] = job
    return landed


def _imported(folder: Path, sha256: str, settings: Settings) -> list[int] | None:
    """The input rows the job in `folder` imported; None unless its input is exactly the file sent."""
    if not folder.is_dir():
        return None
    try:
        job = load_job(folder, settings)
        inputs = job.files.get("input", [])
        if len(inputs) != 1 or file_sha256(inputs[0]) != sha256:
            return None
        return imported_rows(job)
    except (ClaretErrorsError, OSError):
        return None
