"""Write files so that no reader ever sees half of one: temp file in the same folder, fsync, rename.

Used for every file this tool writes besides streamed downloads (which do the same while streaming).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from claret_errors.jsontext import pretty_json


def _umask() -> int:
    """The process's umask, read once at import (setting and restoring it later would race threads)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


# mkstemp makes files only their owner can read; the reports are for a team, so the mode a plain open()
# would give, as the user's umask says.
FILE_MODE = 0o666 & ~_umask()


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Replace `path` with `data` in one step; the old content stays until the new one is complete."""
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


def atomic_write_text(path: Path, text: str) -> None:
    """UTF-8 text, atomically."""
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: Path, payload: Any) -> None:
    """Pretty JSON, atomically; non-JSON values (paths, dates) become strings."""
    atomic_write_text(path, pretty_json(payload) + "\n")
