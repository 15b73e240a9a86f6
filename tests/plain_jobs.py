"""A plain job folder on disk, as a person hands one to `analyze`: input.csv, output.csv and errors.csv
in the inventory columns. A helper module for the tests that build one, not a test file."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

HEADER = "item_name,bin_name,lot_name,date_filled,quantity,uom"


def plain_job(
    folder: Path, rows: Sequence[str], landed: Iterable[str], failed: Iterable[tuple[str, str]]
) -> Path:
    """Write `rows` as the input, `landed` as the output and each (row, message) of `failed` as an error
    row whose message is quoted; the folder, made here."""
    folder.mkdir()
    (folder / "input.csv").write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    (folder / "output.csv").write_text("\n".join([HEADER, *landed]) + "\n", encoding="utf-8")
    errors = [f'{row},"{message}"' for row, message in failed]
    (folder / "errors.csv").write_text(
        "\n".join([f"{HEADER},Error Message", *errors]) + "\n", encoding="utf-8"
    )
    return folder
