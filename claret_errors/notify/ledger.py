"""The notification ledger: which message of which night went to whom, so nobody hears twice.

`OUT/<tenant>/notifications.json`, rewritten atomically under an exclusive lock held for the whole
delivery, so two runs at once cannot both send. An entry is written as `sending` before a message goes out
and becomes `sent` after: a crash in between leaves `sending`, which later runs treat as possibly
delivered (never resent silently; `--force` decides).
"""

from __future__ import annotations

import fcntl
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from claret_errors.errors import ArtifactError
from claret_errors.files.atomic import atomic_write_json

FILENAME = "notifications.json"


@dataclass
class Ledger:
    """Entries by (night, key): `{"state": "sending" | "sent", "at": ..., "to": [...]}`."""

    path: Path
    entries: dict[str, dict[str, Any]]

    @staticmethod
    def _id(night: str, key: str) -> str:
        return f"{night} {key}"

    def state(self, night: str, key: str) -> str | None:
        """`sent`, `sending` (outcome unknown) or None (never tried)."""
        entry = self.entries.get(self._id(night, key))
        return str(entry["state"]) if entry else None

    def mark(self, night: str, key: str, state: str, to: tuple[str, ...]) -> None:
        """Record a state and write the ledger to disk before anything else happens."""
        self.entries[self._id(night, key)] = {
            "night": night,
            "key": key,
            "state": state,
            "to": list(to),
            "at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        try:
            atomic_write_json(self.path, {"schema_version": 1, "entries": list(self.entries.values())})
        except OSError as exc:
            raise ArtifactError(
                f"cannot write the notification ledger: {exc.strerror}", file=str(self.path)
            ) from exc


def _read(path: Path) -> dict[str, dict[str, Any]]:
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        entries = data["entries"]
        return {f"{e['night']} {e['key']}": dict(e) for e in entries}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ArtifactError(
            "the notification ledger is unreadable; move it aside to start afresh (nothing will be resent "
            "that it does not record)",
            file=str(path),
        ) from exc


@contextmanager
def locked(folder: Path) -> Iterator[Ledger]:
    """The ledger of a tenant folder, locked for the duration (a second run waits for the first)."""
    folder.mkdir(parents=True, exist_ok=True)
    lock_path = folder / (FILENAME + ".lock")
    with lock_path.open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            path = folder / FILENAME
            yield Ledger(path, _read(path))
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
