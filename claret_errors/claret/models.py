"""Claret's job status document as typed values, parsed strictly where it matters and leniently elsewhere.

Unknown fields are tolerated (kept in `raw`); a missing or mistyped field raises StatusFormatError naming
the field. No I/O here: the client hands in the decoded JSON.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NoReturn

from claret_errors.errors import ClaretUnavailableError
from claret_errors.redact import mask_secrets

TERMINAL_STATUSES = frozenset({"completed", "failed"})
# Claret's answers nest 3 or 4 levels; a deeper one is hostile. Far below what the standard library's
# recursive decoder and pretty-printer survive (a status nested 100,000 deep was a RecursionError).
MAX_JSON_DEPTH = 64


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
    """What Claret says of a job, the one model of it: from the status endpoint while fetching, from
    `status.json` when loading. `raw` is Claret's `content` as received, for `status.json`; a plain folder
    without one has the defaults (status `unknown`, no id)."""

    status: str = "unknown"
    job_log_id: int | None = None
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


class _JsonObject:
    """Typed access to one JSON object; every error names the dotted field path. A lenient reader (for a
    `status.json` on disk, perhaps made by hand) reads a missing or mistyped field as absent instead, and
    takes any scalar as text."""

    def __init__(self, data: Any, where: str, url: str | None, lenient: bool = False) -> None:
        self.where = where
        self.url = url
        self.lenient = lenient
        if not isinstance(data, Mapping):
            if not lenient:
                self.fail(where, "an object", data)
            data = {}
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
            if required and not self.lenient:
                raise StatusFormatError(
                    f"Claret's job status lacks the field {self.where}.{key}", url=self.url
                )
            return None
        return self.data[key]

    def get_int(self, key: str, *, required: bool = False) -> int | None:
        value = self._get(key, required)
        if value is None and (not required or self.lenient):
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            if isinstance(value, str) and value.strip().isdigit():
                return int(value.strip())
            if self.lenient:
                return None
            self.fail(f"{self.where}.{key}", "an integer", value)
        return int(value)

    def get_str(self, key: str, *, required: bool = False) -> str | None:
        value = self._get(key, required)
        if value is None and (not required or self.lenient):
            return None
        if not isinstance(value, str):
            if self.lenient:
                return None if isinstance(value, Mapping | list) else str(value)
            self.fail(f"{self.where}.{key}", "a string", value)
        return str(value)

    def get_obj(self, key: str) -> _JsonObject | None:
        value = self._get(key, False)
        if value is None or (self.lenient and not isinstance(value, Mapping)):
            return None
        return _JsonObject(value, f"{self.where}.{key}", self.url, self.lenient)


def load_json(data: bytes, *, url: str | None = None) -> Any:
    """Claret's JSON answer decoded, nested at most MAX_JSON_DEPTH deep: ValueError when it is not JSON,
    StatusFormatError naming the URL when it nests deeper. The standard library's decoder recurses, so a
    nesting deeper than Python's stack allows is caught as RecursionError."""
    too_deep = StatusFormatError(
        f"Claret's answer nests deeper than {MAX_JSON_DEPTH} levels; refused", url=url
    )
    try:
        value = json.loads(data)
    except RecursionError:
        raise too_deep from None
    level: list[tuple[Any, int]] = [(value, 1)]
    while level:
        item, depth = level.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else ()
        for child in children:
            if isinstance(child, dict | list):
                if depth + 1 > MAX_JSON_DEPTH:
                    raise too_deep
                level.append((child, depth + 1))
    return value


def _files(reader: _JsonObject | None) -> dict[str, tuple[str, ...]]:
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
            if reader.lenient:
                continue
            reader.fail(name, "a list of paths", paths)
        files[str(category)] = tuple(p for p in paths if p)
    return files


def parse_status(body: Any, *, url: str | None = None, lenient: bool = False) -> JobStatus:
    """Turn the status endpoint's JSON body into a JobStatus, or raise StatusFormatError naming the field.

    `lenient` is for `status.json` on disk: the body may be Claret's whole answer or its `content` alone,
    and what is missing or mistyped is left at its default rather than refused.
    """
    top = _JsonObject(body, "body", url, lenient)
    content = top.get_obj("content")
    if content is None:
        if not lenient:
            raise StatusFormatError("Claret's job status lacks the field content", url=url)
        content = _JsonObject(top.data, "content", url, lenient)
    content.where = "content"
    job_log_id = content.get_int("job_log_id", required=True)
    status = content.get_str("status", required=True)
    progress = content.get_obj("progress")
    timestamps = content.get_obj("timestamps")
    return JobStatus(
        job_log_id=job_log_id,
        status=status.strip().lower() if status and status.strip() else "unknown",
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
