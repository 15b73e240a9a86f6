"""Report snapshots: any change to what a reader sees shows up as a diff to review.

Regenerate on purpose with `CLARET_REGENERATE_SNAPSHOTS=1 .venv/bin/pytest tests/test_report_snapshots.py`;
a missing snapshot fails, it is never written silently.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from claret_errors.history import History
from claret_errors.report.write import write_job_reports, write_run_index
from claret_errors.results import Counts, JobResult

SNAPSHOTS = Path(__file__).resolve().parent / "snapshots"
REGENERATE = os.environ.get("CLARET_REGENERATE_SNAPSHOTS") == "1"


def check_snapshot(name: str, actual: str) -> None:
    """Compare with tests/snapshots/<name>; write it only when regeneration is asked for."""
    path = SNAPSHOTS / name
    if REGENERATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8")
        return
    if not path.exists():
        pytest.fail(f"snapshot {name} is missing; create it with CLARET_REGENERATE_SNAPSHOTS=1 and review it")
    assert actual == path.read_text(encoding="utf-8"), f"{name} changed; review, then regenerate"


@pytest.fixture
def tenant_with_history(tmp_path: Path, result_factory: Callable[..., JobResult]) -> tuple[Path, History]:
    """Three earlier nights in the ledger, so trends are part of the snapshot."""
    tenant_dir = tmp_path / "acme-wines"
    history = History.open(tenant_dir)
    for day, failed in ((24, 3), (25, 9), (26, 1)):
        r = result_factory(str(4600 + day))
        r = replace(
            r,
            info=replace(r.info, claret=replace(r.info.claret, started_at=f"2026-11-{day}T02:00:00+00:00")),
            counts=Counts(120, 120 - failed, failed, 0, 0),
        )
        history.record(r, run_at=datetime(2026, 11, day, 6, tzinfo=UTC))
    return tenant_dir, history


def test_job_report_snapshots(job_result: JobResult, tenant_with_history: tuple[Path, History]) -> None:
    """The job report in both formats and one owner's report, as a reader gets them."""
    _, history = tenant_with_history
    history.record(job_result, run_at=datetime(2026, 11, 27, 6, tzinfo=UTC))
    write_job_reports(job_result, job_result.folder, history=history)
    for name in ("report.md", "report.html", "owners/cellar.md", "owners/cellar.html"):
        check_snapshot("job/" + name, (job_result.folder / name).read_text())


def test_run_index_snapshots(job_result: JobResult, tenant_with_history: tuple[Path, History]) -> None:
    """The run index in both formats."""
    tenant_dir, history = tenant_with_history
    history.record(job_result, run_at=datetime(2026, 11, 27, 6, tzinfo=UTC))
    write_run_index([job_result], tenant_dir, history)
    for name in ("index.md", "index.html"):
        check_snapshot(name, (tenant_dir / name).read_text())


def test_hostile_report_snapshot(hostile_result: JobResult) -> None:
    """The escaped hostile Markdown, pinned so that a weaker escape is a visible diff."""
    write_job_reports(hostile_result, hostile_result.folder)
    check_snapshot("hostile/report.md", (hostile_result.folder / "report.md").read_text())


def test_missing_snapshot_fails(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A snapshot test that passes without its snapshot would pin nothing."""
    monkeypatch.setattr(f"{__name__}.SNAPSHOTS", tmp_path)
    monkeypatch.setattr(f"{__name__}.REGENERATE", False)
    with pytest.raises(pytest.fail.Exception, match="missing"):
        check_snapshot("nope.md", "text")
    assert not (tmp_path / "nope.md").exists()
