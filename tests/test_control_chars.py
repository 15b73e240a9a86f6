"""Terminal escapes, BEL and NUL in Claret's status words never reach the terminal or the logs: what is
printed from outside is stripped of control characters wherever it is shown."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from claret_errors.cli import main
from claret_errors.progress import LiveProgress
from claret_errors.simulator import FaultRule, Lifecycle, Scenario, Simulator, make_nightly_csv

HOSTILE = Scenario(
    name="control-chars",
    lifecycle=Lifecycle(poll_phases=True),
    faults=(FaultRule(endpoint="status", kind="control_chars", probability=1.0),),
)
RAW = ("\x1b]0;owned", "\x07", "\x00", "\x9b", "\x1b[2J")


pytestmark = pytest.mark.usefixtures("no_claret_env")


@pytest.mark.parametrize("extra", [[], ["--json"]])
def test_escapes_in_status_answers_are_stripped_from_stdout_and_logs(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str]
) -> None:
    """Each poll's status, step and description carry escapes; stdout and stderr show none of them."""
    with Simulator(HOSTILE, seed=5, speed=0.0) as sim:
        monkeypatch.setenv("CLARET_EMAIL", sim.email)
        monkeypatch.setenv("CLARET_PASSWORD", sim.password)
        job = str(sim.submit_csv(make_nightly_csv(10, seed=5)))
        argv = ["run", job, "--tenant", sim.tenant, "--base-url", sim.base_url, "--poll-interval", "0.01"]
        main([*argv, "--out", str(tmp_path / "out"), "--max-wait", "5", *extra])
    printed = capsys.readouterr()
    for raw in RAW:
        assert raw not in printed.out and raw not in printed.err, repr(raw)
    if not extra:
        assert "in_progress ]0;owned" in printed.err  # the statuses were shown, cleaned
        assert f"job {job} (demo): completed" in printed.out


def test_the_live_table_shows_status_words_as_plain_text() -> None:
    """On a terminal the table shows Claret's words without their escapes, and rich markup stays text."""

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    screen = Terminal()
    with LiveProgress(screen) as progress:
        progress.status("7", "processing\x1b]0;owned\x07[red]x\x00", 1, 4)
        progress.finished("7", 7, "job 7: gave up\x1b[2J\x9b31m")
    shown = screen.getvalue()
    assert "processing" in shown and "[red]x" in shown and "gave up" in shown
    assert all(raw not in shown for raw in RAW)
