"""Randomized fault schedules against the simulator: whatever goes wrong, the job folder is either complete
and verified, or the outcome carries the right exit code and a clear message, and no partial file ever sits
under a final name."""

from __future__ import annotations

import hashlib
import json
import random
from pathlib import Path
from typing import Any

import pytest
from cli_rounds import sim_settings

from claret_errors.errors import ExitCode
from claret_errors.fetch import fetch
from claret_errors.simulator import FaultRule, Scenario, Simulator, make_nightly_csv

SEEDS = range(30)


pytestmark = pytest.mark.usefixtures("no_backoff")


def random_rule(rng: random.Random) -> FaultRule:
    """One fault rule: what, where, and how often, drawn from the seed."""
    endpoint = rng.choice(["status", "download", "token", "any"])
    kinds = ["http_error", "rate_limit", "drop", "short_body", "latency"]
    if endpoint in ("status", "token"):
        kinds.append("malformed_json")  # a cut CSV with a matching length is undetectable by design
    kind = rng.choice(kinds)
    return FaultRule(
        endpoint=endpoint,
        kind=kind,
        status=rng.choice([500, 502, 503, 504]),
        first=rng.choice([0, 0, 1, 2]),
        probability=rng.choice([0.0, 0.1, 0.3, 0.5, 0.8]),
        retry_after=0 if kind in ("rate_limit", "http_error") else None,
        delay=0.002,
    )


def walk(folder: Path) -> tuple[set[str], list[dict[str, Any]]]:
    """Files under final names, and the manifest; the invariant is that they agree byte for byte."""
    artifacts = folder / "artifacts"
    files = (
        {p.relative_to(folder).as_posix() for p in artifacts.rglob("*") if p.is_file()}
        if artifacts.exists()
        else set()
    )
    manifest_path = folder / "manifest.json"
    manifest = json.loads(manifest_path.read_text())["files"] if manifest_path.exists() else []
    return files, manifest


@pytest.mark.parametrize("seed", SEEDS)
def test_any_fault_schedule_ends_complete_or_with_the_right_code(seed: int, tmp_path: Path) -> None:
    """The core promise of fetch under a hostile network: never a silent partial result."""
    rng = random.Random(seed)
    scenario = Scenario(
        name=f"random-{seed}", faults=tuple(random_rule(rng) for _ in range(rng.randint(1, 4)))
    )
    with Simulator(scenario, seed=seed) as sim:
        ids = [str(sim.submit_csv(make_nightly_csv(20, seed=seed * 10 + i))) for i in range(2)]
        settings = sim_settings(sim, tmp_path)
        outcomes = fetch(ids, settings)
    for outcome in outcomes:
        files, manifest = walk(outcome.folder)
        assert not any(name.endswith(".part") for name in files), "a temp file survived"
        assert files == {f["path"] for f in manifest}
        for f in manifest:
            data = (outcome.folder / f["path"]).read_bytes()
            assert len(data) == f["bytes"] and hashlib.sha256(data).hexdigest() == f["sha256"]
        if outcome.exit_code == 0:
            assert outcome.status is not None and outcome.status.status == "completed"
            listed = {(c, s) for c, sources in outcome.status.files.items() for s in sources}
            assert {(f["category"], f["source"]) for f in manifest} == listed
        else:
            assert outcome.exit_code in (ExitCode.UNAVAILABLE, ExitCode.UNREADABLE), outcome.error
            assert outcome.error and ("kept failing" in outcome.error or "failed" in outcome.error)
            assert "Traceback" not in outcome.error and sim.password not in outcome.error
