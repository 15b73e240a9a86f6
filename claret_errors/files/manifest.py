"""manifest.json: each artifact fetch downloaded, with its path in the job folder, size and sha256.

Fetch writes it and reuses the files it still vouches for; analysis checks the files against it, since a
job's artifacts never change once fetched. Reading and checking only: nothing here downloads or judges rows.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from claret_errors.claret.models import ManifestEntry
from claret_errors.files.atomic import atomic_write_json

MANIFEST = "manifest.json"


def file_sha256(path: Path) -> str:
    """The file's sha256, read in 1 MiB chunks so a large artifact costs no memory."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def read_manifest(folder: Path) -> list[ManifestEntry]:
    """The folder's entries; an unreadable or odd manifest counts as none (fetch fetches the files again)."""
    try:
        data: Any = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    return manifest_entries(data)


def manifest_entries(data: Any) -> list[ManifestEntry]:
    """The entries of a parsed manifest.json; none when it is not as fetch writes it (one made by hand may
    list paths alone, which vouch for no content)."""
    try:
        return [
            ManifestEntry(
                str(f["category"]), str(f["source"]), str(f["path"]), int(f["bytes"]), str(f["sha256"])
            )
            for f in data["files"]
        ]
    except (ValueError, KeyError, TypeError):
        return []


def write_manifest(folder: Path, entries: Sequence[ManifestEntry]) -> None:
    atomic_write_json(folder / MANIFEST, {"files": [e.as_json() for e in entries]})


def entry_problem(folder: Path, entry: ManifestEntry) -> str | None:
    """Why the entry's file is not the one fetched (outside `artifacts/`, missing, another size, another
    sha256), or None when it is. The size is compared first: a changed size needs no hashing."""
    path = folder / entry.path
    try:
        if not path.resolve().is_relative_to((folder / "artifacts").resolve()):
            return "listed in manifest.json outside the job's artifacts folder"
        if not path.is_file():
            return "listed in manifest.json but missing"
        size = path.stat().st_size
        if size != entry.bytes:
            return f"{size:,} bytes, where manifest.json records {entry.bytes:,} as fetched"
        if file_sha256(path) != entry.sha256:
            return "its content differs from the file fetched (sha256 in manifest.json)"
    except OSError as exc:
        return f"cannot read file: {exc.strerror or exc}"
    return None


def verify(folder: Path, entry: ManifestEntry) -> bool:
    """True if the entry's file is inside `folder/artifacts` and has exactly the recorded size and hash."""
    return entry_problem(folder, entry) is None
