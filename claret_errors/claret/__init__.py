"""The Claret API client: typed status models, artifact URL safety, and the async httpx client.

Nothing here prints, exits, or writes outside the destination a caller names.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from claret_errors.claret.models import JobProgress, JobStatus, ManifestEntry, StatusFormatError, parse_status
from claret_errors.claret.urls import UnsafeSourceError, local_name, resolve_source, safe_component

__all__ = [
    "ClaretClient",
    "JobProgress",
    "JobStatus",
    "ManifestEntry",
    "StatusFormatError",
    "UnsafeSourceError",
    "local_name",
    "parse_status",
    "resolve_source",
    "safe_component",
]


def __getattr__(name: str) -> Any:
    """ClaretClient on first use: it brings httpx and stamina, which the offline stages never need."""
    if name == "ClaretClient":
        from claret_errors.claret.client import ClaretClient

        return ClaretClient
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


if TYPE_CHECKING:
    from claret_errors.claret.client import ClaretClient
