"""The Claret API client: typed status models, artifact URL safety, and the async httpx client.

Nothing here prints, exits, or writes outside the destination a caller names.
"""

from claret_errors.claret.client import ClaretClient
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
