"""The CLI frame: help for every command, version, config show, and the one catch site."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import click
import pytest
from polars.exceptions import PanicException

from claret_errors import __version__
from claret_errors.cli import cli, main


def all_command_paths() -> list[list[str]]:
    """Every command and subcommand, as the argv that reaches it."""
    paths: list[list[str]] = []

    def walk(group: click.Group, prefix: list[str]) -> None:
        for name, command in group.commands.items():
            paths.append([*prefix, name])
            if isinstance(command, click.Group):
                walk(command, [*prefix, name])

    walk(cli, [])
    return paths


@pytest.mark.parametrize("argv", [[], *all_command_paths()], ids=lambda a: " ".join(a) or "root")
def test_every_command_has_help(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    """A command without --help text is a command nobody can discover."""
    assert main([*argv, "--help"]) == 0
    out = capsys.readouterr().out
    assert "Usage:" in out
    assert len(out.splitlines()) > 3


def test_version_in_process(capsys: pytest.CaptureFixture[str]) -> None:
    """--version prints the package version."""
    assert main(["--version"]) == 0
    assert __version__ in capsys.readouterr().out


def test_python_dash_m_version_subprocess() -> None:
    """The module entry point works as a real process."""
    proc = subprocess.run(
        [sys.executable, "-m", "claret_errors", "--version"], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0
    assert __version__ in proc.stdout


def test_help_does_not_import_polars() -> None:
    """`claret-errors --help` must start fast: no heavy imports on the way."""
    code = "import sys; from claret_errors.cli import main; main(['--help']); print('polars' in sys.modules)"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert proc.stdout.strip().endswith("False")


def test_config_show_json_reports_sources_and_masks_token(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """config show --json names where each value came from and never prints the token."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "claret-errors.toml").write_text("max_wait = 60\n", encoding="utf-8")
    monkeypatch.setenv("CLARET_TOKEN", "9|verysecrettokenvalue123")
    monkeypatch.setenv("CLARET_BASE_URL", "http://127.0.0.1:9")
    assert main(["config", "show", "--json", "--tenant", "acme"]) == 0
    out = capsys.readouterr().out
    shown = json.loads(out)
    assert shown["tenant"] == {"value": "acme", "source": "flag"}
    assert shown["base_url"]["source"] == "env CLARET_BASE_URL"
    assert shown["max_wait"]["source"].startswith("file ")
    assert shown["token"]["value"] == "***"
    assert "verysecret" not in out


def test_group_level_option_reaches_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Common options work before the command name too."""
    monkeypatch.chdir(tmp_path)
    assert main(["--tenant", "early", "config", "show", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["tenant"]["value"] == "early"


def test_bad_config_file_exits_two_with_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A bad config is a one-line message and exit 2, never a traceback."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "claret-errors.toml").write_text("concurrency = 0\n", encoding="utf-8")
    assert main(["config", "show"]) == 2
    err = capsys.readouterr().err
    assert "key 'concurrency'" in err
    assert "Traceback" not in err


def test_unknown_option_exits_two(capsys: pytest.CaptureFixture[str]) -> None:
    """Usage errors are exit 2, as the contract says."""
    assert main(["config", "show", "--no-such-flag"]) == 2
    assert "no such option" in capsys.readouterr().err.lower()


@pytest.mark.parametrize("error", [RuntimeError, PanicException])
def test_an_unexpected_error_is_exit_one_without_a_traceback(
    error: type[BaseException], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A bug anywhere ends as one line and exit 1: also a panic in polars, which pyo3 raises as a
    BaseException that `except Exception` would let through as a traceback."""

    def crash(*_args: object, **_kwargs: object) -> None:
        raise error("boom")

    monkeypatch.setattr(cli, "main", crash)
    assert main(["analyze", "somewhere"]) == 1
    err = capsys.readouterr().err
    assert f"Internal error (a bug in claret-errors): {error.__name__}: boom" in err
    assert "Traceback" not in err
