"""The job lifecycle: a pure function of elapsed time, job size and poll count, as Claret's status JSON.

No threads and no clock reads here: callers pass the elapsed seconds and the poll number, so the same
inputs always give the same document. Artifacts are rendered once, when the job is created.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from claret_errors.simulator.engine import RowTruth
from claret_errors.simulator.scenario import Lifecycle, Variant

STEPS = (
    "Reading file",
    "Validating records",
    "Writing staging file",
    "Importing records",
    "Writing output files",
)
DONE = len(STEPS) + 1  # phase 0 pending, 1..5 in progress on STEPS[phase-1], 6 finished
PENDING_SHARE = 0.1  # share of the processing time a job waits in the queue
# Phase from which each category is handed out: input at once, staging and errors after validation,
# output at the end.
AVAILABLE_FROM = {"input": 0, "staging": 3, "errors": 3, "output": DONE}
NEVER_FINISH_PHASE = 4
Ending = Literal["completed", "failed", "never"]


def typical_seconds(records: int) -> float:
    """Claret's documented typical processing time: <100 rows 30-60 s, 100-500 1-3 min, 500-1000 3-5 min."""
    if records < 100:
        return 30.0 + 30.0 * records / 100
    if records < 500:
        return 60.0 + 120.0 * (records - 100) / 400
    return 180.0 + 120.0 * min(records - 500, 500) / 500


def boundary(phase: int, duration: float) -> float:
    """Seconds after creation at which a job enters `phase` (1..DONE)."""
    return duration * (PENDING_SHARE + (1 - PENDING_SHARE) * (phase - 1) / len(STEPS))


def phase_at(elapsed: float, duration: float) -> int:
    """The phase a job of that duration has reached after `elapsed` seconds."""
    return sum(1 for p in range(1, DONE + 1) if elapsed >= boundary(p, duration))


@dataclass
class Job:
    """One import job: its facts, its rendered artifacts by category, and the truth about each row."""

    job_log_id: int
    tenant: str
    created_at: datetime
    created_monotonic: float
    records: int
    duration: float
    files: dict[str, dict[str, bytes]]  # category -> file name -> bytes
    truth: tuple[RowTruth, ...]
    upload_name: str = ""  # the file name the client uploaded under (Claret renames the stored copy)
    ending: Ending = "completed"
    end_phase: int = DONE
    polls: int = 0
    folder: str = ""  # the download folder its paths start with, e.g. /demo/download/demo/.../1

    def path(self, name: str) -> str:
        return f"{self.folder}/{name}"


@dataclass(frozen=True)
class JobView:
    """What a status poll reports: phase, status and the timestamps known so far."""

    phase: int
    status: str
    started_at: datetime | None
    completed_at: datetime | None


def view(job: Job, elapsed: float, poll: int, lifecycle: Lifecycle) -> JobView:
    """The job as the `poll`-th status call (1-based) sees it `elapsed` seconds after creation."""
    phase = phase_at(elapsed, job.duration)
    if lifecycle.poll_phases:
        phase = min(phase, poll - 1)
    phase = min(phase, NEVER_FINISH_PHASE if job.ending == "never" else job.end_phase)
    if poll in lifecycle.backwards_polls:
        phase = max(phase - 2, 0)  # below the previous poll's phase, even when polls pace the phases
    finished = job.ending != "never" and phase >= job.end_phase
    status = (
        ("failed" if job.ending == "failed" else "completed")
        if finished
        else ("in_progress" if phase >= 1 else "pending")
    )
    started = job.created_at + timedelta(seconds=boundary(1, job.duration)) if phase >= 1 else None
    ended = job.created_at + timedelta(seconds=boundary(job.end_phase, job.duration)) if finished else None
    return JobView(phase, status, started, ended)


def _iso(moment: datetime | None) -> str | None:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ") if moment else None


def status_document(job: Job, state: JobView, variant: Variant, ui_root: str) -> dict[str, Any]:
    """The 200 body of `imports/status/{id}`, in exactly the seed document's shape."""
    finished = state.status in ("completed", "failed")
    files: dict[str, list[str]] = {}
    for category in ("input", "staging", "output", "errors"):
        names = job.files.get(category, {})
        available = state.phase >= AVAILABLE_FROM[category]
        if category == "errors" and job.ending == "failed":
            available = finished  # a job that fails as a whole explains itself in its errors file
        if names and available:
            files[category] = [job.path(n) for n in names]
        elif variant.absent_categories == "empty":
            files[category] = []
    return {
        "message": "Job status retrieved successfully",
        "content": {
            "job_log_id": job.job_log_id,
            "status": state.status,
            "type": "inventory-import",
            "description": "Inventory Import",
            "progress": {
                "completed_steps": len(STEPS) if state.status == "completed" else max(state.phase - 1, 0),
                "total_steps": len(STEPS),
                "current_step": None if finished or state.phase == 0 else STEPS[state.phase - 1],
            },
            "files": files,
            "job_status_link": f"{ui_root}/{job.tenant}/job-logs/{job.job_log_id}",
            "timestamps": {"started_at": _iso(state.started_at), "completed_at": _iso(state.completed_at)},
            "user_id": 1,
        },
    }


def downloadable(job: Job, state: JobView) -> dict[str, bytes]:
    """Every file the job has handed out so far, by relative path."""
    document = status_document(job, state, Variant(), "")
    handed = {p for paths in document["content"]["files"].values() for p in paths}
    return {
        job.path(n): data
        for names in job.files.values()
        for n, data in names.items()
        if job.path(n) in handed
    }
