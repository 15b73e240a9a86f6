"""Owners: route each failed record to exactly one owner, from a small TOML file of routes.

First matching route wins, else the default owner. Routes match on field values (regex), on the category
and field of a message. Parses and routes; never prints. A bad file raises ConfigError naming file and key.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from claret_errors.config import CATEGORIES
from claret_errors.errors import ConfigError
from claret_errors.fields import INVENTORY_FIELDS, SALES_SUPPLY_FIELDS, alias_table, canonical_field

if TYPE_CHECKING:
    import polars as pl

DEFAULT_OWNER = "unassigned"
# Owner names become file names (owners/<owner>.html): keep them plain.
_OWNER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_KNOWN_FIELDS = frozenset(INVENTORY_FIELDS + SALES_SUPPLY_FIELDS)


@dataclass(frozen=True)
class Route:
    """One `[[route]]`: every condition given must hold; `values` maps a column to a regex on its value."""

    owner: str
    key: str  # "route[0]", to name it in errors
    values: tuple[tuple[str, str], ...] = ()
    categories: tuple[str, ...] = ()
    fields: tuple[str, ...] = ()


def _owner_name(value: Any, where: str, key: str) -> str:
    if not isinstance(value, str) or not _OWNER_NAME.match(value):
        raise ConfigError(
            "must be a name of letters, digits, '.', '_' or '-' (it becomes a file name)", file=where, key=key
        )
    return value


def _names(value: Any, where: str, key: str) -> tuple[str, ...]:
    values = [value] if isinstance(value, str) else value
    if not isinstance(values, list) or not values or not all(isinstance(v, str) and v for v in values):
        raise ConfigError("must be a name or a list of names", file=where, key=key)
    return tuple(values)


def _check_pattern(pattern: Any, where: str, key: str) -> str:
    """The regex must be valid for polars' engine (Rust regex: linear time on untrusted values)."""
    import polars as pl

    if not isinstance(pattern, str) or not pattern:
        raise ConfigError("must be a regex string", file=where, key=key)
    try:
        pl.Series([""]).str.contains(pattern)
    except pl.exceptions.PolarsError as exc:
        raise ConfigError(f"not a valid regex: {exc}", file=where, key=key) from None
    return pattern


def read_owners_file(path: Path) -> dict[str, Any]:
    """The owners file as TOML data, or ConfigError naming it; its routes and contacts are read from this."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read owners file: {exc.strerror}", file=str(path)) from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"not valid TOML: {exc}", file=str(path)) from exc


class Owners:
    """The routing table; `route` gives one owner per failed record."""

    def __init__(
        self, routes: tuple[Route, ...] = (), default: str = DEFAULT_OWNER, source: str = ""
    ) -> None:
        self.routes = routes
        self.default = default
        self.source = source

    @classmethod
    def load(cls, path: Path | None) -> Owners:
        """Read an owners file; None means everyone's records go to the default owner."""
        if path is None:
            return cls()
        where = str(path)
        data = read_owners_file(path)
        # contacts, digest and webhook say how owners are told: read by the notify stage.
        unknown = set(data) - {"default", "route", "contacts", "digest", "webhook"}
        if unknown:
            raise ConfigError("unknown key", file=where, key=sorted(unknown)[0])
        default = _owner_name(data.get("default", DEFAULT_OWNER), where, "default")
        raw_routes = data.get("route", [])
        if not isinstance(raw_routes, list):
            raise ConfigError("must be an array of tables ([[route]])", file=where, key="route")
        aliases = alias_table()
        routes: list[Route] = []
        for i, raw in enumerate(raw_routes):
            key = f"route[{i}]"
            if not isinstance(raw, dict):
                raise ConfigError("must be a table", file=where, key=key)
            owner = _owner_name(raw.get("owner"), where, f"{key}.owner")
            categories = _names(raw["category"], where, f"{key}.category") if "category" in raw else ()
            for category in categories:
                if category not in CATEGORIES:
                    raise ConfigError(
                        f"must be one of {', '.join(CATEGORIES)}", file=where, key=f"{key}.category"
                    )
            fields = _names(raw["field"], where, f"{key}.field") if "field" in raw else ()
            values = tuple(
                (canonical_field(name, aliases), _check_pattern(pattern, where, f"{key}.{name}"))
                for name, pattern in raw.items()
                if name not in ("owner", "category", "field")
            )
            if not (values or categories or fields):
                raise ConfigError("a route needs at least one condition", file=where, key=key)
            routes.append(
                Route(
                    owner=owner,
                    key=key,
                    values=values,
                    categories=categories,
                    fields=tuple(canonical_field(f, aliases) for f in fields),
                )
            )
        return cls(tuple(routes), default, where)

    @property
    def names(self) -> tuple[str, ...]:
        """Every owner this file can route to, default last."""
        seen = dict.fromkeys([*(r.owner for r in self.routes), self.default])
        return tuple(seen)

    def route(self, failed: pl.DataFrame) -> pl.Series:
        """One owner per row of `failed` (Reconciliation.failed: input columns, `categories`, `fields`).

        Category and field conditions hold when one message of the record has both (they are aligned
        with `messages`). A value condition on a column the frame lacks is an error, unless it is a
        canonical field of some import type (then it simply does not match this job).
        """
        import polars as pl

        index = pl.int_range(pl.len(), dtype=pl.UInt32).alias("_row")
        owner = pl.lit(self.default, dtype=pl.String)
        conditions: list[tuple[Route, pl.Expr]] = []
        pairs: pl.DataFrame | None = None
        for route in self.routes:
            condition = pl.lit(True)
            for column, pattern in route.values:
                if column not in failed.columns:
                    if column in _KNOWN_FIELDS:
                        condition = pl.lit(False)
                        continue
                    raise ConfigError("no such column in the failed records", file=self.source, key=route.key)
                text = pl.col(column).cast(pl.String)
                condition = condition & text.str.contains(pattern).fill_null(False)
            if route.categories or route.fields:
                if pairs is None:
                    pairs = _message_pairs(failed)
                matched = pairs.filter(
                    (pl.col("category").is_in(route.categories) if route.categories else pl.lit(True))
                    & (pl.col("field").is_in(route.fields) if route.fields else pl.lit(True))
                )["_row"].unique()
                condition = condition & index.is_in(matched.implode())
            conditions.append((route, condition))
        for route, condition in reversed(conditions):
            owner = pl.when(condition).then(pl.lit(route.owner)).otherwise(owner)
        return failed.with_columns(owner.alias("_routed_owner"))["_routed_owner"].alias("owner")


def _message_pairs(failed: pl.DataFrame) -> pl.DataFrame:
    """(`_row`, category, field) for every message of every failed record."""
    import polars as pl

    return (
        failed.select(
            pl.int_range(pl.len(), dtype=pl.UInt32).alias("_row"),
            pl.col("categories").alias("category"),
            pl.col("fields").alias("field"),
        )
        .explode(["category", "field"])
        .drop_nulls(["category"])
    )
