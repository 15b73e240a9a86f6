"""Fetch: wait for Claret jobs and download every artifact of each into its job folder, resumably.

Per job a folder `OUT/<tenant>/<job_log_id>/` with `status.json`, `manifest.json` and `artifacts/<category>/`.
A job's failure is an outcome with its exit code, never an exception that stops the other jobs; nothing here
prints or exits.
"""

from __future__ import annotations

import asyncio
import logging
import re
import shlex
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from claret_errors.claret.models import JobStatus, ManifestEntry, StatusFormatError
from claret_errors.claret.urls import local_name, safe_component
from claret_errors.config import DEFAULT_BASE_URL, Settings
from claret_errors.errors import (
    ClaretErrorsError,
    ClaretUnavailableError,
    ClaretUnreachableError,
    ConfigError,
    ExitCode,
    JobNotFoundError,
    UsageError,
    WaitTimeoutError,
    worst_exit_code,
)
from claret_errors.files import lock as locks
from claret_errors.files.atomic import atomic_write_json
from claret_errors.files.lock import FileLock, job_busy, job_lock, waiting_for
from claret_errors.files.manifest import read_manifest, verify, write_manifest
from claret_errors.progress import Progress
from claret_errors.redact import printable
from claret_errors.results import JobInfo

if TYPE_CHECKING:  # httpx and stamina load only when a client is made: `analyze` needs neither
    from claret_errors.claret.client import ClaretClient

MANIFEST_EVERY = 1.0  # seconds between manifest rewrites while a job's files land
POLL_FAILURES_FORGIVEN = 2  # consecutive failed polls (each already retried) before a job counts as lost
log = logging.getLogger("claret_errors.fetch")
_PARTIAL = re.compile(r"^\..+\.[A-Za-z0-9_]+\.part$")


@dataclass
class FetchOutcome:
    """What became of one job: its folder, its last status, the exit code it contributes, and why."""

    tenant: str
    job_log_id: str
    folder: Path
    status: JobStatus | None
    exit_code: int
    error: str | None
    files: list[ManifestEntry] = field(default_factory=list)
    lock: FileLock | None = None  # the job folder's lock, when the caller is to release it (`fetch_each`)
    locked_out: bool = False  # another run holds the job: nothing in its folder was touched

    def release(self) -> None:
        """Let go of the job folder's lock, if this outcome holds it."""
        if self.lock is not None:
            self.lock.release()
            self.lock = None


def job_info(status: JobStatus, tenant: str) -> JobInfo:
    """The job's facts for the later stages and the reports."""
    return JobInfo(tenant=tenant, job_log_id=str(status.job_log_id), claret=status)


def job_ids_from(values: Sequence[str]) -> list[str]:
    """Job ids as canonical decimal strings, deduplicated in order; UsageError names the first bad one."""
    ids: list[str] = []
    for value in values:
        text = value.strip()
        if not text.isascii() or not text.isdigit() or int(text) == 0:
            raise UsageError(f"not a job id: {printable(value)!r} (job ids are positive whole numbers)")
        if str(int(text)) not in ids:
            ids.append(str(int(text)))
    return ids


def job_folder(settings: Settings, job_log_id: str) -> Path:
    """`OUT/<tenant>/<job_log_id>`, with the tenant made a safe single path component."""
    return settings.out / safe_component(settings.tenant or "", fallback="tenant") / job_log_id


RESUME_WAIT_FACTOR = 4  # a wait that just ran out gives up again at once: the resume waits this much longer


def resume_wait(max_wait: float) -> float:
    """The wait a resume command asks for: several times the one that ran out, never below the default."""
    return max(max_wait * RESUME_WAIT_FACTOR, Settings.max_wait)


def resume_command(settings: Settings, job_log_id: str) -> str:
    """The exact command that picks up the whole work for this job where this run gave up: `run` (which
    fetches what is missing, then analyses), with a wait that does not give up again at once."""
    argv = ["claret-errors", "run", job_log_id, "--tenant", settings.tenant or ""]
    if settings.base_url.rstrip("/") != DEFAULT_BASE_URL:
        argv += ["--base-url", settings.base_url]
    argv += ["--out", str(settings.out), "--max-wait", f"{resume_wait(settings.max_wait):g}"]
    return shlex.join(argv)


