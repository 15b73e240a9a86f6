"""Where the shipped sample data lives: `fixtures/` of a checkout, else the copy packed into the wheel.

The simulator's master data and scenarios and the demo's nightly file are read from here, so the tool works
the same from an editable install and from a wheel.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def fixtures_dir() -> Path:
    """The checkout's fixtures folder when there is one, else the wheel's `claret_errors/_fixtures`."""
    checkout = _PACKAGE.parent / "fixtures"
    return checkout if checkout.is_dir() else _PACKAGE / "_fixtures"
