"""Exclusive locks between runs on one machine: an OS file lock (flock) on a lock file, tried without
blocking and tried again, so that a wait can be bounded, reported and cancelled.

The kernel lets go of a lock when its process ends, however it ends: a killed run never leaves a stale lock.
flock does not hold between machines sharing a network file system. Never deletes a lock file (a run
waiting on the old one would then not exclude a run locking a new one). Also the job lock that fetch,
run and analyze take on a job folder; asyncio is imported only by a wait on the event loop, which
`analyze` never makes.
"""

from __future__ import annotations

import fcntl
import logging
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import TracebackType

from claret_errors.errors import WaitTimeoutError

RETRY_EVERY = 0.05  # seconds between tries while another run holds the lock
LOCKS = ".locks"  # in the tenant folder, one lock file a job: one run at a time fetches or analyses a job
JOB_LOCK_WAIT = 10.0  # seconds a run waits for another run on the same job before it gives up (exit 5)
log = logging.getLogger("claret_errors.lock")


class FileLock:
    """One exclusive lock on `path` (made, with its folders, if missing). Each FileLock is its own open
    file, so two of them exclude each other even in one process."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd = -1

    @property
    def held(self) -> bool:
        return self._fd >= 0

    def try_acquire(self) -> bool:
        """Take the lock if no one holds it; OSError if the lock file cannot be made."""
        if self.held:
            return True
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd
        return True

    def acquire(self, wait: float | None, on_wait: Callable[[], None] | None = None) -> bool:
        """Take the lock, waiting at most `wait` seconds (None: as long as it takes); `on_wait` is called
        once if another run holds it. False if it was still held when the wait ran out."""
        for pause in self._pauses(wait, on_wait):
            time.sleep(pause)
        return self.held

    async def acquire_async(self, wait: float | None, on_wait: Callable[[], None] | None = None) -> bool:
        """`acquire` for the event loop: the tries never block it, and a cancel ends the wait."""
        import asyncio

        for pause in self._pauses(wait, on_wait):
            await asyncio.sleep(pause)
        return self.held

    def _pauses(self, wait: float | None, on_wait: Callable[[], None] | None) -> Iterator[float]:
        """Tries the lock, and yields the pause to take before each next try while it is held elsewhere."""
        deadline = None if wait is None else time.monotonic() + wait
        if self.try_acquire():
            return
        if on_wait is not None:
            on_wait()
        while deadline is None or time.monotonic() < deadline:
            yield RETRY_EVERY
            if self.try_acquire():
                return

    def release(self) -> None:
        """Let go (closing the file is what releases an flock); harmless when not held."""
        if self.held:
            fd, self._fd = self._fd, -1
            os.close(fd)

    def __enter__(self) -> FileLock:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()


def job_lock(folder: Path) -> FileLock:
    """The lock a run holds on a job folder while it fetches or analyses the job: beside the folder, so
    that taking it creates nothing in a folder a run may never fill (Claret unreachable)."""
    return FileLock(folder.parent / LOCKS / f"{folder.name}.lock")


def job_busy(job_log_id: str, folder: Path) -> WaitTimeoutError:
    """The error of a run that waited for another run on the same job and gave up."""
    return WaitTimeoutError(
        f"job {job_log_id}: another claret-errors run is working on it (in {folder}); "
        f"gave up after waiting {JOB_LOCK_WAIT:g} s and touched nothing; run again once that run is done"
    )


def take_job_lock(folder: Path, job_log_id: str) -> FileLock | None:
    """The job folder's lock, waiting up to JOB_LOCK_WAIT for another run on the job; None if that run
    kept it. OSError if the lock file cannot be made."""
    lock = job_lock(folder)
    return lock if lock.acquire(JOB_LOCK_WAIT, waiting_for(job_log_id, folder)) else None


def waiting_for(job_log_id: str, folder: Path) -> Callable[[], None]:
    """What a run says once when it starts to wait for another run on the same job."""
    return lambda: log.warning(
        "job %s: another claret-errors run is working on it; waiting up to %g s (lock %s)",
        job_log_id,
        JOB_LOCK_WAIT,
        job_lock(folder).path,
    )
