"""Bench the whole offline analyse of a large job against polars' own read and a hand-written pandas join.

`python bench/bench_analyze.py [--rows 1000000]`: load, validate, reconcile, classify, write
`failed_records.csv`, `messages.csv` and `summary.json`; prints both ratios and the peak memory.
Targets (issue 6): analyse <= 2x polars reading the four files; >= 10x faster than pandas; memory <= 2x disk.
"""

from __future__ import annotations

import argparse
import gc
import itertools
import json
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from make_job import make_job

from claret_errors.config import Settings
from claret_errors.errors import ExitCode
from claret_errors.files.atomic import atomic_write_json
from claret_errors.files.csvwrite import write_people_csv
from claret_errors.pipeline import load_and_validate
from claret_errors.reconcile.accounting import reconcile_with
from claret_errors.reconcile.classify import RulePack
from claret_errors.reconcile.owners import Owners
from claret_errors.results import JobResult

STAGES = ("load+validate", "reconcile+classify", "write")


def _csv_files(folder: Path) -> list[Path]:
    return sorted((folder / "artifacts").rglob("*.csv"))


def polars_read(folder: Path, out: Path) -> None:
    """The floor: polars reading the same four files as text, nothing else."""
    for path in _csv_files(folder):
        pl.read_csv(path, infer_schema=False)


def analyse(folder: Path, out: Path, stages: dict[str, float] | None = None) -> None:
    """The tool's whole offline analyse, as `claret-errors analyze` runs it (without the HTML reports).

    `stages`, when given, receives the seconds of each stage, to see where the time goes.
    """
    marks = [time.perf_counter()]
    settings = Settings()
    job, findings = load_and_validate(folder, settings)  # the input validated while the rest is read
    marks.append(time.perf_counter())
    result = reconcile_with(job, RulePack.builtin(), Owners.load(None), settings)
    marks.append(time.perf_counter())
    out.mkdir(parents=True, exist_ok=True)
    # The tool's own writers: neutralised for spreadsheets, atomic, as `analyze` writes them, messages.csv
    # in a thread of its own (in `analyze` it overlaps the fix stage, which this leaves out).
    messages = result.messages.select("input_row", "message", "category", "field", "fix")
    with ThreadPoolExecutor(1) as pool:
        writing = pool.submit(write_people_csv, out / "messages.csv", messages)
        write_people_csv(out / "failed_records.csv", result.failed)
        writing.result()
    counts = result.counts
    code = ExitCode.RECORDS_FAILED if counts.failed or counts.unaccounted else ExitCode.OK
    summary = JobResult(
        info=job.info,
        folder=folder,
        counts=counts,
        categories=result.categories,
        findings=findings,
        detection=job.detection,
        exit_code=code,
    ).summary()
    atomic_write_json(out / "summary.json", summary)
    marks.append(time.perf_counter())
    if stages is not None:
        stages.update(zip(STAGES, (b - a for a, b in itertools.pairwise(marks)), strict=True))


def pandas_by_hand(folder: Path, out: Path) -> None:
    """The same accounting and message table as a careful analyst would write it in pandas."""
    import pandas as pd

    pack = RulePack.builtin()
    frames = {p.parent.name: pd.read_csv(p, dtype=str, keep_default_na=False) for p in _csv_files(folder)}
    source = frames["input"].reset_index(names="input_row")
    source["input_row"] += 1
    fields = [c for c in frames["input"].columns]
    errors = frames["errors"].assign(input_row=lambda f: f["row"].astype("int64"))
    landed = frames["output"].merge(source[["input_row", *fields]], on=fields, how="inner")
    failed_rows = source["input_row"].isin(errors["input_row"])
    imported = source["input_row"].isin(landed["input_row"]) & ~failed_rows
    messages = (
        errors[["input_row", "errors"]].assign(message=errors["errors"].str.split("; ")).explode("message")
    )
    distinct = {m: pack.classify(m) for m in messages["message"].unique()}
    messages["category"] = messages["message"].map(lambda m: distinct[m].category)
    messages["field"] = messages["message"].map(lambda m: distinct[m].field)
    messages["fix"] = messages["message"].map(lambda m: distinct[m].fix)
    failed = source[failed_rows].merge(
        messages.groupby("input_row")
        .agg(messages=("message", "; ".join), categories=("category", "; ".join))
        .reset_index(),
        on="input_row",
    )
    out.mkdir(parents=True, exist_ok=True)
    failed.to_csv(out / "failed_records.csv", index=False)
    messages[["input_row", "message", "category", "field", "fix"]].to_csv(out / "messages.csv", index=False)
    counts = {"input_rows": len(source), "imported": int(imported.sum()), "failed": int(failed_rows.sum())}
    (out / "summary.json").write_text(json.dumps(counts), encoding="utf-8")


