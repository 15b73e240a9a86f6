"""Faults of the simulated Claret over real HTTP: 5xx, 429, drops, short bodies, bad JSON, by seed."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from claret_errors.errors import ConfigError
from claret_errors.simulator import (
    FaultRule,
    Scenario,
    Simulator,
    load_scenario,
    make_nightly_csv,
    scenario_names,
)
from claret_errors.simulator.faults import FaultPlan
from claret_errors.simulator.server import Handler

XHR = {"X-Requested-With": "XMLHttpRequest"}


def client_for(sim: Simulator) -> httpx.Client:
    headers = {**XHR, "Authorization": f"Bearer {sim.mint_token()}"}
    return httpx.Client(base_url=f"{sim.base_url}/{sim.tenant}/api/v1", headers=headers, timeout=10)


def test_status_bursts_of_503_then_429_with_retry_after() -> None:
    """The retry layer is tested against this: two 503s with Retry-After 0, then a 429 with Retry-After 1."""
    with Simulator("flaky-status", speed=0) as sim:
        client = client_for(sim)
        job_id = sim.submit_csv(make_nightly_csv(5, seed=1))
        responses = [client.get(f"/imports/status/{job_id}") for _ in range(5)]
    assert [r.status_code for r in responses] == [503, 503, 200, 429, 200]
    assert responses[0].headers["Retry-After"] == "0"
    assert responses[0].json() == {"message": "Service Unavailable"}
    assert responses[3].headers["Retry-After"] == "1"
    assert responses[3].json() == {"message": "Too Many Attempts."}


def test_first_token_request_gets_an_nginx_502_html_page() -> None:
    """A 502 from the proxy is HTML, not JSON: the client must not choke on parsing it."""
    with Simulator("flaky-status", speed=0) as sim:
        url = f"{sim.base_url}/demo/api/v1/tokens/create"
        params = {"email": sim.email, "password": sim.password}
        first, second = (httpx.post(url, params=params, headers=XHR) for _ in range(2))
    assert first.status_code == 502 and first.headers["Content-Type"] == "text/html"
    assert second.status_code == 200 and "|" in second.json()["token"]


def test_errors_download_drops_the_connection_mid_body_once() -> None:
    """Downloads must land atomically and retry: the first attempt dies halfway, the second is whole."""
    with Simulator("broken-downloads", speed=0) as sim:
        client = client_for(sim)
        job_id = sim.submit_csv(make_nightly_csv(30, seed=1))
        path = client.get(f"/imports/status/{job_id}").json()["content"]["files"]["errors"][0]
        with pytest.raises(httpx.RemoteProtocolError):
            client.get(sim.base_url + path)
        again = client.get(sim.base_url + path)
        expected = sim.job(job_id).files["errors"][path.rsplit("/", 1)[1]]
    assert again.status_code == 200 and again.content == expected


def test_output_download_is_shorter_than_its_content_length_once() -> None:
    """A body shorter than Content-Length must be detected, never saved as if complete."""
    with Simulator("broken-downloads", speed=0) as sim:
        client = client_for(sim)
        job_id = sim.submit_csv(make_nightly_csv(30, seed=1))
        path = client.get(f"/imports/status/{job_id}").json()["content"]["files"]["output"][0]
        with pytest.raises(httpx.RemoteProtocolError):
            client.get(sim.base_url + path)
        assert client.get(sim.base_url + path).status_code == 200


def test_second_status_poll_returns_malformed_json() -> None:
    """A 200 with a cut-off JSON body must be treated as a transient failure, not a crash."""
    with Simulator("malformed-json", speed=0) as sim:
        client = client_for(sim)
        job_id = sim.submit_csv(make_nightly_csv(5, seed=1))
        first, second, third = (client.get(f"/imports/status/{job_id}") for _ in range(3))
    assert first.json()["content"]["status"] == "completed"
    assert second.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        json.loads(second.content)
    assert third.json()["content"]["job_log_id"] == job_id


def test_dropped_upload_connection_creates_no_job() -> None:
    """A connection dropped before the answer must leave no half-made job behind."""
    scenario = Scenario(name="drop-upload", faults=(FaultRule(endpoint="upload", kind="drop", first=1),))
    with Simulator(scenario, speed=0) as sim:
        client = client_for(sim)
        files = {"file": ("n.csv", make_nightly_csv(5, seed=1), "text/csv")}
        with pytest.raises(httpx.RemoteProtocolError):
            client.post("/inventory/import/process", files=files)
        assert sim.state.jobs == {}
        assert client.post("/inventory/import/process", files=files).status_code == 202


def test_latency_is_injected_and_logged_without_changing_answers() -> None:
    """Slow answers must still be right answers; the fault log says each was delayed."""
    with Simulator("slow", speed=0) as sim:
        client = client_for(sim)
        job_id = sim.submit_csv(make_nightly_csv(5, seed=1))
        response = client.get(f"/imports/status/{job_id}")
        log = sim.fault_log
    assert response.json()["content"]["status"] == "completed"
    assert [(e.endpoint, e.kind) for e in log] == [("status", "latency")]


def _chaos_run(seed: int) -> tuple[list[str], list[object]]:
    """Two jobs polled and downloaded through the chaos scenario: what the client saw, and the fault log."""
    seen: list[str] = []
    with Simulator("chaos", seed=seed, speed=0) as sim:
        client = client_for(sim)
        for job_id in (
            sim.submit_csv(make_nightly_csv(20, seed=1)),
            sim.submit_csv(make_nightly_csv(20, seed=2)),
        ):
            content = None
            for _ in range(8):
                response = client.get(f"/imports/status/{job_id}")
                seen.append(f"status {job_id} {response.status_code}")
                if response.status_code == 200:
                    content = response.json()["content"]
            assert content is not None
            for paths in content["files"].values():
                for path in paths:
                    try:
                        seen.append(f"get {path} {client.get(sim.base_url + path).status_code}")
                    except httpx.RemoteProtocolError:
                        seen.append(f"get {path} dropped")
        return seen, list(sim.fault_log)


def test_a_fault_scenario_reproduces_exactly_by_seed() -> None:
    """Flaky-network bugs must be replayable: same seed, same requests, same faults; another seed differs."""
    first, again, other = _chaos_run(7), _chaos_run(7), _chaos_run(8)
    assert first == again
    assert first != other
    kinds = {e.kind for e in first[1]}  # type: ignore[attr-defined]
    assert {"latency", "http_error"} <= kinds


def test_every_built_in_scenario_loads() -> None:
    """A broken scenario file would only show up when someone needs it; load them all."""
    names = scenario_names()
    assert {"default", "chaos", "flaky-status", "broken-downloads", "never-finish", "failing-job"} <= set(
        names
    )
    for name in names:
        assert load_scenario(name).name == name


def test_every_scenario_file_starts_with_a_comment_saying_what_it_shows() -> None:
    """Scenario files are documentation for whoever picks one: each must say what it is for."""
    for name in scenario_names():
        text = (Path(__file__).parents[1] / "fixtures" / "scenarios" / f"{name}.toml").read_text()
        assert text.startswith("# "), name


def test_scenario_with_an_unknown_key_is_a_config_error_naming_the_file(tmp_path: Path) -> None:
    """A typo in a fault schedule must fail loudly, not silently inject nothing."""
    path = tmp_path / "typo.toml"
    path.write_text('[[faults]]\nendpoint = "status"\nkind = "http_error"\nfirts = 2\n')
    with pytest.raises(ConfigError, match=r"typo\.toml.*firts"):
        load_scenario(path)


def test_scenario_with_an_unsupported_value_names_the_key(tmp_path: Path) -> None:
    """Values the simulator cannot honour are refused with the key concerned."""
    path = tmp_path / "bad.toml"
    path.write_text("[variant]\nrow_base = 5\n")
    with pytest.raises(ConfigError, match="row_base"):
        load_scenario(path)


def test_unknown_scenario_name_lists_the_built_in_ones() -> None:
    """`simulate --scenario typo` should tell the user what exists."""
    with pytest.raises(ConfigError, match="chaos"):
        load_scenario("no-such-scenario")


def test_fault_draws_per_key_do_not_depend_on_other_keys_requests() -> None:
    """Concurrent jobs interleave differently each run; each job's own faults must still replay exactly."""
    rules = (FaultRule(endpoint="status", kind="http_error", status=500, probability=0.5),)
    alone, mixed = FaultPlan(rules, seed=3), FaultPlan(rules, seed=3)
    seen_alone = [bool(alone.decide("status", "demo/1", "p")) for _ in range(30)]
    seen_mixed = []
    for _ in range(30):
        mixed.decide("status", "demo/2", "p")
        seen_mixed.append(bool(mixed.decide("status", "demo/1", "p")))
    assert seen_alone == seen_mixed
    assert 0 < sum(seen_alone) < 30


def test_download_fault_keys_ignore_the_date_in_the_path() -> None:
    """Artifact paths carry today's date; a seed must replay the same download faults on any day."""
    day_one = "/demo/download/demo/user-uploads/inventory-import/2024-01-01/3/inventory_20240101_errors.csv"
    day_two = "/demo/download/demo/user-uploads/inventory-import/2025-06-30/3/inventory_20250630_errors.csv"
    assert Handler._classify(day_one.strip("/").split("/"), day_one) == Handler._classify(
        day_two.strip("/").split("/"), day_two
    )
