"""Import profiles and header names: the canonical fields of each import type and their aliases.

Shared by loading (header mapping) and classification (the attribute a message names). Pure functions on
strings; no polars here, so the CLI can import it cheaply.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping

INVENTORY_FIELDS: tuple[str, ...] = ("item_name", "bin_name", "lot_name", "date_filled", "quantity", "uom")
# Other import types share the status endpoint; their records are analysed with the generic profile.
SALES_SUPPLY_FIELDS: tuple[str, ...] = ("item", "location", "date", "quantity", "supply_type")

# Built-in aliases: header names seen in uploads with a field mapping (normalised form on the left).
BUILTIN_ALIASES: Mapping[str, tuple[str, ...]] = {
    "item_name": ("item", "item_code", "item_no", "item_number", "sku", "product", "wine"),
    "bin_name": ("bin", "bin_code", "tank", "location_bin", "storage_bin"),
    "lot_name": ("lot", "lot_code", "lot_number", "lot_no", "batch"),
    "date_filled": ("date", "fill_date", "filled_date", "date_filled_ymd", "filled_on"),
    "quantity": ("qty", "amount", "volume", "qty_on_hand", "on_hand"),
    "uom": ("unit", "units", "unit_of_measure", "uom_name", "measure"),
}

_SPACES = re.compile(r"[\s\-./]+")
_STRIP = re.compile(r"[^0-9a-z_]")


def normalize_header(name: str) -> str:
    """`" Date Filled\ufeff"` -> `"date_filled"`: case, spaces, BOM, stray quotes and punctuation folded."""
    text = unicodedata.normalize("NFKC", name).replace("\ufeff", "").strip().strip("'\"`").strip()
    text = _SPACES.sub("_", text.lower())
    return _STRIP.sub("", text).strip("_")


def alias_table(extra: Mapping[str, tuple[str, ...]] | None = None) -> dict[str, str]:
    """Normalised alias -> canonical field, built-in first, then the config's `[aliases]` on top."""
    table: dict[str, str] = {}
    for source in (BUILTIN_ALIASES, extra or {}):
        for canonical, names in source.items():
            canon = normalize_header(canonical)
            table[canon] = canon
            for alias in names:
                table[normalize_header(alias)] = canon
    return table


def canonical_field(name: str, table: Mapping[str, str]) -> str:
    """The canonical field a header or message attribute means, else its normalised form."""
    key = normalize_header(name)
    return table.get(key, key)
