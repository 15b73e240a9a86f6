"""The job lifecycle of the simulated Claret: steps, timestamps, when each category appears, endings."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from claret_errors.simulator import Lifecycle, Simulator, make_nightly_csv
from claret_errors.simulator.jobs import DONE, STEPS, Job, phase_at, typical_seconds, view

XHR = {"X-Requested-With": "XMLHttpRequest"}


def client_for(sim: Simulator) -> httpx.Client:
    headers = {**XHR, "Authorization": f"Bearer {sim.mint_token()}"}
    return httpx.Client(base_url=f"{sim.base_url}/{sim.tenant}/api/v1", headers=headers, timeout=10)


def statuses(client: httpx.Client, job_id: int, polls: int) -> list[dict[str, object]]:
    return [client.get(f"/imports/status/{job_id}").json()["content"] for _ in range(polls)]


def test_each_poll_walks_pending_then_every_named_step_then_completed() -> None:
    """A client polling a stepwise tenant sees every phase, with progress counts that add up."""
    with Simulator("stepwise", speed=0) as sim:
        client = client_for(sim)
        seen = statuses(client, sim.submit_csv(make_nightly_csv(20, seed=1)), DONE + 2)
    assert [s["status"] for s in seen] == ["pending"] + ["in_progress"] * len(STEPS) + ["completed"] * 2
    progress = [s["progress"] for s in seen[: DONE + 1]]
    assert [p["current_step"] for p in progress] == [None, *STEPS, None]  # type: ignore[index]
    assert [p["completed_steps"] for p in progress] == [0, 0, 1, 2, 3, 4, 5]  # type: ignore[index]
    assert {p["total_steps"] for p in progress} == {len(STEPS)}  # type: ignore[index]


def test_artifact_categories_appear_when_the_docs_say() -> None:
    """input at once, staging and errors after validation, output at the end: fetch must not assume more."""
    with Simulator("stepwise", speed=0) as sim:
        client = client_for(sim)
        seen = statuses(client, sim.submit_csv(make_nightly_csv(20, seed=1)), DONE + 1)
    categories = [sorted(s["files"]) for s in seen]  # type: ignore[call-overload]
    assert categories[0] == categories[2] == ["input"]  # pending, reading, validating
    assert categories[3] == categories[5] == ["errors", "input", "staging"]
    assert categories[DONE] == ["errors", "input", "output", "staging"]


def test_errors_category_is_absent_when_every_row_landed() -> None:
    """`errors` appears only if validation errors occurred: a clean job has none."""
    with Simulator(speed=0) as sim:
        client = client_for(sim)
        last = statuses(client, sim.submit_csv(make_nightly_csv(10, seed=2, error_share=0)), 1)[0]
    assert last["status"] == "completed"
    assert sorted(last["files"]) == ["input", "output", "staging"]  # type: ignore[call-overload]


def test_absent_categories_can_be_empty_lists_instead_of_missing_keys() -> None:
    """Some tenants send `[]` for files not ready yet; the split-rows scenario does."""
    with Simulator("split-rows", speed=0) as sim:
        sim.set_scenario("split-rows")
        content = statuses(client_for(sim), sim.submit_csv(make_nightly_csv(10, seed=2, error_share=0)), 1)[0]
    assert content["files"]["errors"] == []  # type: ignore[index]


def test_timestamps_fill_as_the_job_moves() -> None:
    """started_at appears when work starts, completed_at at the end, in ISO 8601."""
    with Simulator("stepwise", speed=0) as sim:
        seen = statuses(client_for(sim), sim.submit_csv(make_nightly_csv(5, seed=3)), DONE + 1)
    stamps = [s["timestamps"] for s in seen]
    assert stamps[0] == {"started_at": None, "completed_at": None}
    assert stamps[1]["started_at"] is not None and stamps[1]["completed_at"] is None  # type: ignore[index]
    done = stamps[DONE]
    started = datetime.fromisoformat(done["started_at"])  # type: ignore[index]
    completed = datetime.fromisoformat(done["completed_at"])  # type: ignore[index]
    assert started.tzinfo is not None and completed >= started


def test_lifecycle_is_a_pure_function_of_elapsed_time_and_size() -> None:
    """Deterministic lifecycle: the same elapsed time and size always give the same phase."""
    duration = typical_seconds(50)
    assert duration == 45.0  # < 100 records: 30-60 s, as documented
    assert typical_seconds(300) == 120.0 and typical_seconds(1000) == 300.0
    assert phase_at(0.0, duration) == 0
    assert phase_at(duration * 0.1, duration) == 1
    assert phase_at(duration * 0.99, duration) == len(STEPS)
    assert phase_at(duration, duration) == DONE
    assert phase_at(0.0, 0.0) == DONE


def test_speed_scales_the_documented_processing_time() -> None:
    """speed=0.001 makes a 50-row job take ~45 ms, so tests wait milliseconds, not minutes."""
    with Simulator(speed=0.001) as sim:
        job = sim.job(sim.submit_csv(make_nightly_csv(50, seed=4)))
    assert job.duration == pytest.approx(0.045)


def test_a_job_that_never_finishes_stays_in_progress() -> None:
    """The never-finish scenario is how --max-wait (exit 5) is tested."""
    with Simulator("never-finish", speed=0) as sim:
        seen = statuses(client_for(sim), sim.submit_csv(make_nightly_csv(5, seed=3)), 5)
    assert {s["status"] for s in seen} == {"in_progress"}
    assert {s["timestamps"]["completed_at"] for s in seen} == {None}  # type: ignore[index]


def test_a_failing_job_ends_failed_with_an_errors_file_and_no_output() -> None:
    """A failed job (exit 4): status failed, an errors file to explain, nothing landed."""
    with Simulator("failing-job", speed=0) as sim:
        client = client_for(sim)
        job_id = sim.submit_csv(make_nightly_csv(5, seed=3))
        content = statuses(client, job_id, 1)[0]
        errors = client.get(sim.base_url + content["files"]["errors"][0]).text  # type: ignore[index]
        truth = sim.ground_truth(job_id)
    assert content["status"] == "failed"
    assert "output" not in content["files"]  # type: ignore[operator]
    assert "The import failed unexpectedly" in errors
    assert {t.outcome for t in truth} == {"failed"}


def test_status_goes_backwards_on_the_scheduled_poll() -> None:
    """Progress is not monotonic on the backwards tenant; clients must not assume it is."""
    with Simulator("backwards", speed=0) as sim:
        seen = statuses(client_for(sim), sim.submit_csv(make_nightly_csv(5, seed=3)), 5)
    steps = [s["progress"]["completed_steps"] for s in seen]  # type: ignore[index]
    assert steps == [0, 0, 1, 0, 3]
    assert [s["progress"]["current_step"] for s in seen][2:4] == [STEPS[1], STEPS[0]]  # type: ignore[index]


def test_view_of_a_finished_job_reported_backwards_is_in_progress_again() -> None:
    """'completed' can go back to 'in_progress' once: the worst case for a client that stops too early."""
    job = Job(1, "demo", datetime.now(UTC), 0.0, 5, 0.0, {}, ())
    assert view(job, 10.0, 1, Lifecycle()).status == "completed"
    again = view(job, 10.0, 2, Lifecycle(backwards_polls=(2,)))
    assert again.status == "in_progress" and again.completed_at is None
