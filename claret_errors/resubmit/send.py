"""Resubmission: which corrected files a job folder holds, and sending them to Claret as new imports.

Planning reads only local files and the ledger, so `resubmit` without `--confirm` shows exactly what would be
sent. Sending holds the ledger's lock and records each upload before it starts and again as soon as its
job id is known, so neither a second run at once nor a rerun after an interruption sends a file twice.
Following the new jobs is the pipeline's work.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import shlex
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from claret_errors.config import Settings
from claret_errors.errors import ArtifactError, ClaretErrorsError, UploadUnknownError, UsageError
from claret_errors.files.manifest import file_sha256
from claret_errors.fix.corrections import CORRECTED_DIR, UNACCOUNTED_DIR
from claret_errors.resubmit.ledger import Ledger, Sent
from claret_errors.resubmit.worksheet import EDITED_DIR, edited_rows

if TYPE_CHECKING:  # the HTTP client is made by the caller: `analyze` loads no httpx
    from claret_errors.claret.client import ClaretClient

LOCAL_TENANT = "local"  # the tenant of a plain folder analysed without --tenant


@dataclass(frozen=True)
class Planned:
    """One corrected file and what will become of it."""

    file: Path
    job_folder: Path
    tenant: str
    original_job: str
    sha256: str
    records: int
    sent_before: Sent | None

    def to_json(self) -> dict[str, object]:
        return {
            "file": str(self.file),
            "tenant": self.tenant,
            "original_job": self.original_job,
            "records": self.records,
            "sha256": self.sha256,
            "sent_before_as": self.sent_before.new_job or None if self.sent_before else None,
            "sent_before_state": self.sent_before.state if self.sent_before else None,
        }


@dataclass(frozen=True)
class Uploaded:
    """A corrected file that became a new Claret job in this run."""

    planned: Planned
    new_job: str


@dataclass(frozen=True)
class Unsure:
    """A corrected file sent in this run whose answer was lost: it may or may not be a job in Claret."""

    planned: Planned
    started: str
    error: str


def check_in_claret(base_url: str, tenant: str, file: Path, started: str) -> str:
    """What to do about an upload whose outcome is unknown: look in Claret, then settle it."""
    settle = shlex.join(["claret-errors", "resubmit", str(file), "--sent-as"])
    return (
        f"look in Claret's import list ({base_url.rstrip('/')}/{tenant}) for an inventory import of "
        f"{file.name} started about {started}: if it is there, record it with `{settle} JOB_ID` (which "
        "follows it); if it is not, send the file again with `--confirm --force`"
    )


def _job_of(folder: Path) -> tuple[str, str]:
    """(tenant, job_log_id) from the job's summary.json, which `run` or `analyze` wrote."""
    summary = folder / "summary.json"
    try:
        data = json.loads(summary.read_text(encoding="utf-8"))
        tenant, job = str(data["tenant"]), str(data["job_log_id"])
    except FileNotFoundError:
        raise UsageError(
            f"{folder} holds no summary.json: give a job folder that `claret-errors run` or `analyze` wrote"
        ) from None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ArtifactError(f"cannot read the job's summary ({exc})", file=str(summary)) from None
    return tenant, job


def _corrected_files(path: Path) -> tuple[Path, list[Path]]:
    """The job folder and its corrected files, from a job folder or from one corrected file in it."""
    if path.is_symlink():
        raise UsageError(f"{path} is a symbolic link; give the job folder or the file itself")
    if path.is_file():
        folder = path.resolve().parent.parent
        # unaccounted/ files are sent only when named: a person looked their rows up in Claret first;
        # edited/ ones when their worksheet is
        if (
            path.resolve().parent.name not in (CORRECTED_DIR, UNACCOUNTED_DIR, EDITED_DIR)
            or path.suffix.lower() != ".csv"
        ):
            raise UsageError(
                f"{path} is not a corrected file (expected <job folder>/{CORRECTED_DIR}/*.csv, "
                f"or {UNACCOUNTED_DIR}/*.csv)"
            )
        return folder, [path.resolve()]
    if not path.is_dir():
        raise UsageError(f"no such job folder or corrected file: {path}")
    folder = path.resolve()
    corrected = folder / CORRECTED_DIR
    if corrected.is_symlink():
        raise UsageError(
            f"{corrected} is a symbolic link: refusing to send files from outside the job folder"
        )
    if not corrected.is_dir():
        return folder, []
    files = sorted(
        p for p in corrected.iterdir() if p.suffix.lower() == ".csv" and not p.name.startswith(".")
    )
    links = [p for p in files if p.is_symlink()]
    if links:
        raise UsageError(f"{links[0]} is a symbolic link: refusing to send files from outside the job folder")
    return folder, [p for p in files if p.is_file()]


