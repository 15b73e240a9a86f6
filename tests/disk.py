"""What a disk does that a test cannot cause on purpose, played by a stand-in: a helper module for
test_atomic.py and test_fetch_sim.py, not a test file."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest


class SyncSpy:
    """Records the directories os.fsync is given (as device and inode): a power cut, which would show
    whether a rename survived, is the one thing these tests cannot produce."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, fail_dirs_with: int | None = None) -> None:
        self.dirs: list[tuple[int, int]] = []
        self._fsync = os.fsync
        self._fail = fail_dirs_with
        monkeypatch.setattr(os, "fsync", self)

    def __call__(self, fd: int) -> None:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            self.dirs.append((info.st_dev, info.st_ino))
            if self._fail is not None:
                raise OSError(self._fail, os.strerror(self._fail))
        self._fsync(fd)

    def synced(self, folder: Path) -> bool:
        info = folder.stat()
        return (info.st_dev, info.st_ino) in self.dirs
