"""Realistic nightly inventory CSVs for the demo and tests: mostly good rows, every error category in some.

Deterministic by seed. Some bad rows are what a careful tool could auto-fix (08/01/2023, "1,200", "gal",
wrong case, doubled spaces); others need a person. Builds bytes only; knows nothing of HTTP or jobs.
"""

from __future__ import annotations

import random
from bisect import bisect_right
from collections.abc import Callable

from claret_errors.fields import INVENTORY_FIELDS
from claret_errors.simulator.artifacts import write_csv
from claret_errors.simulator.master import MasterData, RecordKey, load_master, record_key

Row = dict[str, str]
# One kind per taxonomy category first, so that any file with a few error rows has them all.
GUARANTEED = ("missing", "unknown_bin", "date_us", "qty_thousands", "qty_zero", "duplicate", "existing")
OTHERS = (
    "too_long",
    "date_slash",
    "date_bad",
    "qty_unit",
    "qty_text",
    "qty_negative",
    "unit_alias",
    "ref_case",
    "ref_spaces",
    "unknown_item",
    "unknown_lot",
)


def _unit_for(item: str, rng: random.Random) -> str:
    if item.startswith(("ZAM", "RUT")):
        return "Gallon"
    if item.startswith("CRP"):
        return "Ton"
    return rng.choice(("9LE Case", "Case", "Each"))


def _good_row(key: RecordKey, rng: random.Random) -> Row:
    quantity = rng.choice((str(rng.randint(1, 5000)), f"{rng.uniform(0.5, 3000):.2f}"))
    filled = f"{rng.choice((2023, 2024))}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
    values = (*key, filled, quantity, _unit_for(key[0], rng))
    return dict(zip(INVENTORY_FIELDS, values, strict=True))


def _good_rows(count: int, master: MasterData, rng: random.Random) -> list[Row]:
    """Valid rows whose item/bin/lot keys are not in the tenant's inventory and distinct within any run of
    as many rows as there are free keys (28,776 with the shipped master data).

    A longer file starts the same keys over, with fresh dates and quantities: the master data has no more,
    and a Claret job holds at most 1000 rows, so no job of such a file repeats a key by accident.
    """
    items, bins, lots = sorted(master.items), sorted(master.bins), sorted(master.lots)
    existing = {record_key(r) for r in master.inventory}
    total = len(items) * len(bins) * len(lots)
    rows: list[Row] = []
    for index in rng.sample(range(total), min(total, count + len(existing))):
        item = items[index // (len(bins) * len(lots))]
        bin_name = bins[(index // len(lots)) % len(bins)]
        lot = lots[index % len(lots)]
        if (item, bin_name, lot) in existing:
            continue
        rows.append(_good_row((item, bin_name, lot), rng))
        if len(rows) == count:
            return rows
    keys = [record_key(r) for r in rows]
    rows.extend(_good_row(keys[i % len(keys)], rng) for i in range(count - len(rows)))
    return rows


def _mutations(master: MasterData, rng: random.Random) -> dict[str, Callable[[Row], None]]:
    """Each error kind as an in-place change of a good row."""

    def setter(field_name: str, value: Callable[[Row], str]) -> Callable[[Row], None]:
        def apply(row: Row) -> None:
            row[field_name] = value(row)

        return apply

    def existing(row: Row) -> None:
        row.update(
            {
                k: v
                for k, v in rng.choice(master.inventory).items()
                if k in ("item_name", "bin_name", "lot_name")
            }
        )

    def date_us(row: Row) -> str:
        y, m, d = row["date_filled"].split("-")
        return f"{m}/{d}/{y}"

    return {
        "missing": lambda row: row.__setitem__(rng.choice(INVENTORY_FIELDS), ""),
        "unknown_bin": setter("bin_name", lambda r: rng.choice(("SS-99", "TANK-7", "BRL-999"))),
        "unknown_item": setter("item_name", lambda r: rng.choice(("999-99", "ZAMNVXXX19", "128-15"))),
        "unknown_lot": setter("lot_name", lambda r: rng.choice(("RM19XXXRUT.ZAM", "LOT-0000"))),
        "date_us": setter("date_filled", date_us),
        "date_slash": setter("date_filled", lambda r: r["date_filled"].replace("-", "/")),
        "date_bad": setter("date_filled", lambda r: rng.choice(("2023-13-45", "2023-02-30", "yesterday"))),
        "qty_thousands": setter("quantity", lambda r: f"{rng.randint(1, 9)},{rng.randint(0, 999):03d}"),
        "qty_unit": setter("quantity", lambda r: f"{rng.randint(1, 500)} gal"),
        "qty_text": setter("quantity", lambda r: rng.choice(("approx 40", "n/a", "TBD"))),
        "qty_zero": setter("quantity", lambda r: "0"),
        "qty_negative": setter("quantity", lambda r: f"-{rng.randint(1, 300)}"),
        "too_long": setter("lot_name", lambda r: (r["lot_name"] + "-") * 30),
        "unit_alias": setter("uom", lambda r: rng.choice(("gal", "gallon", "gallons", "cases"))),
        "ref_case": setter("bin_name", lambda r: r["bin_name"].lower()),
        "ref_spaces": setter("uom", lambda r: rng.choice(("9LE  Case", "Gal lon"))),
        "existing": existing,
    }


def _nth_good(n: int, bad: list[int]) -> int:
    """The row index of the n-th (0-based) row not in the sorted `bad` list, without listing the good ones."""
    low, high = n, n + len(bad)
    while low < high:  # smallest x with n + 1 good rows in 0..x
        middle = (low + high) // 2
        if middle + 1 - bisect_right(bad, middle) > n:
            high = middle
        else:
            low = middle + 1
    return low


def make_nightly_csv(rows: int, *, seed: int, error_share: float = 0.08) -> bytes:
    """A nightly inventory CSV of `rows` data rows; with error_share > 0 and enough rows, every category."""
    rng = random.Random(seed)
    master = load_master()
    if rows <= 0:
        return write_csv(INVENTORY_FIELDS, [])
    records = _good_rows(rows, master, rng)
    if error_share <= 0 or rows < 2:
        return write_csv(INVENTORY_FIELDS, [[r[f] for f in INVENTORY_FIELDS] for r in records])
    wanted = max(round(rows * error_share), min(len(GUARANTEED), rows // 2))
    positions = sorted(rng.sample(range(1, rows), min(wanted, rows - 1)))
    kinds = list(GUARANTEED[: len(positions)])
    kinds += [rng.choice(GUARANTEED + OTHERS) for _ in range(len(positions) - len(kinds))]
    rng.shuffle(kinds)
    mutate = _mutations(master, rng)
    for index, (position, kind) in enumerate(zip(positions, kinds, strict=True)):
        if kind == "duplicate":
            source = records[_nth_good(rng.randrange(position - index), positions)]
            records[position].update({k: source[k] for k in ("item_name", "bin_name", "lot_name")})
        else:
            mutate[kind](records[position])
    return write_csv(INVENTORY_FIELDS, [[r[f] for f in INVENTORY_FIELDS] for r in records])
