"""Text as inert inline Markdown, with Markdown's own backslash escapes and never HTML entities, so a
plain-text reader sees `a > b & c` as written. Shared by the Markdown reports and the secret masking that
must recognise a secret in that shape. Only formats; never writes.
"""

from __future__ import annotations

import re

# Pipes, backticks, brackets, backslashes, `*`, `~` and `<` (no raw HTML passes), `_` at a word's edge
# (inside a word it is no emphasis, and `bin_name` stays readable), `&` before an entity's name.
_SPECIAL = re.compile(r"([\\`|\[\]*~<])|(?<![0-9A-Za-z])_|_(?![0-9A-Za-z])|&(?=#?\w+;)")
_LINE_START = re.compile(r"^(#(?=#{0,5}(\s|$))|>|\d{1,9}(?=[.)](\s|$)))")  # a heading, a quote, a list item


def markdown_text(text: str) -> str:
    """`text` (one line) escaped so that nothing in it is Markdown syntax, wherever the line starts."""
    text = _SPECIAL.sub(lambda m: "\\" + m[0], text)
    return _LINE_START.sub(_marker, text, count=1)


def _marker(m: re.Match[str]) -> str:
    """`#` or `>` escaped; a list number keeps its digits and has the `.` or `)` after it escaped."""
    return m[0] + "\\" if m[0][0].isdigit() else "\\" + m[0]