def _remove_partials(artifacts: Path) -> None:
    """Temp files an interrupted run left behind: never complete, never under a final name, so removed."""
    if artifacts.is_dir():
        for path in artifacts.glob("*/.*.part"):
            if _PARTIAL.match(path.name) and path.is_file():
                path.unlink(missing_ok=True)


def _reusable(path: str, cat_dir: str) -> bool:
    """An earlier manifest's path is reused only if it is exactly `artifacts/<cat_dir>/<safe name>`."""
    parts = path.split("/")
    return len(parts) == 3 and parts[:2] == ["artifacts", cat_dir] and parts[2] == safe_component(parts[2])


def _earlier_run(
    folder: Path,
) -> tuple[dict[tuple[str, str], ManifestEntry], set[tuple[str, str]]]:
    """In a thread, since it hashes every file an earlier run left (a 1M-row job's are 200 MB): that run's
    manifest entries, and which of them are intact on disk. Its partial files are removed on the way."""
    previous = {(e.category, e.source): e for e in read_manifest(folder)}
    _remove_partials(folder / "artifacts")
    return previous, {key for key, entry in previous.items() if verify(folder, entry)}


@dataclass
class _JobFiles:
    """One job's files while they download: what an earlier run left, what landed now, and the manifest."""

    folder: Path
    status: JobStatus
    previous: dict[tuple[str, str], ManifestEntry]  # the earlier run's manifest
    intact: set[tuple[str, str]]  # which of those are complete on disk
    done: dict[tuple[str, str], ManifestEntry]  # complete now: kept from before, or landed in this run
    pending: set[tuple[str, str]]  # to fetch in this run
    errors: list[ClaretErrorsError] = field(default_factory=list)
    last_save: float | None = None  # when the manifest was last written, once the first file landed

    def entries(self) -> list[ManifestEntry]:
        """The complete files, in the order of the job's status."""
        order = [(c, s) for c, sources in self.status.files.items() for s in sources]
        return [self.done[k] for k in order if k in self.done]

    def save(self) -> None:
        """Entries complete now, plus earlier entries not in this status whose files were intact (this run
        leaves them alone: new names never take an earlier one)."""
        kept = [
            e
            for k, e in self.previous.items()
            if k not in self.done and k not in self.pending and k in self.intact
        ]
        write_manifest(self.folder, [*self.entries(), *kept])

    def landed(self, key: tuple[str, str], entry: ManifestEntry) -> None:
        """A file is under its final name: into the manifest, which is rewritten at most every
        MANIFEST_EVERY seconds. The clock starts with the first file, not with the wait for a slot: a job
        whose files land within a second writes its manifest once, on the way out, even on a busy run."""
        self.done[key] = entry
        now = time.monotonic()
        if self.last_save is None:
            self.last_save = now
        elif now - self.last_save >= MANIFEST_EVERY:
            self.save()
            self.last_save = time.monotonic()


async def _save_last(files: _JobFiles) -> None:
    """The last manifest write, in a thread: every download has ended, so nothing changes `files` any
    more. A cancel can come before the thread has started, which then never runs it: the manifest is
    written here too, so it is on disk before the cancel goes on (two writes of the same manifest, each
    atomic, are harmless)."""
    try:
        await asyncio.to_thread(files.save)
    except asyncio.CancelledError:
        files.save()
        raise


