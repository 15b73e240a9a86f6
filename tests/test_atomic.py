"""Atomic writes: whole files only, no temporary left behind, and the permissions a plain open() gives."""

from __future__ import annotations

import errno
import subprocess
import sys
from pathlib import Path

import pytest
from disk import SyncSpy

from claret_errors.files.atomic import atomic_write_bytes

_WRITE = """
import os, sys
os.umask(int(sys.argv[2], 8))
from pathlib import Path
from claret_errors.files.atomic import atomic_write_bytes
atomic_write_bytes(Path(sys.argv[1]), b"report")
"""


@pytest.mark.parametrize(("umask", "mode"), [("022", 0o644), ("027", 0o640), ("077", 0o600)])
def test_written_files_follow_the_umask(tmp_path: Path, umask: str, mode: int) -> None:
    """Reports are shared with a team: the file mode is the user's umask's, not mkstemp's owner-only."""
    path = tmp_path / "report.html"
    subprocess.run([sys.executable, "-c", _WRITE, str(path), umask], check=True)
    assert path.stat().st_mode & 0o777 == mode
    assert path.read_bytes() == b"report"


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    """Half-written content never takes the file's name; the temporary goes too."""
    path = tmp_path / "summary.json"
    atomic_write_bytes(path, b"old")
    with pytest.raises(TypeError):
        atomic_write_bytes(path, "not bytes")  # type: ignore[arg-type]
    assert path.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["summary.json"]


def test_the_folder_is_synced_after_the_rename(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without it the new name can vanish in a power cut even though the bytes were synced."""
    spy = SyncSpy(monkeypatch)
    atomic_write_bytes(tmp_path / "sub" / "summary.json", b"{}")
    assert spy.synced(tmp_path / "sub")


def test_a_file_system_that_cannot_sync_a_folder_is_no_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """EINVAL (some network file systems) means nothing to flush; EIO means the write is not safe."""
    SyncSpy(monkeypatch, fail_dirs_with=errno.EINVAL)
    atomic_write_bytes(tmp_path / "a.json", b"{}")
    assert (tmp_path / "a.json").read_bytes() == b"{}"
    monkeypatch.undo()
    SyncSpy(monkeypatch, fail_dirs_with=errno.EIO)
    with pytest.raises(OSError, match="Input/output"):
        atomic_write_bytes(tmp_path / "b.json", b"{}")
