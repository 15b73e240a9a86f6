"""How a caller uses the public API, checked by mypy --strict (tests/test_api.py runs it): every exported
name is re-exported for type checkers, and its types are what a caller relies on. Never run, only checked."""

from __future__ import annotations

from pathlib import Path
from typing import assert_type

import claret_errors
from claret_errors import (
    ClaretClient,
    ClaretErrorsError,
    ExitCode,
    FetchOutcome,
    JobResult,
    NotifyResult,
    RunResult,
    Settings,
    fetch,
    fetch_async,
    load_settings,
    notify,
    run,
    run_async,
)


def scheduled_night(job_ids: list[str]) -> int:
    """A cron script: settings, a run, the exit code; an expected error says its own code."""
    settings = load_settings({"tenant": "acme"})
    assert_type(settings, Settings)
    try:
        result = run(job_ids, settings)
    except ClaretErrorsError as exc:
        assert_type(exc.exit_code, ExitCode)
        return int(exc.exit_code)
    assert_type(result, RunResult)
    assert_type(result.exit_code, int)
    assert_type(result.results, list[JobResult])
    outcomes = fetch(job_ids, settings)
    assert_type(outcomes, list[FetchOutcome])
    return result.exit_code


async def in_my_event_loop(job_ids: list[str], settings: Settings) -> RunResult:
    """A caller with its own loop opens the client `run_async` and `fetch_async` share."""
    async with ClaretClient(settings) as client:
        assert_type(client, ClaretClient)
        assert_type(await fetch_async(job_ids, settings, client), list[FetchOutcome])
        return await run_async(job_ids, settings, client)


def offline(folder: Path, settings: Settings) -> int:
    """The offline half and the stages, through the package's own namespace."""
    job = claret_errors.load_job(folder, settings)
    findings = claret_errors.validate(job)
    rec = claret_errors.reconcile(job, settings)
    claret_errors.fix(job, rec, settings, folder / "corrected")
    assert_type(claret_errors.analyze([folder], settings), RunResult)
    told = notify([folder.parent], settings, confirm=False)
    assert_type(told, NotifyResult)
    assert_type(told.exit_code, int)
    return len(findings) + rec.counts.failed
