"""Pretty JSON text for the files and the `--json` output, one format everywhere: indented by 2, UTF-8 kept
as is, values JSON lacks (paths, dates) as their `str`. Only formats; never writes.
"""

from __future__ import annotations

import json
from typing import Any


def pretty_json(payload: Any) -> str:
    """Indented (2), UTF-8 kept as is, non-JSON values as their `str`; no trailing newline."""
    return json.dumps(payload, indent=2, ensure_ascii=False, default=str)
