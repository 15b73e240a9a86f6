"""Write files so that no reader ever sees half of one: temp file in the same folder, fsync, rename,
and the folder fsynced so that the new name, too, survives a power cut. Every byte passes redaction
here, so no report, CSV, JSON or ledger holds a registered secret, even one Claret echoed back.

Used for every file this tool writes besides streamed downloads (which do the same while streaming, and
whose folders fetch syncs once per job).
"""

from __future__ import annotations

import errno
import os
import tempfile
from pathlib import Path
from typing import Any

from claret_errors.files.jsontext import pretty_json
from claret_errors.redact import redact_bytes


def _umask() -> int:
    """The process's umask, read once at import (setting and restoring it later would race threads)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


# mkstemp makes files only their owner can read; the reports are for a team, so the mode a plain open()
# would give, as the user's umask says.
FILE_MODE = 0o666 & ~_umask()


def fsync_dir(folder: Path) -> None:
    """Make the names in `folder` durable: a rename is on disk only once its directory is.

    A file system that cannot sync a directory (EINVAL, as some network ones answer) has nothing to flush.
    """
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    except OSError as exc:
        if exc.errno not in (errno.EINVAL, errno.ENOTSUP):
            raise
    finally:
        os.close(fd)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Replace `path` with `data`, secrets masked, in one step; the old content stays until the new one
    is complete."""
    data = redact_bytes(data)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        os.fchmod(fd, FILE_MODE)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


def atomic_write_text(path: Path, text: str) -> None:
    """UTF-8 text, atomically."""
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: Path, payload: Any) -> None:
    """Pretty JSON, atomically; non-JSON values (paths, dates) become strings."""
    atomic_write_text(path, pretty_json(payload) + "\n")
