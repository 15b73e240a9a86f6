"""Write a synthetic Claret inventory job folder of N rows: input, staging, output and errors CSVs.

Used by the load and reconcile benches (`make_job`), the width bench and test (`make_wide_job`, a plain
folder of few rows and many columns) and from the shell
(`python bench/make_job.py OUT_FOLDER --rows 1000000`). Deterministic for a seed; writes nothing else.
"""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path

import polars as pl

FIELDS = ("item_name", "bin_name", "lot_name", "date_filled", "quantity", "uom")
UOMS = ("Gallon", "9LE Case", "Each", "Liter")
_BAD = (
    ("quantity", "-5", "The quantity field must be greater than 0."),
    ("bin_name", "XX-99", "The selected bin name is invalid."),
    ("date_filled", "08/01/2023", "The date filled field must match the format Y-m-d."),
    ("item_name", "NOPE-1", "The selected item name is invalid."),
)


def make_job(folder: Path, rows: int, *, failed_share: float = 0.05, seed: int = 0) -> Path:
    """Write `folder` as fetch would (status.json, manifest.json, artifacts/<kind>/*.csv); return it.

    About `failed_share` of the rows fail with one or two messages ("; "-joined) in the errors file, which
    points back with a 1-based `row` column; staging holds every row with `row`; output the rest with ids.
    """
    i = pl.int_range(0, rows, dtype=pl.Int64, eager=True).alias("i")
    base = pl.DataFrame(i).with_columns(
        ((pl.col("i") * 2654435761 + seed * 97) % 1_000_003).alias("h"),
    )
    uom = pl.Series(UOMS)
    frame = base.with_columns(
        pl.format("{}-{}", 100 + pl.col("i") % 900, (pl.col("i") % 30).cast(pl.String).str.zfill(2)).alias(
            "item_name"
        ),
        pl.format("SS-{}", (pl.col("i") % 200).cast(pl.String).str.zfill(3)).alias("bin_name"),
        pl.format("RM19CAS{}.ZAM", (pl.col("h") % 50000).cast(pl.String).str.zfill(5)).alias("lot_name"),
        pl.format(
            "2023-{}-{}",
            (1 + pl.col("i") % 12).cast(pl.String).str.zfill(2),
            (1 + pl.col("h") % 28).cast(pl.String).str.zfill(2),
        ).alias("date_filled"),
        pl.format("{}.{}", 1 + pl.col("h") % 5000, pl.col("i") % 10).alias("quantity"),
        pl.col("h").mod(len(UOMS)).replace_strict(list(range(len(UOMS))), uom.to_list()).alias("uom"),
        (pl.col("h") < int(failed_share * 1_000_003)).alias("failed"),
        (pl.col("h") % len(_BAD)).alias("bad"),
        (pl.col("h") % 3 == 0).alias("two"),
    )
    for n, (column, value, _message) in enumerate(_BAD):
        frame = frame.with_columns(
            pl.when(pl.col("failed") & (pl.col("bad") == n))
            .then(pl.lit(value))
            .otherwise(pl.col(column))
            .alias(column)
        )
    messages = [m for _c, _v, m in _BAD]
    frame = frame.with_columns(
        pl.col("bad").replace_strict(list(range(len(_BAD))), messages).alias("first"),
        ((pl.col("bad") + 1) % len(_BAD)).replace_strict(list(range(len(_BAD))), messages).alias("second"),
        (pl.col("i") + 1).alias("row"),
    ).with_columns(
        pl.when(pl.col("two"))
        .then(pl.format("{}; {}", "first", "second"))
        .otherwise(pl.col("first"))
        .alias("errors")
    )
    folder.mkdir(parents=True, exist_ok=True)
    written: dict[str, list[str]] = {}
    failed = frame.filter(pl.col("failed"))
    landed = frame.filter(~pl.col("failed")).with_columns(
        (pl.col("i") + 50_000).alias("id"),
        pl.when(pl.col("h") % 5 == 0).then(pl.lit("updated")).otherwise(pl.lit("created")).alias("action"),
    )
    outputs = {
        "input": frame.select(FIELDS),
        "staging": frame.select(
            "row",
            *FIELDS,
            pl.when(pl.col("failed")).then(pl.lit("invalid")).otherwise(pl.lit("valid")).alias("status"),
        ),
        "output": landed.select("id", *FIELDS, "action"),
        "errors": failed.select("row", *FIELDS, "errors"),
    }
    manifest = []
    for kind, data in outputs.items():
        target = folder / "artifacts" / kind / f"inventory_{kind}.csv"
        target.parent.mkdir(parents=True, exist_ok=True)
        data.write_csv(target)
        written[kind] = [f"/bench/download/{target.name}"]
        digest = hashlib.sha256(target.read_bytes()).hexdigest()
        manifest.append(
            {
                "category": kind,
                "source": written[kind][0],
                "path": target.relative_to(folder).as_posix(),
                "bytes": target.stat().st_size,
                "sha256": digest,
            }
        )
    status = {
        "job_log_id": 1,
        "status": "completed",
        "type": "inventory-import",
        "description": "Inventory Import",
        "files": written,
        "timestamps": {"started_at": "2026-01-01T00:00:00Z", "completed_at": "2026-01-01T00:05:00Z"},
        "job_status_link": "https://plan.claret.app/bench/imports/1",
    }
    # As fetch writes them: status.json is Claret's `content`; the manifest lists files in Claret's order.
    (folder / "status.json").write_text(json.dumps(status, indent=2), encoding="utf-8")
    (folder / "manifest.json").write_text(json.dumps({"files": manifest}, indent=2), encoding="utf-8")
    return folder


def make_wide_job(folder: Path, *, extra: int, rows: int) -> Path:
    """input.csv, output.csv and errors.csv with `extra` columns beyond the six fields; every even row fails
    on its bin, and the last extra column of row 1 holds a formula."""
    folder.mkdir(parents=True, exist_ok=True)
    header = [*FIELDS, *(f"extra_{j}" for j in range(extra))]

    def row(i: int) -> list[str]:
        values = [f"{100 + i}-16", "SS-99" if i % 2 == 0 else "SS-01", f"L{i}", "2023-08-01", "5", "Gallon"]
        tail = [f"v{i}_{j}" for j in range(extra)]
        if i == 0 and tail:
            tail[-1] = "=HYPERLINK(1)"
        return values + tail

    lines = {
        "input.csv": [header, *(row(i) for i in range(rows))],
        "output.csv": [header, *(row(i) for i in range(rows) if i % 2)],
        "errors.csv": [
            [*header, "Error Message"],
            *([*row(i), "The selected bin name is invalid."] for i in range(rows) if i % 2 == 0),
        ],
    }
    for name, table in lines.items():
        (folder / name).write_text("".join(",".join(cells) + "\n" for cells in table), encoding="utf-8")
    return folder


def main() -> None:
    """Command line: make_job.py FOLDER [--rows N] [--failed-share F] [--seed S]."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("folder", type=Path)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--failed-share", type=float, default=0.05)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    make_job(args.folder, args.rows, failed_share=args.failed_share, seed=args.seed)
    total = sum(p.stat().st_size for p in (args.folder / "artifacts").rglob("*.csv"))
    print(f"{args.folder}: {args.rows} rows, {total / 1e6:.1f} MB of CSV")


if __name__ == "__main__":
    main()
