"""The client's other calls against the simulator over loopback: uploads, and logs free of secrets."""

from __future__ import annotations

import asyncio
import io
import logging
from pathlib import Path

import pytest
from cli_rounds import sim_settings

from claret_errors.claret.client import ClaretClient
from claret_errors.errors import UsageError
from claret_errors.fetch import fetch
from claret_errors.progress import LiveProgress
from claret_errors.simulator import Simulator, make_nightly_csv

pytestmark = pytest.mark.usefixtures("no_backoff")


def test_uploaded_csv_becomes_a_job_that_fetch_can_follow(tmp_path: Path) -> None:
    """Resubmission relies on upload_csv returning the job_log_id Claret polls under."""
    with Simulator() as sim:
        settings = sim_settings(sim, tmp_path)

        async def go() -> int:
            async with ClaretClient(settings) as client:
                return await client.upload_csv(
                    make_nightly_csv(20, seed=5),
                    "corrected_1.csv",
                    allow_record_creation=True,
                    allow_record_update=False,
                )

        job = asyncio.run(go())
        [outcome] = fetch([str(job)], settings)
    assert outcome.exit_code == 0, outcome.error
    assert outcome.status is not None and outcome.status.job_log_id == job


def test_upload_over_a_thousand_records_is_refused_with_claret_words(tmp_path: Path) -> None:
    """Claret takes at most 1000 records per request; its 422 reaches the user as a usage error."""
    with Simulator() as sim:
        settings = sim_settings(sim, tmp_path)

        async def go() -> int:
            async with ClaretClient(settings) as client:
                return await client.upload_csv(
                    make_nightly_csv(1001, seed=1),
                    "big.csv",
                    allow_record_creation=True,
                    allow_record_update=False,
                )

        with pytest.raises(UsageError, match=r"big\.csv"):
            asyncio.run(go())


def test_no_token_or_password_in_any_log_line(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """httpx logs request URLs, and the token request carries the password: every line must be masked."""
    caplog.set_level(logging.DEBUG)
    with Simulator("flaky-status") as sim:
        job = str(sim.submit_csv(make_nightly_csv(20, seed=6)))
        [outcome] = fetch([job], sim_settings(sim, tmp_path))
        password = sim.password
    assert outcome.exit_code == 0, outcome.error
    assert "tokens/create" in caplog.text, "httpx did not log: the test would prove nothing"
    assert password not in caplog.text
    assert "Bearer " not in caplog.text.replace("Bearer ***", "")


def test_live_display_shows_status_step_files_and_bytes() -> None:
    """What a terminal user watches: one row per job with its status, step n/m, files and bytes."""
    stream = io.StringIO()
    with LiveProgress(stream) as live:  # not a terminal: the table is printed once, when the display stops
        live.status("12", "in_progress", 2, 5)
        live.transferred("12", 2048)
        live.file_done("12", "artifacts/input/a.csv", 2048, skipped=False)
    text = stream.getvalue()
    assert "12" in text and "in_progress" in text and "2/5" in text and "2.0 KB" in text
