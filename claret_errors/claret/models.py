"""Claret's job status document as typed values, parsed strictly where it matters and leniently elsewhere.

Unknown fields are tolerated (kept in `raw`); a missing or mistyped field raises StatusFormatError naming
the field. No I/O here: the client hands in the decoded JSON.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NoReturn

from claret_errors.errors import ClaretUnavailableError
from claret_errors.redact import mask_secrets

TERMINAL_STATUSES = frozenset({"completed", "failed"})


class StatusFormatError(ClaretUnavailableError):
    """Claret answered, but the status document lacks a field we need or holds the wrong type."""


@dataclass(frozen=True)
class JobProgress:
    """Where the job is: `completed_steps` of `total_steps`, and the step running now (None when done)."""

    completed_steps: int = 0
    total_steps: int = 0
    current_step: str | None = None


@dataclass(frozen=True)
class JobStatus:
    """One answer of the status endpoint; `raw` is Claret's `content` as received, for `status.json`."""

    job_log_id: int
    status: str
    type: str = ""
    description: str = ""
    progress: JobProgress = field(default_factory=JobProgress)
    files: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    job_status_link: str | None = None
    started_at: str | None = None
    completed_at: str | None = None
    user_id: int | None = None
    raw: Mapping[str, Any] = field(default_factory=dict)

    @property
    def finished(self) -> bool:
        """`completed` and `failed` are the only statuses after which nothing changes."""
        return self.status in TERMINAL_STATUSES


@dataclass(frozen=True)
class ManifestEntry:
    """One downloaded file: its source, its path relative to the job folder, its size and hash."""

    category: str
    source: str
    path: str
    bytes: int
    sha256: str

    def as_json(self) -> dict[str, Any]:
        return {
            "category": self.category,
            "source": self.source,
            "path": self.path,
            "bytes": self.bytes,
            "sha256": self.sha256,
        }


class _Reader:
    """Typed access to one JSON object; every error names the dotted field path."""

    def __init__(self, data: Any, where: str, url: str | None) -> None:
        self.where = where
        self.url = url
        if not isinstance(data, Mapping):
            self.fail(where, "an object", data)
        self.data: Mapping[str, Any] = data

    def fail(self, name: str, expected: str, value: Any) -> NoReturn:
        plain = isinstance(value, str | int | float | bool)
        shown = (
            repr(mask_secrets(value) if isinstance(value, str) else value)[:60]
            if plain
            else type(value).__name__
        )
        raise StatusFormatError(
            f"Claret's job status has a bad field {name}: expected {expected}, got {shown}", url=self.url
        )

    def _get(self, key: str, required: bool) -> Any:
        if key not in self.data:
            if required:
                raise StatusFormatError(
                    f"Claret's job status lacks the field {self.where}.{key}", url=self.url
                )
            return None
        return self.data[key]

    def get_int(self, key: str, *, required: bool = False) -> int | None:
        value = self._get(key, required)
        if value is None and not required:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            if isinstance(value, str) and value.strip().isdigit():
                return int(value.strip())
            self.fail(f"{self.where}.{key}", "an integer", value)
        return int(value)

    def get_str(self, key: str, *, required: bool = False) -> str | None:
        value = self._get(key, required)
        if value is None and not required:
            return None
        if not isinstance(value, str):
            self.fail(f"{self.where}.{key}", "a string", value)
        return str(value)

    def get_obj(self, key: str) -> _Reader | None:
        value = self._get(key, False)
        return None if value is None else _Reader(value, f"{self.where}.{key}", self.url)


def _files(reader: _Reader | None) -> dict[str, tuple[str, ...]]:
    """Each category is a list of relative paths; a lone string is taken as a list of one."""
    if reader is None:
        return {}
    files: dict[str, tuple[str, ...]] = {}
    for category, paths in reader.data.items():
        name = f"{reader.where}.{category}"
        if paths is None:
            continue
        if isinstance(paths, str):
            paths = [paths]
        if not isinstance(paths, list) or not all(isinstance(p, str) for p in paths):
            reader.fail(name, "a list of paths", paths)
        files[str(category)] = tuple(p for p in paths if p)
    return files


def parse_status(body: Any, *, url: str | None = None) -> JobStatus:
    """Turn the status endpoint's JSON body into a JobStatus, or raise StatusFormatError naming the field."""
    top = _Reader(body, "body", url)
    content = top.get_obj("content")
    if content is None:
        raise StatusFormatError("Claret's job status lacks the field content", url=url)
    content.where = "content"
    job_log_id = content.get_int("job_log_id", required=True)
    status = content.get_str("status", required=True)
    assert job_log_id is not None and status is not None  # required fields never come back None
    progress = content.get_obj("progress")
    timestamps = content.get_obj("timestamps")
    return JobStatus(
        job_log_id=job_log_id,
        status=status.strip().lower(),
        type=content.get_str("type") or "",
        description=content.get_str("description") or "",
        progress=JobProgress(
            completed_steps=(progress.get_int("completed_steps") or 0) if progress else 0,
            total_steps=(progress.get_int("total_steps") or 0) if progress else 0,
            current_step=progress.get_str("current_step") if progress else None,
        ),
        files=_files(content.get_obj("files")),
        job_status_link=content.get_str("job_status_link"),
        started_at=timestamps.get_str("started_at") if timestamps else None,
        completed_at=timestamps.get_str("completed_at") if timestamps else None,
        user_id=content.get_int("user_id"),
        raw=dict(content.data),
    )
