"""Job ids from arguments, a file, or stdin (one per line), checked before any network call."""

from __future__ import annotations

import sys
from pathlib import Path

from claret_errors.errors import UsageError


def collect_job_ids(args: tuple[str, ...], from_file: str | None) -> list[str]:
    """Arguments first, then the file's lines (`-` is stdin); blanks and `#` comments skipped, order kept."""
    raw = list(args)
    if from_file is not None:
        try:
            text = sys.stdin.read() if from_file == "-" else Path(from_file).read_text(encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"{from_file}: cannot read job ids: {exc.strerror}") from exc
        raw += [line.split("#", 1)[0].strip() for line in text.splitlines()]
    ids: list[str] = []
    for item in (r.strip() for r in raw):
        if not item:
            continue
        if not item.isdigit():
            raise UsageError(f"{item!r} is not a job id (Claret's job_log_id is a whole number)")
        if str(int(item)) not in ids:
            ids.append(str(int(item)))
    if not ids:
        raise UsageError("no job ids: give JOB_ID arguments, or --from-file FILE (- for stdin)")
    return ids