class _Run:
    """One fetch run: the client (which bounds the requests in flight), the display."""

    def __init__(
        self, settings: Settings, client: ClaretClient, progress: Progress, *, keep_locks: bool = False
    ) -> None:
        self.settings = settings
        self.client = client
        self.progress = progress
        self.keep_locks = keep_locks  # each outcome keeps its job's lock, for the caller to release

    @classmethod
    def start(
        cls, settings: Settings, client: ClaretClient, progress: Progress | None, *, keep_locks: bool = False
    ) -> _Run:
        """A run for a tenant; ConfigError without one, before any request."""
        if not settings.tenant:
            raise ConfigError("no tenant: give --tenant or set CLARET_TENANT", key="tenant")
        return cls(settings, client, progress or Progress(), keep_locks=keep_locks)

    async def wait(self, job_id: str, folder: Path, outcome: FetchOutcome) -> JobStatus:
        """Poll until `completed` or `failed`; past --max-wait raise WaitTimeoutError with link and resume."""
        deadline = time.monotonic() + self.settings.max_wait
        last: JobStatus | None = None
        failures = 0
        while True:
            try:
                status = await self.client.status(int(job_id))
            except ClaretUnavailableError as exc:
                # A poll that failed after its retries is forgiven a few times while time remains: a long
                # wait should survive a short outage. Not-found and malformed answers are final at once.
                failures += 1
                # Nothing listening before Claret ever answered is a wrong base URL more often than an outage.
                never = last is None and isinstance(exc, ClaretUnreachableError)
                final = never or isinstance(exc, JobNotFoundError | StatusFormatError)
                if final or failures > POLL_FAILURES_FORGIVEN or time.monotonic() >= deadline:
                    raise
                log.warning("job %s: status poll failed (%s); polling again", job_id, exc)
                await asyncio.sleep(self.settings.poll_interval)
                continue
            failures = 0
            if str(status.job_log_id) != job_id:
                # Results are keyed by the job asked for: an answer about another job is this job's error,
                # and none of it (status.json, files) is kept under this job's name.
                raise ClaretUnavailableError(
                    f"job {job_id}: Claret's status answer is about job {status.job_log_id}, "
                    "not the job asked for; nothing of it was kept (check the job id, or try again later)",
                    url=f"{self.client.api}/imports/status/{job_id}",
                )
            outcome.status = status
            if last is None or status.raw != last.raw:
                # In a thread: an fsync per change of 200 jobs' status held up every other job's requests.
                await asyncio.to_thread(atomic_write_json, folder / "status.json", dict(status.raw))
            last = status
            self.progress.status(
                job_id, status.status, status.progress.completed_steps, status.progress.total_steps
            )
            if status.finished:
                return status
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                link = printable(status.job_status_link or "no job_status_link given")
                step = f", step {status.progress.completed_steps}/{status.progress.total_steps}"
                step = step if status.progress.total_steps else ""
                raise WaitTimeoutError(
                    f"job {job_id}: gave up waiting after {self.settings.max_wait:g} s "
                    f"(last status {printable(status.status)!r}{step}); "
                    f"follow it at {link}; resume with: {resume_command(self.settings, job_id)}"
                )
            await asyncio.sleep(min(self.settings.poll_interval, remaining))

    def plan(
        self,
        job_id: str,
        status: JobStatus,
        previous: dict[tuple[str, str], ManifestEntry],
        intact: set[tuple[str, str]],
    ) -> tuple[dict[tuple[str, str], ManifestEntry], list[tuple[str, str, str]]]:
        """Split the job's files into those already complete (`intact`: verified on disk) and (category,
        source, path) still to fetch.

        A file fetched before keeps its local name; new names never collide with any name given before.
        """
        taken: dict[str, set[str]] = {}
        for entry in previous.values():
            parts = Path(entry.path).parts
            if len(parts) == 3 and parts[0] == "artifacts":
                taken.setdefault(parts[1], set()).add(parts[2])
        done: dict[tuple[str, str], ManifestEntry] = {}
        todo: list[tuple[str, str, str]] = []
        seen: set[tuple[str, str]] = set()
        for category, sources in status.files.items():
            cat_dir = safe_component(category, fallback="other")
            for source in sources:
                key = (category, source)
                if key in seen:
                    continue
                seen.add(key)
                old = previous.get(key)
                if old is not None and key in intact:
                    done[key] = old
                    self.progress.file_done(job_id, old.path, old.bytes, skipped=True)
                elif old is not None and _reusable(old.path, cat_dir):
                    todo.append((category, source, old.path))
                else:
                    name = local_name(source, taken.setdefault(cat_dir, set()))
                    taken[cat_dir].add(name)
                    todo.append((category, source, f"artifacts/{cat_dir}/{name}"))
        return done, todo

    async def download_all(
        self, job_id: str, folder: Path, status: JobStatus
    ) -> tuple[list[ManifestEntry], list[ClaretErrorsError]]:
        """Every file of every category; earlier complete files kept. The manifest is rewritten at most once
        a MANIFEST_EVERY seconds while files land, and always on the way out (done, failed or cancelled):
        a rewrite with its fsync after every small file would wait on the disk once per file."""
        previous, intact = await asyncio.to_thread(_earlier_run, folder)
        done, todo = self.plan(job_id, status, previous, intact)
        files = _JobFiles(folder, status, previous, intact, done, {(c, s) for c, s, _ in todo})
        try:
            await asyncio.gather(*(self.download_one(job_id, files, *item) for item in todo))
        except BaseException:
            files.save()  # also when cancelled, at once: every file under its final name is in the manifest
            raise
        await _save_last(files)
        return files.entries(), files.errors

    async def download_one(
        self, job_id: str, files: _JobFiles, category: str, source: str, path: str
    ) -> None:
        """One file into the job folder; a failure is kept for the job's outcome, the other files go on."""
        try:
            entry = await self.client.download(
                source, files.folder / path, on_bytes=lambda n: self.progress.transferred(job_id, n)
            )
        except ClaretErrorsError as exc:
            files.errors.append(exc)
            return
        files.landed((category, source), replace(entry, category=category, path=path))
        self.progress.file_done(job_id, path, entry.bytes, skipped=False)

    async def job(self, job_id: str) -> FetchOutcome:
        tenant = self.settings.tenant or ""
        folder = job_folder(self.settings, job_id)
        outcome = FetchOutcome(tenant, job_id, folder, None, 0, None)
        lock = job_lock(folder)
        try:
            # Before anything touches the folder: another run's temp files there are not stale.
            if not await lock.acquire_async(locks.JOB_LOCK_WAIT, waiting_for(job_id, folder)):
                outcome.locked_out = True
                raise job_busy(job_id, folder)
            status = await self.wait(job_id, folder, outcome)
            outcome.files, errors = await self.download_all(job_id, folder, status)
        except ClaretErrorsError as exc:
            outcome.exit_code, outcome.error = int(exc.exit_code), printable(str(exc))
        except OSError as exc:
            outcome.exit_code = int(ExitCode.UNREADABLE)
            outcome.error = printable(f"cannot write the job folder {folder}: {exc.strerror or exc}")
        except BaseException:
            lock.release()
            raise
        else:
            messages = [printable(str(e)) for e in errors]
            codes = [int(e.exit_code) for e in errors]
            if status.status == "failed":
                codes.append(int(ExitCode.JOB_FAILED))
                messages.insert(
                    0, f"job {job_id} ended failed; its files (the errors file says why) are in {folder}"
                )
            outcome.exit_code = int(worst_exit_code(codes))
            outcome.error = "; ".join(messages) or None
        state = outcome.status.status if outcome.status else "unknown"
        done = f"{state}, {len(outcome.files)} files in {folder}"
        self.progress.finished(job_id, outcome.exit_code, outcome.error or done)
        if self.keep_locks and lock.held:
            outcome.lock = lock
        else:
            lock.release()
        return outcome


