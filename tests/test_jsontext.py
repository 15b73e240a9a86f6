"""Pretty JSON: the text json.dumps(indent=2, ensure_ascii=False, default=str) gives, faster."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from claret_errors.files.jsontext import pretty_json


@dataclass
class _Point:
    x: int


@pytest.mark.parametrize(
    "payload",
    [
        {"a": 1, "b": [1, 2, {"c": None}], "e": [], "o": {}, "f": 1.5, "t": True},
        {"text": 'Rosé \u2028 "quoted" \\ back', "nested": {"deep": [[], [{}]]}},
        {"path": Path("/x/y"), "when": datetime(2026, 1, 1, tzinfo=UTC), "point": _Point(1)},
        {1: "int key", "big": 2**70},
        [],
        "plain",
    ],
)
def test_same_text_as_the_standard_library(payload: object) -> None:
    """summary.json and --json keep their exact text; values orjson refuses go the standard way."""
    assert pretty_json(payload) == json.dumps(payload, indent=2, ensure_ascii=False, default=str)
