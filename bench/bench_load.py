"""Measure load + validate of a synthetic job against polars' own read_csv of the same four files.

`python bench/bench_load.py [--rows 1000000] [--folder DIR]`: prints the time ratio (target <= 1.5) and
peak memory over bytes on disk (target <= 2). Each side runs in a fresh subprocess so peaks do not mix,
and first reads a 1000-row job: a run pays its first use once, however many jobs it analyses, so the
ratio is of the per-job work, and the first use is printed apart.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent

_POLARS = """
import json, resource, sys, time
from pathlib import Path
import polars as pl
files = sorted((Path(sys.argv[1]) / "artifacts").rglob("*.csv"))  # what load_job reads, not our outputs
for f in sorted((Path(sys.argv[2]) / "artifacts").rglob("*.csv")):  # first use, as ours has it
    pl.read_csv(f, infer_schema=False)
start = time.perf_counter()
frames = [pl.read_csv(f, infer_schema=False) for f in files]
elapsed = time.perf_counter() - start
print(json.dumps({"seconds": elapsed, "peak_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
"""

_OURS = """
import json, resource, sys, time
from pathlib import Path
import polars as pl
from claret_errors.config import Settings
from claret_errors.pipeline import load_and_validate
# First use of a fresh process (pandera's lazy imports, among them hypothesis when installed): paid once
# per run however many jobs it analyses, so measured apart, on a small job.
start = time.perf_counter()
load_and_validate(Path(sys.argv[2]), Settings())
first_use = time.perf_counter() - start
# As analyze runs them: the input is validated in a thread while the other files are read and linked.
start = time.perf_counter()
job, findings = load_and_validate(Path(sys.argv[1]), Settings())
elapsed = time.perf_counter() - start
print(json.dumps({"seconds": elapsed, "findings": len(findings) - len(job.findings),
                  "first_use": first_use,
                  "peak_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
"""

_BASELINE = """
import json, resource, sys
import polars as pl
if sys.argv[1:] != ["polars"]:
    import pandera.polars
    from claret_errors import validate as schemas
    from claret_errors.load import job as load
print(json.dumps({"peak_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
"""

# What polars' own frames of the four files hold once read, every column text as the issue asks: resident
# memory after the allocator has given back what the reading freed (it keeps freed pages up to a second).
_AT_REST = """
import json, resource, sys, time
from pathlib import Path
import polars as pl
def resident():
    return int(Path("/proc/self/statm").read_text().split()[1]) * resource.getpagesize()
files = sorted((Path(sys.argv[1]) / "artifacts").rglob("*.csv"))
for f in sorted((Path(sys.argv[2]) / "artifacts").rglob("*.csv")):
    pl.read_csv(f, infer_schema=False)
time.sleep(2)
before = resident()
frames = [pl.read_csv(f, infer_schema=False) for f in files]
time.sleep(3)
cells = sum(f.height * f.width for f in frames)
print(json.dumps({"bytes": resident() - before, "cells": cells}))
"""


def _run(code: str, *args: Path | str) -> dict[str, float]:
    argv = [sys.executable, "-c", code, *map(str, args)]
    done = subprocess.run(argv, check=True, capture_output=True, text=True, cwd=HERE.parent)
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    """Make (or reuse) the job, time the two sides in turn `--repeat` times, print the best and ratios."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--folder", type=Path, default=None)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    folder = args.folder or Path(tempfile.gettempdir()) / f"claret-bench-{args.rows}"
    if not (folder / "status.json").is_file():
        # In a child: a child's peak RSS starts from its parent's size at fork, so this process stays small.
        command = [sys.executable, str(HERE / "make_job.py"), str(folder), "--rows", str(args.rows)]
        subprocess.run(command, check=True, capture_output=True)
    on_disk = sum(p.stat().st_size for p in (folder / "artifacts").rglob("*.csv"))
    # Turn about, so a machine that gets busier or quieter during the runs weighs on both sides alike.
    small = folder.parent / f"{folder.name}-first-use"
    if not (small / "status.json").is_file():
        command = [sys.executable, str(HERE / "make_job.py"), str(small), "--rows", "1000"]
        subprocess.run(command, check=True, capture_output=True)
    runs = [(_run(_POLARS, folder, small), _run(_OURS, folder, small)) for _ in range(args.repeat)]
    theirs = min((r[0] for r in runs), key=lambda r: r["seconds"])
    ours = min((r[1] for r in runs), key=lambda r: r["seconds"])
    growth = (ours["peak_kb"] - _run(_BASELINE)["peak_kb"]) * 1024
    polars_growth = (theirs["peak_kb"] - _run(_BASELINE, "polars")["peak_kb"]) * 1024
    print(f"job: {folder} ({args.rows} rows, {on_disk / 1e6:.1f} MB of CSV)")
    print(f"polars read_csv: {theirs['seconds']:.2f} s, peak {theirs['peak_kb'] / 1024:.0f} MiB")
    print(
        f"load + validate: {ours['seconds']:.2f} s, "
        f"peak {ours['peak_kb'] / 1024:.0f} MiB, {ours['findings']:.0f} findings"
    )
    print(f"first use in a fresh process (a 1000-row job, imports excluded): {ours['first_use']:.2f} s")
    print(f"time ratio: {ours['seconds'] / theirs['seconds']:.2f} (target <= 1.5)")
    # The best of each side is the figure; the median shows how much the machine moved during the runs.
    polars_each = [p["seconds"] for p, _o in runs]
    ours_each = [o["seconds"] for _p, o in runs]
    middle = statistics.median(ours_each) / statistics.median(polars_each)
    print(
        f"time ratio of the medians: {middle:.2f} (polars {', '.join(f'{t:.2f}' for t in polars_each)} s; "
        f"ours {', '.join(f'{t:.2f}' for t in ours_each)} s)"
    )
    print(
        f"memory over bytes on disk: {growth / on_disk:.2f} (target <= 2; after imports; "
        f"polars read_csv alone: {polars_growth / on_disk:.2f})"
    )
    if Path("/proc/self/statm").is_file():  # Linux: resident memory now, not only the peak
        rest = _run(_AT_REST, folder, small)
        print(
            f"polars' own text frames of these files, at rest: {rest['bytes'] / on_disk:.2f}x the bytes on "
            f"disk ({rest['cells'] / 1e6:.1f} M cells; a 16-byte string view each is "
            f"{16 * rest['cells'] / on_disk:.2f}x): the floor for any loader that keeps every column as text"
        )


if __name__ == "__main__":
    main()
