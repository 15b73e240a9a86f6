"""Every expected error carries the exit code of the contract."""

from __future__ import annotations

from claret_errors.errors import (
    ArtifactError,
    AuthError,
    ClaretUnavailableError,
    ConfigError,
    ExitCode,
    JobFailedError,
    JobNotFoundError,
    UsageError,
    WaitTimeoutError,
    worst_exit_code,
)


def test_each_error_maps_to_its_contract_exit_code() -> None:
    """The mapping is the contract scripts rely on: it must not drift."""
    assert UsageError("x").exit_code == 2
    assert ConfigError("x").exit_code == 2
    assert JobFailedError("x").exit_code == 4
    assert WaitTimeoutError("x").exit_code == 5
    assert AuthError("x").exit_code == 6
    assert ClaretUnavailableError("x").exit_code == 7
    assert JobNotFoundError("x").exit_code == 7
    assert ArtifactError("x").exit_code == 8


def test_artifact_error_names_file_and_line() -> None:
    """An unreadable file is reported with where it broke."""
    assert str(ArtifactError("unterminated quote", file="errors.csv", line=12)) == (
        "errors.csv, line 12: unterminated quote"
    )


def test_config_error_names_file_and_key() -> None:
    """A config problem says which file and which key."""
    assert str(ConfigError("unknown key", file="c.toml", key="tennant")) == (
        "c.toml, key 'tennant': unknown key"
    )


def test_worst_exit_code_lets_three_never_hide_four_to_eight() -> None:
    """With several jobs the highest code wins, so 'records failed' never hides a failed job."""
    assert worst_exit_code([0, 3, 0]) == ExitCode.RECORDS_FAILED
    assert worst_exit_code([3, 4, 3]) == ExitCode.JOB_FAILED
    assert worst_exit_code([3, 8]) == ExitCode.UNREADABLE
    assert worst_exit_code([]) == ExitCode.OK
