"""The resubmission ledger: which corrected file was sent as which new job, so nothing is sent twice.

One JSON file per tenant folder, `resubmissions.json`, rewritten atomically (and synced) at each change,
only while holding the lock file beside it. An upload is recorded as `sending` before it starts, as `sent`
with the new job id as soon as Claret names it, and as `unknown` when its answer is lost: an upload whose
outcome is unknown is never repeated without `--force`. A `sending` entry seen under the lock was left by
a run that ended mid-upload, so it is unknown too. The ledger also answers which jobs are linked, so both
the original's and the resubmitted job's reports show the link on every later run.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from claret_errors.errors import ArtifactError, ConfigError
from claret_errors.files.atomic import atomic_write_json
from claret_errors.files.lock import FileLock
from claret_errors.results import JobLink

LEDGER_NAME = "resubmissions.json"
LOCK_NAME = LEDGER_NAME + ".lock"
STATES = ("sending", "sent", "unknown")
log = logging.getLogger("claret_errors.resubmit")


@dataclass(frozen=True)
class Sent:
    """One upload of a corrected file: `sent` as `new_job`, or `sending`/`unknown` with no job id known."""

    sha256: str
    file: str
    original_job: str
    new_job: str
    sent_at: str  # when the upload started
    state: str = "sent"

    @property
    def outcome_unknown(self) -> bool:
        return self.state != "sent"


def _entry(raw: dict[str, object]) -> Sent:
    values = {k: str(raw[k]) for k in Sent.__dataclass_fields__ if k != "state"}
    state = str(raw.get("state", "sent"))  # ledgers from before the states knew only sent files
    if state not in STATES:
        raise ValueError(f"unknown state {state!r}")
    return Sent(**values, state=state)


class Ledger:
    """The entries as last read; only a ledger from `locked` is changed (begin, settle, forget)."""

    def __init__(self, tenant: str, path: Path, entries: list[Sent]) -> None:
        self.tenant = tenant
        self.path = path
        self._entries = entries

    @classmethod
    def open(cls, tenant_dir: Path) -> Ledger:
        """Read-only: for the plan and the links. ConfigError names a damaged ledger."""
        path = tenant_dir / LEDGER_NAME
        entries: list[Sent] = []
        if path.is_file():
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
                entries = [_entry(e) for e in data["sent"]]
            except (ValueError, KeyError, TypeError, AttributeError) as exc:
                raise ConfigError(
                    f"the resubmission ledger is damaged ({exc}); move it aside to start a new one",
                    file=str(path),
                ) from exc
        return cls(tenant_dir.name, path, entries)

    @classmethod
    @asynccontextmanager
    async def locked(cls, tenant_dir: Path) -> AsyncIterator[Ledger]:
        """The ledger read afresh under its lock, held until the block ends: a second resubmit of the same
        tenant folder waits here until the first is done sending, then sees what it sent."""
        lock = FileLock(tenant_dir / LOCK_NAME)
        try:
            await lock.acquire_async(
                None,
                lambda: log.warning(
                    "another resubmit is sending files of %s; waiting for it to finish (lock %s)",
                    tenant_dir,
                    lock.path,
                ),
            )
        except OSError as exc:
            raise ArtifactError(
                f"cannot make the ledger's lock file: {exc.strerror or exc}", file=str(lock.path)
            ) from exc
        try:
            yield cls.open(tenant_dir)
        finally:
            lock.release()

    def already_sent(self, sha256: str) -> Sent | None:
        """The latest upload of exactly this content (sent, or with its outcome unknown), if any."""
        return next((e for e in reversed(self._entries) if e.sha256 == sha256), None)

    def unknown(self) -> list[Sent]:
        """Uploads whose outcome is unknown and that no later upload of the same content settled."""
        return [e for e in self._entries if e.outcome_unknown and self.already_sent(e.sha256) is e]

    def unknown_from(self, job_log_id: str) -> list[Sent]:
        """The uploads of this job's files whose outcome is unknown (and that no later upload settled)."""
        return [e for e in self.unknown() if e.original_job == job_log_id]

    def begin(self, entry: Sent) -> None:
        """Record an upload about to start (`sending`), on disk before it starts."""
        self._entries.append(replace(entry, new_job="", state="sending"))
        self._save(f"cannot record that {entry.file} is about to be sent; nothing was sent")

    def settle(self, sha256: str, *, new_job: str | None) -> None:
        """The upload in flight for this content: `sent` as `new_job`, or `unknown` with None."""
        index = max(i for i, e in enumerate(self._entries) if e.sha256 == sha256)
        entry = self._entries[index]
        state = "sent" if new_job is not None else "unknown"
        self._entries[index] = replace(entry, new_job=new_job or "", state=state)
        if new_job is not None:
            what = f"{entry.file} was sent as job {new_job}, but the ledger cannot record it"
        else:
            what = f"cannot record that the outcome of sending {entry.file} is unknown"
        self._save(f"{what}; it says the upload's outcome is unknown, and it will not be sent again")

    def forget(self, sha256: str) -> None:
        """Drop the upload in flight for this content: Claret refused it, so nothing was sent."""
        index = max(i for i, e in enumerate(self._entries) if e.sha256 == sha256)
        entry = self._entries.pop(index)
        self._save(f"{entry.file} was refused by Claret, but the ledger still says it may have been sent")

    def _save(self, failure: str) -> None:
        try:
            atomic_write_json(self.path, {"sent": [asdict(e) for e in self._entries]})
        except OSError as exc:
            raise ArtifactError(f"{failure}: {exc.strerror or exc}", file=str(self.path)) from exc

    def sent_from(self, job_log_id: str) -> list[Sent]:
        """The uploads of this job's files that became jobs, oldest first."""
        return [e for e in self._entries if e.state == "sent" and e.original_job == job_log_id]

    def links_for(self, job_log_id: str) -> list[JobLink]:
        """Links from this job to its resubmissions, and back to the job it resubmitted."""
        links: list[JobLink] = []
        for e in self._entries:
            if e.state != "sent":
                continue
            if e.original_job == job_log_id:
                links.append(JobLink("resubmitted_as", self.tenant, e.new_job, e.file))
            if e.new_job == job_log_id:
                links.append(JobLink("resubmission_of", self.tenant, e.original_job, e.file))
        return links
