"""The exception tree of the contract: each expected error carries its exit code.

Nothing here prints or exits; the CLI has the one catch site that turns these into a message and a code.

    ClaretErrorsError                    1  a bug if it ever reaches the user unclassified
    ├── UsageError                       2  bad arguments
    │   └── ConfigError                  2  bad configuration file or value (names file and key)
    ├── JobFailedError                   4  a job ended `failed`
    ├── WaitTimeoutError                 5  gave up waiting for a job
    ├── AuthError                        6  authentication refused
    ├── ClaretUnavailableError           7  unreachable, or kept failing after retries
    │   ├── ClaretUnreachableError       7  no connection could be made (nothing listens, no such host)
    │   ├── JobNotFoundError             7  Claret says the job does not exist or is not ours
    │   └── UploadUnknownError           7  an upload's answer was lost: it may or may not be a job now
    └── ArtifactError                    8  an artifact file cannot be read (an output that cannot be written
                                            is 8 too, from its OSError)
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Exit codes of the contract (docs/architecture.md)."""

    OK = 0
    BUG = 1
    USAGE = 2
    RECORDS_FAILED = 3
    JOB_FAILED = 4
    WAIT_TIMEOUT = 5
    AUTH = 6
    UNAVAILABLE = 7
    UNREADABLE = 8
    NOT_DELIVERED = 9
    INTERRUPTED = 130


def is_bug(exc: BaseException) -> bool:
    """An unexpected error: any Exception, or a panic inside a Rust extension (polars), which pyo3
    raises as `pyo3_runtime.PanicException`, a BaseException that `except Exception` lets through."""
    kind = type(exc)
    return isinstance(exc, Exception) or (
        kind.__name__ == "PanicException" and kind.__module__ == "pyo3_runtime"
    )


def worst_exit_code(codes: list[int] | list[ExitCode]) -> ExitCode:
    """Combine per-job codes: the highest wins, so 3 never hides 4-8; none at all is 0."""
    return ExitCode(max((int(c) for c in codes), default=0))


class ClaretErrorsError(Exception):
    """Base of every error this tool expects; `exit_code` is what the CLI exits with."""

    exit_code: ExitCode = ExitCode.BUG

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message


class UsageError(ClaretErrorsError):
    """The command line asks for something that cannot be done."""

    exit_code = ExitCode.USAGE


class ConfigError(UsageError):
    """A configuration file or value is wrong; the message names the file and the key."""

    def __init__(self, message: str, *, file: str | None = None, key: str | None = None) -> None:
        where = ", ".join(p for p in (file, f"key {key!r}" if key else None) if p)
        super().__init__(f"{where}: {message}" if where else message)
        self.file = file
        self.key = key


class JobFailedError(ClaretErrorsError):
    """A job ended with status `failed`."""

    exit_code = ExitCode.JOB_FAILED


class WaitTimeoutError(ClaretErrorsError):
    """A job did not finish within --max-wait."""

    exit_code = ExitCode.WAIT_TIMEOUT


class AuthError(ClaretErrorsError):
    """Claret refused the credentials, even after minting a fresh token."""

    exit_code = ExitCode.AUTH


class ClaretUnavailableError(ClaretErrorsError):
    """Claret could not be reached, or kept failing after the retries."""

    exit_code = ExitCode.UNAVAILABLE

    def __init__(self, message: str, *, url: str | None = None, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.url = url


class ClaretUnreachableError(ClaretUnavailableError):
    """No connection could be made to Claret at all: nothing listens there, or no such host."""


class JobNotFoundError(ClaretUnavailableError):
    """Claret answered that the job does not exist or is not visible to this token."""


class UploadUnknownError(ClaretUnavailableError):
    """An upload reached Claret, or may have, but no job id came back: never to be retried blindly."""


class ArtifactError(ClaretErrorsError):
    """An artifact file cannot be used; the message names the file, the line and the problem."""

    exit_code = ExitCode.UNREADABLE

    def __init__(self, message: str, *, file: str | None = None, line: int | None = None) -> None:
        where = file or ""
        if file and line is not None:
            where = f"{file}, line {line}"
        super().__init__(f"{where}: {message}" if where else message)
        self.file = file
        self.line = line
