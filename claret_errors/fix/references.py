"""The names a job proves exist in Claret (its landed and staged rows) and those a master-data export lists:
what the reference fixes match failed values against. Reads frames and the master-data files only.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from claret_errors.errors import ConfigError
from claret_errors.fields import alias_table, canonical_field, normalize_header
from claret_errors.results import LoadedJob, Reconciliation

if TYPE_CHECKING:
    import polars as pl

REFERENCE_FIELDS = ("item_name", "bin_name", "lot_name", "uom")
# Messages that may be about any field: their rows prove no reference exists.
_UNSPECIFIC_CATEGORIES = ("unknown_reference", "unclassified")
_MASTER_NAME_COLUMNS = frozenset({"name", "abbreviation", "abbr", "code", "short_name"})


def proven_names(
    job: LoadedJob, rec: Reconciliation, fields: Iterable[str] = REFERENCE_FIELDS
) -> dict[str, set[str]]:
    """Reference values the job itself proves exist: every landed row's, and staged rows' not in doubt;
    for the reference `fields` given (all by default).

    One select per frame, so polars works out the fields side by side.
    """
    import polars as pl

    wanted = [n for n in REFERENCE_FIELDS if n in set(fields)]
    found: list[dict[str, list[str]]] = []
    landed = [n for n in wanted if n in job.output.columns]
    if landed:
        found.append(job.output.select(*(_distinct(pl.col(n)).alias(n) for n in landed)).row(0, named=True))
    staged = [n for n in wanted if n in job.staging.columns and "input_row" in job.staging.columns]
    if staged:
        unspecific = (pl.col("field").fill_null("") == "") & pl.col("category").is_in(_UNSPECIFIC_CATEGORIES)
        doubt = rec.messages.filter(pl.col("input_row").is_not_null()).select(
            *(
                pl.col("input_row").filter((pl.col("field") == n) | unspecific).implode().alias(n)
                for n in staged
            )
        )
        sure = pl.col("input_row").is_not_null()
        clean = (
            _distinct(pl.col(n).filter(sure & ~pl.col("input_row").is_in(doubt[n]))).alias(n) for n in staged
        )
        found.append(job.staging.select(*clean).row(0, named=True))
    names: dict[str, set[str]] = {}
    for name in REFERENCE_FIELDS:
        values = {v for distinct in found for v in distinct.get(name, ()) if v}
        if values:
            names[name] = values
    return names


def master_names(path: Path | None, aliases: Mapping[str, tuple[str, ...]]) -> dict[str, set[str]]:
    """Known names from a master-data export: a CSV or a folder of CSVs (items, bins, lots, units).

    A column counts when its header is a reference field (or an alias of one), or when it is `name` /
    `abbreviation` in a file named after a field (`units.csv` -> uom).
    """
    if path is None:
        return {}
    if path.is_dir():
        files = sorted(p for p in path.glob("*.csv") if p.is_file())
    elif path.is_file():
        files = [path]
    else:
        raise ConfigError("master data not found", file=str(path), key="master_data")
    table = alias_table(aliases)
    names: dict[str, set[str]] = {}
    for file in files:
        header, rows = _read_master(file)
        for index, column in enumerate(header):
            target = _master_field(column, file.stem, table)
            if target:
                values = (row[index].strip() for row in rows if index < len(row))
                names.setdefault(target, set()).update(v for v in values if v)
    return names


def _master_field(column: str, stem: str, table: Mapping[str, str]) -> str:
    """The reference field a master-data column lists, or "" if none."""
    canon = canonical_field(column, table)
    if canon in REFERENCE_FIELDS:
        return canon
    if normalize_header(column) in _MASTER_NAME_COLUMNS:
        for candidate in (stem, stem.rstrip("sS")):
            canon = canonical_field(candidate, table)
            if canon in REFERENCE_FIELDS:
                return canon
    return ""


def _read_master(file: Path) -> tuple[list[str], list[list[str]]]:
    try:
        with file.open(encoding="utf-8-sig", newline="") as handle:
            rows = list(csv.reader(handle))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise ConfigError(f"master data cannot be read: {exc}", file=str(file), key="master_data") from exc
    return (rows[0], rows[1:]) if rows else ([], [])


def _distinct(values: pl.Expr) -> pl.Expr:
    """The distinct stripped values, as one list (the empty one among them: callers drop it)."""
    import polars as pl

    # Distinct values first: a million landed rows name a few thousand items, bins and lots.
    return values.cast(pl.String).unique().str.strip_chars().drop_nulls().unique().implode()
