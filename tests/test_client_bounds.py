"""What Claret sends is bounded: compressed answers are unpacked only within the size caps, a download has
a deadline and a minimum rate, a status answer nests only so deep. Each limit ends the job with a clear
error naming the URL and the setting, never a traceback, never unbounded memory or time."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_rounds import sim_settings

from claret_errors.cli import main
from claret_errors.config import MIB, Limits
from claret_errors.errors import ExitCode
from claret_errors.fetch import FetchOutcome, fetch
from claret_errors.simulator import FaultRule, Scenario, Simulator, make_nightly_csv

pytestmark = [pytest.mark.usefixtures("no_backoff"), pytest.mark.retry_attempts(2)]


def fetch_one(tmp_path: Path, rule: FaultRule, limits: Limits) -> tuple[FetchOutcome, Simulator]:
    """One job of 20 rows fetched from a simulator applying `rule` to every matching request."""
    with Simulator(Scenario(name=rule.kind, faults=(rule,)), seed=2, speed=0.0) as sim:
        job = str(sim.submit_csv(make_nightly_csv(20, seed=2)))
        settings = sim_settings(sim, tmp_path, limits=limits)
        [outcome] = fetch([job], settings)
    return outcome, sim


def files_of(outcome: FetchOutcome) -> list[Path]:
    artifacts = outcome.folder / "artifacts"
    return [p for p in artifacts.rglob("*") if p.is_file()] if artifacts.exists() else []


def test_a_gzip_bomb_status_answer_is_refused_at_the_status_cap(tmp_path: Path) -> None:
    """64 MiB of padding gzipped into a status answer stops at the 1 MiB cap: exit 7, naming the setting."""
    rule = FaultRule(endpoint="status", kind="gzip", probability=1.0, size=64 * MIB)
    outcome, _sim = fetch_one(tmp_path, rule, Limits(status_bytes=MIB))
    assert outcome.exit_code == ExitCode.UNAVAILABLE
    assert outcome.error is not None
    assert "answer is larger than 1 MiB" in outcome.error and "limits.status_mb" in outcome.error


def test_a_gzipped_download_within_the_cap_is_unpacked(tmp_path: Path) -> None:
    """A server that compresses although asked not to still gives the plain file, when it fits the cap."""
    rule = FaultRule(endpoint="download", kind="gzip", probability=1.0)
    outcome, _sim = fetch_one(tmp_path, rule, Limits())
    assert outcome.exit_code == ExitCode.OK, outcome.error
    files = files_of(outcome)
    assert files and all(not p.read_bytes().startswith(b"\x1f\x8b") for p in files)
    assert all(b"item_name" in p.read_bytes().splitlines()[0] for p in files)


def test_a_gzip_bomb_download_is_refused_at_the_file_cap(tmp_path: Path) -> None:
    """A file that unpacks past `file_mb` is refused (exit 8) and leaves no file, whole or partial."""
    rule = FaultRule(endpoint="download", kind="gzip", probability=1.0, size=64 * MIB, match="errors")
    outcome, _sim = fetch_one(tmp_path, rule, Limits(file_bytes=MIB))
    assert outcome.exit_code == ExitCode.UNREADABLE
    assert outcome.error is not None
    assert "larger than 1 MiB" in outcome.error and "limits.file_mb" in outcome.error
    assert "/download/" in outcome.error  # the URL
    assert not [p for p in files_of(outcome) if "error" in p.name or p.name.endswith(".part")]


def test_a_trickling_download_gives_up_at_its_deadline(tmp_path: Path) -> None:
    """A byte every 0.3 s keeps every read timeout happy; the download's own deadline ends it (exit 7)."""
    rule = FaultRule(endpoint="download", kind="trickle", probability=1.0, delay=0.3, match="errors")
    outcome, sim = fetch_one(tmp_path, rule, Limits(download_seconds=1.0, min_rate=1, rate_window=30.0))
    assert outcome.exit_code == ExitCode.UNAVAILABLE
    assert outcome.error is not None
    assert "took longer than 1 s" in outcome.error and "limits.download_seconds" in outcome.error
    assert "http://127.0.0.1:" in outcome.error and f"/{sim.tenant}/download/" in outcome.error
    assert all(token.partition("|")[2] not in outcome.error for token in sim.state.tokens)


def test_a_trickling_download_gives_up_below_the_minimum_rate(tmp_path: Path) -> None:
    """Fewer than `min_rate` bytes a second over a window ends the download long before its deadline."""
    rule = FaultRule(endpoint="download", kind="trickle", probability=1.0, delay=0.1, match="errors")
    limits = Limits(download_seconds=600.0, min_rate=1024, rate_window=0.5)
    outcome, _sim = fetch_one(tmp_path, rule, limits)
    assert outcome.exit_code == ExitCode.UNAVAILABLE
    assert outcome.error is not None
    assert "below 1,024 bytes a second; gave up (limits.min_rate_kb" in outcome.error


def test_a_status_nested_100000_deep_is_exit_7_with_a_clear_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The standard decoder's RecursionError was exit 1; now the answer is refused as malformed, exit 7."""
    rule = FaultRule(endpoint="status", kind="deep_json", probability=1.0, size=100_000)
    monkeypatch.chdir(tmp_path)
    with Simulator(Scenario(name="deep", faults=(rule,)), seed=2, speed=0.0) as sim:
        monkeypatch.setenv("CLARET_EMAIL", sim.email)
        monkeypatch.setenv("CLARET_PASSWORD", sim.password)
        monkeypatch.delenv("CLARET_TOKEN", raising=False)
        job = str(sim.submit_csv(make_nightly_csv(5, seed=2)))
        argv = ["fetch", job, "--tenant", sim.tenant, "--base-url", sim.base_url, "--out", str(tmp_path)]
        code = main([*argv, "--poll-interval", "0.01"])
    shown = capsys.readouterr()
    assert code == ExitCode.UNAVAILABLE
    assert "nests deeper than 64 levels" in shown.out
    assert "Traceback" not in shown.err and "Internal error" not in shown.err
