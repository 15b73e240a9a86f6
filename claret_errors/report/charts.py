"""Chart geometry for the reports: numbers only (positions, sizes, labels), drawn as SVG by the templates.

No markup here, so every label reaches the page through the template's autoescape. Each chart also has a
text form in the report: colour is never the only signal.
"""

from __future__ import annotations

from dataclasses import dataclass

from claret_errors.history import NightTrend
from claret_errors.results import Counts

BAR_WIDTH = 1000.0


@dataclass(frozen=True)
class Segment:
    """One part of the accounting bar: x and width in a 1000-wide viewBox."""

    name: str
    count: int
    share: str
    x: float
    width: float
    css: str


@dataclass(frozen=True)
class Column:
    """One night of the trend chart: height in a 100-high plot area."""

    label: str
    value: float
    text: str
    x: float
    height: float


def accounting_bar(counts: Counts) -> list[Segment]:
    """Imported, failed and unaccounted as one stacked bar; empty parts are left out."""
    total = counts.input_rows or 1
    parts = [
        ("imported", counts.imported, "ok"),
        ("failed", counts.failed, "bad"),
        ("unaccounted", counts.unaccounted, "lost"),
    ]
    segments: list[Segment] = []
    x = 0.0
    for name, count, css in parts:
        if count <= 0:
            continue
        width = BAR_WIDTH * count / total
        share = 100 * count / total
        label = "<0.1 %" if 0 < share < 0.1 else f"{share:.1f} %"
        segments.append(Segment(name, count, label, round(x, 2), round(width, 2), css))
        x += width
    return segments


def trend_columns(trends: list[NightTrend], *, width: float = 600.0) -> list[Column]:
    """The failed share per night as columns scaled to the worst night (at least 1 %)."""
    if not trends:
        return []
    top = max(max(t.failed_share for t in trends), 0.01)
    step = width / len(trends)
    return [
        Column(
            label=t.night,
            value=t.failed_share,
            text=f"{100 * t.failed_share:.1f} %",
            x=round(i * step + step * 0.15, 2),
            height=round(100 * t.failed_share / top, 2),
        )
        for i, t in enumerate(trends)
    ]
