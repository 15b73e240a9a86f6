"""What the user sees while jobs are waited for and downloaded: a live table on a terminal, plain log
lines otherwise, nothing at all with --json or --quiet.

Only ever writes to stderr (stdout belongs to results and --json); never decides anything.
"""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass
from types import TracebackType
from typing import IO, TYPE_CHECKING

from claret_errors.redact import LINE_LIMIT, printable

if TYPE_CHECKING:
    from rich.live import Live
    from rich.table import Table

log = logging.getLogger("claret_errors.fetch")


@dataclass
class JobLine:
    """One job's row of the display."""

    status: str = "waiting"
    step: str = ""
    files: int = 0
    bytes: int = 0
    note: str = ""


class Progress:
    """Receives fetch events; this base shows nothing (the --json and --quiet case)."""

    def __init__(self) -> None:
        self.jobs: dict[str, JobLine] = {}

    def __enter__(self) -> Progress:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        return None

    def _line(self, job: str) -> JobLine:
        return self.jobs.setdefault(job, JobLine())

    def status(self, job: str, status: str, completed: int, total: int) -> None:
        """A status poll answered; Claret's words are shown stripped of control characters."""
        line = self._line(job)
        line.status, line.step = printable(status, 40), f"{completed}/{total}" if total else ""

    def transferred(self, job: str, nbytes: int) -> None:
        """Bytes arrived (negative when a failed attempt's bytes are thrown away)."""
        self._line(job).bytes += nbytes

    def file_done(self, job: str, path: str, nbytes: int, *, skipped: bool) -> None:
        """A file is complete under its final name, or was already complete from an earlier run."""
        self._line(job).files += 1

    def finished(self, job: str, exit_code: int, message: str) -> None:
        """The job is done with, one way or another."""
        self._line(job).note = printable(message, LINE_LIMIT)


class LogProgress(Progress):
    """Plain log lines for logs and pipes: one per status change, per file, per job end."""

    def status(self, job: str, status: str, completed: int, total: int) -> None:
        before = self._line(job).status, self._line(job).step
        super().status(job, status, completed, total)
        if before != (self._line(job).status, self._line(job).step):
            log.info("job %s: %s %s", job, status, self._line(job).step)

    def file_done(self, job: str, path: str, nbytes: int, *, skipped: bool) -> None:
        super().file_done(job, path, nbytes, skipped=skipped)
        done = "already have" if skipped else "downloaded"
        log.info("job %s: %s %s (%d bytes)", job, done, printable(path), nbytes)

    def finished(self, job: str, exit_code: int, message: str) -> None:
        super().finished(job, exit_code, message)
        prefix = f"job {job}: "
        note = self._line(job).note
        (log.info if exit_code == 0 else log.warning)("%s%s", prefix, note.removeprefix(prefix))


class LiveProgress(Progress):
    """A rich live table on the terminal: per job status, step n/m, files and bytes downloaded."""

    def __init__(self, stream: IO[str]) -> None:
        super().__init__()
        from rich.console import Console
        from rich.live import Live

        self._live: Live = Live(
            console=Console(file=stream), refresh_per_second=4, get_renderable=self._table, transient=False
        )

    def __enter__(self) -> Progress:
        self._live.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._live.stop()

    def _table(self) -> Table:
        from rich.table import Table
        from rich.text import Text

        table = Table(box=None, header_style="bold")
        for column in ("job", "status", "step", "files", "downloaded", ""):
            table.add_column(column, justify="right" if column in ("files", "downloaded") else "left")
        for job, line in list(self.jobs.items())[-40:]:
            # Text, not markup: a status like "[link=...]" from Claret is shown as it reads.
            cells = (job, line.status, line.step, str(line.files), _size(line.bytes), line.note[:80])
            table.add_row(*(Text(c) for c in cells))
        if len(self.jobs) > 40:
            table.caption = f"showing the last 40 of {len(self.jobs)} jobs"
        return table


def _size(nbytes: int) -> str:
    """Bytes in a human unit."""
    value, unit = float(max(nbytes, 0)), 0
    while value >= 1024 and unit < 3:
        value, unit = value / 1024, unit + 1
    return f"{int(value)} B" if unit == 0 else f"{value:.1f} {('KB', 'MB', 'GB')[unit - 1]}"


def log_retries() -> None:
    """Route stamina's retry notices into our own redacted log, one plain line each, instead of its logger."""
    from stamina.instrumentation import RetryDetails, set_on_retry_hooks

    def hook(details: RetryDetails) -> None:
        cause = details.caused_by
        log.info(
            "retry %d in %.1f s after %s: %s",
            details.retry_num,
            details.wait_for,
            type(cause).__name__,
            cause,
        )

    set_on_retry_hooks([hook])


def make_progress(*, as_json: bool, quiet: bool, stream: IO[str] | None = None) -> Progress:
    """Silent for --json/--quiet, a live table when stderr is a terminal, log lines otherwise."""
    if as_json or quiet:
        return Progress()
    stream = sys.stderr if stream is None else stream
    return LiveProgress(stream) if stream.isatty() else LogProgress()
