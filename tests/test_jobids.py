"""Job ids come from arguments, a file or stdin, and are checked before any network call."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from claret_errors.cli.jobids import collect_job_ids
from claret_errors.errors import UsageError


def test_ids_from_args_and_file_deduplicated_in_order(tmp_path: Path) -> None:
    """The nightly script's file may repeat ids or carry comments; each job runs once."""
    ids = tmp_path / "ids.txt"
    ids.write_text("# tonight\n12\n\n13  # second chunk\n12\n", encoding="utf-8")
    assert collect_job_ids(("11", "12"), str(ids)) == ["11", "12", "13"]


def test_ids_from_stdin(monkeypatch: pytest.MonkeyPatch) -> None:
    """`--from-file -` reads standard input, so the import script can pipe ids in."""
    monkeypatch.setattr("sys.stdin", io.StringIO("5\n6\n"))
    assert collect_job_ids((), "-") == ["5", "6"]


def test_non_numeric_id_is_a_usage_error() -> None:
    """A path-like id never reaches a URL or a folder name."""
    with pytest.raises(UsageError, match="not a job id"):
        collect_job_ids(("../../etc",), None)


def test_no_ids_is_a_usage_error(tmp_path: Path) -> None:
    """An empty id file is a mistake worth stopping for."""
    empty = tmp_path / "none.txt"
    empty.write_text("\n", encoding="utf-8")
    with pytest.raises(UsageError, match="no job ids"):
        collect_job_ids((), str(empty))
