"""Exclusive locks between runs on one machine: an OS file lock (flock) on a lock file, tried without
blocking and tried again, so that a wait can be bounded, reported and cancelled.

The kernel lets go of a lock when its process ends, however it ends: a killed run never leaves a stale lock.
flock does not hold between machines sharing a network file system. Never deletes a lock file (a run
waiting on the old one would then not exclude a run locking a new one).
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import TracebackType

RETRY_EVERY = 0.05  # seconds between tries while another run holds the lock


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
