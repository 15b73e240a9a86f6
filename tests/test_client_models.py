"""The status document: unknown fields tolerated, missing or mistyped fields named in the error."""

from __future__ import annotations

from typing import Any

import pytest

from claret_errors.claret.models import StatusFormatError, parse_status
from claret_errors.errors import ExitCode


def body(**content: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "job_log_id": 7,
        "status": "in_progress",
        "type": "inventory-import",
        "description": "Inventory Import",
        "progress": {"completed_steps": 1, "total_steps": 4, "current_step": "validating"},
        "files": {"input": ["/demo/download/demo/7/input.csv"]},
        "job_status_link": "https://plan.claret.app/demo/jobs/7",
        "timestamps": {"started_at": "2024-01-01T00:00:00Z", "completed_at": None},
        "user_id": 3,
    }
    base.update(content)
    return {"message": "Job status retrieved successfully", "content": base}


def test_documented_status_parses_into_typed_fields() -> None:
    """Every documented field lands in its typed place; the raw content is kept for status.json."""
    status = parse_status(body())
    assert status.job_log_id == 7 and status.status == "in_progress" and not status.finished
    assert status.progress.completed_steps == 1 and status.progress.total_steps == 4
    assert status.files == {"input": ("/demo/download/demo/7/input.csv",)}
    assert status.started_at == "2024-01-01T00:00:00Z" and status.completed_at is None
    assert status.raw["user_id"] == 3


def test_unknown_fields_are_tolerated_and_kept() -> None:
    """Claret may add fields at any time; that must not break waiting."""
    status = parse_status(body(new_field={"x": 1}, status="completed"))
    assert status.finished and status.raw["new_field"] == {"x": 1}


@pytest.mark.parametrize(
    ("content", "named"),
    [
        ({"job_log_id": None}, "content.job_log_id"),
        ({"status": 5}, "content.status"),
        ({"progress": {"completed_steps": "many"}}, "content.progress.completed_steps"),
        ({"files": {"errors": [1, 2]}}, "content.files.errors"),
        ({"files": "nope"}, "content.files"),
        ({"timestamps": {"started_at": 12}}, "content.timestamps.started_at"),
    ],
)
def test_mistyped_field_is_named_in_the_error(content: dict[str, Any], named: str) -> None:
    """A user reading the error must learn which field of Claret's answer was wrong."""
    with pytest.raises(StatusFormatError) as info:
        parse_status(body(**content), url="http://x/status/7")
    assert named in str(info.value)
    assert info.value.exit_code == ExitCode.UNAVAILABLE


def test_missing_required_field_is_named() -> None:
    """Without a status we cannot know whether to keep waiting: say which field is missing."""
    document = body()
    del document["content"]["status"]
    with pytest.raises(StatusFormatError, match=r"lacks the field content\.status"):
        parse_status(document)
    with pytest.raises(StatusFormatError, match="lacks the field content"):
        parse_status({"message": "ok"})


def test_lone_path_string_is_read_as_a_list_of_one() -> None:
    """The docs say lists; a single string is an obvious variant we accept rather than fail the job."""
    status = parse_status(body(files={"errors": "/demo/e.csv", "staging": None}))
    assert status.files == {"errors": ("/demo/e.csv",)}


def test_lenient_parse_takes_bare_content_and_leaves_bad_fields_unknown() -> None:
    """status.json on disk holds `content` alone and may be hand-made: read what is there, refuse nothing."""
    status = parse_status(
        {"status": "FAILED", "job_log_id": "x", "progress": [1], "files": {"e": 3}}, lenient=True
    )
    assert (status.status, status.job_log_id, status.progress.total_steps, status.files) == (
        "failed",
        None,
        0,
        {},
    )
    assert parse_status("junk", lenient=True).status == "unknown"
