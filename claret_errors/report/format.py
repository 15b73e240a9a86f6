"""Text for people in the reports: capped cells, safe links, durations, times, shares, and capped tables.

Pure string work with no polars and no markup: escaping is the renderers' job, not this module's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from claret_errors.redact import mask_secrets

ROW_CAP = 500  # rows of a large table shown on the page; the CSVs next to the report hold them all
CELL_CAP = 200  # characters of one cell shown on the page
FULL_CAP = 2000  # characters of an input value kept for its "whole value" view (the CSVs hold the rest)
SHORT = 40  # characters of a value shown in a table cell before the rest is one click or hover away


def clip(value: object, limit: int = CELL_CAP) -> str:
    """A cell as display text: None is empty, long text is cut with an ellipsis (secrets masked first: a
    cut one would no longer be found whole when the report is written)."""
    text = "" if value is None else mask_secrets(str(value))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def safe_link(url: str | None) -> str | None:
    """Only http(s) URLs become links: a `javascript:` URL from outside must never be clickable."""
    if not url:
        return None
    parts = urlsplit(url.strip())
    return url.strip() if parts.scheme in ("http", "https") and parts.netloc else None


def duration(start: str | None, end: str | None) -> str:
    """`3 min 12 s` between two ISO 8601 stamps, or empty when either is missing or unreadable."""
    try:
        seconds = int(
            (datetime.fromisoformat(end or "") - datetime.fromisoformat(start or "")).total_seconds()
        )
    except (ValueError, TypeError):
        return ""
    if seconds < 0:
        return ""
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min {secs} s" if minutes else f"{secs} s"


def when(stamp: str | None) -> str:
    """An ISO 8601 stamp for people: `2026-11-27 02:00:05 UTC`; anything unreadable is shown as given."""
    if not stamp:
        return "unknown"
    try:
        moment = datetime.fromisoformat(stamp)
    except ValueError:
        return stamp
    return moment.strftime("%Y-%m-%d %H:%M:%S %Z").strip()


def pct(part: int, whole: int) -> str:
    """A share for people: `12.5 %`, `<0.1 %` for tiny non-zero shares, `0 %` for none."""
    if not whole or not part:
        return "0 %"
    share = 100 * part / whole
    return "<0.1 %" if share < 0.1 else f"{share:.1f} %"


def rows_of(n: int) -> str:
    """`1 row`, `2 rows`."""
    return f"{n:,} row" if n == 1 else f"{n:,} rows"


@dataclass(frozen=True)
class Table:
    """A capped table: `total` rows exist, `rows` are shown, the rest is in `csv`."""

    headers: list[str]
    rows: list[list[str]]
    total: int
    csv: str = ""

    @property
    def capped(self) -> bool:
        return self.total > len(self.rows)