def count_records(data: bytes, file: Path) -> int:
    """Data records of a corrected CSV (header excluded), counted as a CSV reader sees them."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ArtifactError(f"not UTF-8 ({exc.reason})", file=str(file)) from None
    try:
        return max(sum(1 for _ in csv.reader(io.StringIO(text, newline=""))) - 1, 0)
    except csv.Error as exc:
        raise ArtifactError(f"not a readable CSV ({exc})", file=str(file)) from None


def plan(paths: Sequence[Path], settings: Settings) -> list[Planned]:
    """Every corrected file of the given job folders or files, with the ledger's word on each."""
    planned: list[Planned] = []
    seen: set[Path] = set()
    for path in paths:
        folder, files = _corrected_files(Path(path))
        tenant, job = _job_of(folder)
        if settings.tenant and tenant not in (settings.tenant, LOCAL_TENANT):
            raise UsageError(f"{folder} is a job of tenant {tenant!r}, not of --tenant {settings.tenant!r}")
        ledger = Ledger.open(folder.parent)
        for file in files:
            if file in seen:
                continue
            seen.add(file)
            data = file.read_bytes()
            sha = hashlib.sha256(data).hexdigest()
            planned.append(
                Planned(file, folder, tenant, job, sha, count_records(data, file), ledger.already_sent(sha))
            )
    if not settings.tenant and any(p.tenant == LOCAL_TENANT for p in planned):
        raise UsageError("a folder analysed without a tenant: give --tenant to say where to send its files")
    tenants = {p.tenant for p in planned}
    if len(tenants) > 1:
        raise UsageError(f"the files belong to several tenants ({', '.join(sorted(tenants))}): one at a time")
    return planned


@dataclass
class Sending:
    """What `send` did: the new jobs, and the uploads whose outcome is unknown (sending stopped there)."""

    uploaded: list[Uploaded] = field(default_factory=list)
    unknown: list[Unsure] = field(default_factory=list)
    skipped: dict[Path, Sent] = field(default_factory=dict)  # file -> the earlier upload seen under the lock
    # file -> rows of it another file sent (input row -> as which job): a worksheet's file not sent
    rows_sent: dict[Path, dict[int, str]] = field(default_factory=dict)


async def send(
    planned: Sequence[Planned], settings: Settings, client: ClaretClient, *, force: bool
) -> Sending:
    """Upload each file not sent before (or every one with `force`), under the ledger's lock: an intent
    entry on disk before each upload, the new job id on disk as soon as Claret names it. An upload whose
    answer is lost is marked unknown and ends the sending (Claret is in trouble); a refused one is
    forgotten (nothing was sent) and raised."""
    done = Sending()
    folders: dict[Path, list[Planned]] = {}
    for item in planned:
        folders.setdefault(item.job_folder.parent, []).append(item)
    for tenant_dir, items in folders.items():
        async with Ledger.locked(tenant_dir) as ledger:
            for item in items:
                # The ledger was read under the lock (another run may have sent the file meanwhile), and
                # the bytes hashed are the bytes sent, even if the file changed since the plan was made.
                data = item.file.read_bytes()
                sha = hashlib.sha256(data).hexdigest()
                before = ledger.already_sent(sha)
                if before is not None and not force:
                    done.skipped[item.file] = before
                    continue
                elsewhere = {} if force else _rows_sent_elsewhere(item, sha, ledger)
                if elsewhere:
                    done.rows_sent[item.file] = elsewhere
                    continue
                started = datetime.now(UTC).isoformat(timespec="seconds")
                ledger.begin(Sent(sha, item.file.name, item.original_job, "", started))
                try:
                    new_job = await client.upload_csv(
                        data,
                        item.file.name,
                        allow_record_creation=settings.allow_record_creation,
                        allow_record_update=settings.allow_record_update,
                    )
                except UploadUnknownError as exc:
                    ledger.settle(sha, new_job=None)
                    done.unknown.append(Unsure(item, started, str(exc)))
                    return done
                except ClaretErrorsError:
                    ledger.forget(sha)  # Claret answered no, or was never reached: nothing was sent
                    raise
                # Interrupted mid-upload otherwise (Ctrl-C, a cancel, a kill, a bug): the entry stays
                # `sending`, which every later run reads as unknown.
                ledger.settle(sha, new_job=str(new_job))
                done.uploaded.append(Uploaded(item, str(new_job)))
    return done


def _rows_sent_elsewhere(item: Planned, sha: str, ledger: Ledger) -> dict[int, str]:
    """Rows of an edited file that another edited file of its job has sent (the ledger read under its
    lock, rows.json afresh): two worksheets' files named directly, or two runs at once, send a row once."""
    if item.file.parent.name != EDITED_DIR:
        return {}
    files = edited_rows(item.job_folder)
    mine = set(files.get(sha, ()))
    sent: dict[int, str] = {}
    for other, rows in files.items():
        upload = ledger.already_sent(other) if other != sha else None
        if upload is not None:
            sent.update(dict.fromkeys(sorted(mine.intersection(rows)), upload.new_job or "(outcome unknown)"))
    return sent


async def record_sent_as(item: Planned, new_job: str) -> Sending:
    """Settle an upload whose outcome was unknown: the user found it in Claret as `new_job`. Sends nothing;
    UsageError unless the ledger's latest upload of these bytes is one whose outcome is unknown."""
    async with Ledger.locked(item.job_folder.parent) as ledger:
        sha = file_sha256(item.file)
        before = ledger.already_sent(sha)
        if before is None or not before.outcome_unknown:
            state = f"was sent as job {before.new_job}" if before else "was never sent"
            raise UsageError(
                f"{item.file} {state}: --sent-as settles only an upload whose outcome is unknown"
            )
        ledger.settle(sha, new_job=new_job)
    return Sending(uploaded=[Uploaded(item, new_job)])
