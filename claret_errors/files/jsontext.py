"""Pretty JSON text for the files and the `--json` output: orjson where it can, the standard library where
it cannot. A night's summary.json holds every schema finding (25,000 on a million-row job), and the
standard library's indenting encoder is pure Python: 0.48 s against orjson's 0.02 s for the same text.
"""

from __future__ import annotations

import json
from typing import Any

import orjson

# Dates and dataclasses go through `str` as with json.dumps(default=str), so the text does not change.
_OPTIONS = orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME
_OPTIONS |= orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_PASSTHROUGH_SUBCLASS


def pretty_json(payload: Any) -> str:
    """Indented (2), UTF-8 kept as is, non-JSON values as their `str`; no trailing newline."""
    try:
        return orjson.dumps(payload, default=str, option=_OPTIONS).decode("utf-8")
    except (orjson.JSONEncodeError, TypeError):
        # What orjson refuses and json takes: integers beyond 64 bits, keys of odd types.
        return json.dumps(payload, indent=2, ensure_ascii=False, default=str)