async def fetch_async(
    job_ids: Sequence[str],
    settings: Settings,
    client: ClaretClient,
    *,
    progress: Progress | None = None,
) -> list[FetchOutcome]:
    """Wait for every job and download its files, all at once on one client, at most --concurrency requests
    in flight. One outcome per distinct job id, in the order given."""
    run = _Run.start(settings, client, progress)
    return list(await asyncio.gather(*(run.job(job_id) for job_id in job_ids_from(job_ids))))


async def fetch_each(
    job_ids: Sequence[str],
    settings: Settings,
    client: ClaretClient,
    *,
    progress: Progress | None = None,
) -> AsyncIterator[FetchOutcome]:
    """`fetch_async`, but each outcome as soon as its job is done, so later stages start while others wait.
    Each outcome holds its job folder's lock until the caller calls its `release` (after the analysis)."""
    run = _Run.start(settings, client, progress, keep_locks=True)
    tasks = [asyncio.ensure_future(run.job(job_id)) for job_id in job_ids_from(job_ids)]
    given: list[FetchOutcome] = []
    try:
        for finished in asyncio.as_completed(tasks):
            given.append(await finished)
            yield given[-1]
    finally:
        for task in tasks:
            task.cancel()
            finished_ok = task.done() and not task.cancelled() and task.exception() is None
            if finished_ok and not any(task.result() is o for o in given):
                task.result().release()  # finished but never handed over: its lock is still ours


def fetch(
    job_ids: Sequence[str], settings: Settings, *, progress: Progress | None = None
) -> list[FetchOutcome]:
    """`fetch_async` with its own client and event loop: the entry point of the CLI and of scripts."""
    ids = job_ids_from(job_ids)

    async def main() -> list[FetchOutcome]:
        from claret_errors.claret.client import ClaretClient

        async with ClaretClient(settings) as client:
            return await fetch_async(ids, settings, client, progress=progress)

    return asyncio.run(main())
