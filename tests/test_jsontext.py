"""Pretty JSON: summary.json and --json keep one exact text format."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from claret_errors.files.jsontext import pretty_json


@dataclass
class _Point:
    x: int


def test_the_text_is_indented_utf8_with_other_values_as_their_str() -> None:
    """Scripts diff and grep these files: the format (indent, raw UTF-8, paths and dates as text) is fixed."""
    payload = {
        "text": 'Rosé "quoted"',
        "n": [1, 1.5, None, True],
        "empty": {},
        "path": Path("/x/y"),
        "when": datetime(2026, 1, 1, tzinfo=UTC),
        "point": _Point(1),
        "big": 2**70,
    }
    assert pretty_json(payload) == (
        "{\n"
        '  "text": "Rosé \\"quoted\\"",\n'
        '  "n": [\n    1,\n    1.5,\n    null,\n    true\n  ],\n'
        '  "empty": {},\n'
        '  "path": "/x/y",\n'
        '  "when": "2026-01-01 00:00:00+00:00",\n'
        '  "point": "_Point(x=1)",\n'
        f'  "big": {2**70}\n'
        "}"
    )