def timed(work: Callable[[Path, Path], None], folder: Path, out: Path) -> float:
    """Wall-clock seconds of one run."""
    gc.collect()
    start = time.perf_counter()
    work(folder, out)
    return time.perf_counter() - start


def rss_mb() -> float:
    """Resident memory now (Linux /proc), in MB."""
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * resource.getpagesize() / 1e6


def peak_of_analyse(folder: Path, out: Path) -> dict[str, float]:
    """Run in a fresh process: resident memory after imports, and the peak while analysing."""
    before = rss_mb()
    analyse(folder, out)
    return {"before": before, "peak": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--peak-of", type=Path, help=argparse.SUPPRESS)  # child process: memory of one run
    args = parser.parse_args()
    if args.peak_of:
        print(json.dumps(peak_of_analyse(args.peak_of, args.peak_of.parent / "out-memory")))
        return
    with tempfile.TemporaryDirectory(prefix="bench-analyze-") as tmp:
        folder = make_job(Path(tmp) / "job", args.rows, failed_share=0.05, seed=0)
        disk_mb = sum(p.stat().st_size for p in _csv_files(folder)) / 1e6
        child = subprocess.run(
            [sys.executable, __file__, "--peak-of", str(folder)], check=True, capture_output=True, text=True
        )
        memory = json.loads(child.stdout)
        floor, tool, by_hand = [], [], []
        stages: list[dict[str, float]] = []
        for _ in range(args.runs):  # interleaved, so a busy neighbour slows all sides alike; best of each
            floor.append(timed(polars_read, folder, Path(tmp) / "out-polars"))
            stages.append({})
            tool.append(timed(lambda f, o: analyse(f, o, stages[-1]), folder, Path(tmp) / "out-tool"))
            by_hand.append(timed(pandas_by_hand, folder, Path(tmp) / "out-pandas"))
        summary = json.loads((Path(tmp) / "out-tool" / "summary.json").read_text())
    best_floor, best_tool, best_hand = min(floor), min(tool), min(by_hand)
    used = memory["peak"] - memory["before"]
    print(f"job: {args.rows} rows, {disk_mb:.1f} MB of CSV, counts {summary['counts']}")
    print(f"polars read of the 4 files: {best_floor:.3f} s (best of {args.runs})")
    tool_ratio, hand_ratio = best_tool / best_floor, best_hand / best_tool
    print(f"claret-errors analyse:      {best_tool:.3f} s  -> {tool_ratio:.2f}x polars read (target <= 2x)")
    best_stages = stages[tool.index(best_tool)]
    print(
        "  stages of that run (x polars read): "
        + ", ".join(
            f"{name} {seconds:.3f} s ({seconds / best_floor:.2f}x)" for name, seconds in best_stages.items()
        )
    )
    print(
        f"pandas by hand:             {best_hand:.3f} s  -> {hand_ratio:.2f}x our time (target >= 10x, "
        f"best of {args.runs})"
    )
    print(
        f"memory: {used:.0f} MB above the {memory['before']:.0f} MB after imports "
        f"(peak RSS {memory['peak']:.0f} MB) -> {used / disk_mb:.2f}x the CSV bytes on disk (target <= 2x)"
    )


if __name__ == "__main__":
    main()
