"""The simulated tenant's master data (items, bins, lots, units) and its existing inventory records.

Read once from the shipped `master/*.csv` (a checkout's `fixtures/`, else the wheel's copy); the engine checks
references against it. Holds no HTTP or job logic.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from claret_errors.resources import fixtures_dir

MASTER_DIR = fixtures_dir() / "master"

RecordKey = tuple[str, str, str]  # (item_name, bin_name, lot_name): what identifies an inventory record


@dataclass(frozen=True)
class MasterData:
    """Names Claret knows; a reference must match one of them exactly (case and inner spaces count)."""

    items: frozenset[str]
    bins: frozenset[str]
    lots: frozenset[str]
    units: frozenset[str]  # unit names and abbreviations, both accepted
    unit_names: tuple[str, ...]
    inventory: tuple[dict[str, str], ...]

    def knows(self, field_name: str, value: str) -> bool:
        """Whether a reference field's value exists in the master data."""
        table = {"item_name": self.items, "bin_name": self.bins, "lot_name": self.lots, "uom": self.units}
        return value in table[field_name]


@dataclass
class Inventory:
    """A tenant's inventory records by key; imports create and update them, so later jobs see earlier ones."""

    records: dict[RecordKey, dict[str, str]] = field(default_factory=dict)
    next_id: int = 1

    @classmethod
    def from_master(cls, master: MasterData) -> Inventory:
        inventory = cls()
        for record in master.inventory:
            inventory.put(record)
        return inventory

    def put(self, record: dict[str, str]) -> int:
        """Create or replace a record; returns its Claret id."""
        key = record_key(record)
        existing = self.records.get(key)
        record_id = int(existing["id"]) if existing else self.next_id
        if not existing:
            self.next_id += 1
        self.records[key] = {**record, "id": str(record_id)}
        return record_id


def record_key(record: dict[str, str]) -> RecordKey:
    """The identity of an inventory record: item, bin and lot."""
    return (record["item_name"], record["bin_name"], record["lot_name"])


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@cache
def load_master(folder: Path = MASTER_DIR) -> MasterData:
    """The master data of every simulated tenant (all tenants share it; their inventories diverge)."""
    units = _rows(folder / "units.csv")
    return MasterData(
        items=frozenset(r["item_name"] for r in _rows(folder / "items.csv")),
        bins=frozenset(r["bin_name"] for r in _rows(folder / "bins.csv")),
        lots=frozenset(r["lot_name"] for r in _rows(folder / "lots.csv")),
        units=frozenset([u["name"] for u in units] + [u["abbreviation"] for u in units]),
        unit_names=tuple(u["name"] for u in units),
        inventory=tuple(_rows(folder / "inventory.csv")),
    )
