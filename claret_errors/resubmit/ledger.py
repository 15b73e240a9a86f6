"""The resubmission ledger: which corrected file was sent as which new job, so nothing is sent twice.

One JSON file per tenant folder, rewritten atomically. It also answers which jobs are linked, so that both
the original's and the resubmitted job's reports show the link on every later run.
"""

from __future__ import annotations

import json
import threading
from dataclasses import asdict, dataclass
from pathlib import Path

from claret_errors.errors import ConfigError
from claret_errors.files.atomic import atomic_write_json
from claret_errors.results import JobLink

LEDGER_NAME = "resubmissions.json"


@dataclass(frozen=True)
class Sent:
    """One corrected file uploaded as a new job."""

    sha256: str
    file: str
    original_job: str
    new_job: str
    sent_at: str


class Ledger:
    """Read-modify-write under a lock; the file is the truth, reread on open."""

    def __init__(self, tenant: str, path: Path, entries: list[Sent]) -> None:
        self.tenant = tenant
        self.path = path
        self._entries = entries
        self._lock = threading.Lock()

    @classmethod
    def open(cls, tenant_dir: Path) -> Ledger:
        path = tenant_dir / LEDGER_NAME
        entries: list[Sent] = []
        if path.is_file():
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
                entries = [Sent(**{k: str(e[k]) for k in Sent.__dataclass_fields__}) for e in data["sent"]]
            except (ValueError, KeyError, TypeError) as exc:
                raise ConfigError(
                    f"the resubmission ledger is damaged ({exc}); move it aside to start a new one",
                    file=str(path),
                ) from exc
        return cls(tenant_dir.name, path, entries)

    def already_sent(self, sha256: str) -> Sent | None:
        """The earlier upload of exactly this content, if any."""
        return next((e for e in self._entries if e.sha256 == sha256), None)

    def add(self, entry: Sent) -> None:
        with self._lock:
            self._entries.append(entry)
            atomic_write_json(self.path, {"sent": [asdict(e) for e in self._entries]})

    def links_for(self, job_log_id: str) -> list[JobLink]:
        """Links from this job to its resubmissions, and back to the job it resubmitted."""
        links: list[JobLink] = []
        for e in self._entries:
            if e.original_job == job_log_id:
                links.append(JobLink("resubmitted_as", self.tenant, e.new_job, e.file))
            if e.new_job == job_log_id:
                links.append(JobLink("resubmission_of", self.tenant, e.original_job, e.file))
        return links
