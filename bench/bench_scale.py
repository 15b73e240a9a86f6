"""The million-row scale guard: a job far beyond a real night's (Claret caps an import near 1000 records) must
still work, within 4x polars' eager read of the same four files and with peak memory within 4x their bytes
on disk.

`python bench/bench_scale.py [--python PYTHON] [--rows 1000000] [--folder DIR]` prints, each against polars
reading the files in the same run:
- the analysis itself (load, validate, reconcile) in one process after its imports, against the reads;
- the whole `claret-errors analyze` process (fix, worksheets and reports of every failed record included),
  against a whole `python -c 'import polars; read the four files'` process; and each one's peak memory.
PYTHON is the interpreter of the install to measure (default: this one). The job is made once in
DIR (default: a folder in the temp dir named after the rows) and reused; analyze writes into a copy.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent

READS = """
import json, resource, sys, time
from pathlib import Path
import polars as pl
start = time.perf_counter()
for f in sorted((Path(sys.argv[1]) / "artifacts").rglob("*.csv")):
    pl.read_csv(f, infer_schema=False)
print(json.dumps({"seconds": time.perf_counter() - start,
                  "peak_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
"""

CORE = """
import json, resource, sys, time
from pathlib import Path
from claret_errors.config import Settings
from claret_errors.pipeline import load_and_validate
from claret_errors.reconcile.accounting import reconcile
start = time.perf_counter()
job, findings = load_and_validate(Path(sys.argv[1]), Settings())
reconcile(job, Settings())
print(json.dumps({"seconds": time.perf_counter() - start,
                  "peak_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
"""

WHOLE = """
import json, resource, subprocess, sys, time
start = time.perf_counter()
subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, check=False)
print(json.dumps({"seconds": time.perf_counter() - start,
                  "peak_kb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}))
"""


def measure(python: str, code: str, *args: str) -> dict[str, float]:
    """One fresh process running `code`; the seconds and peak resident KB it reports. It runs in the temp
    folder: from the project root, `python -c` would import the project's package, not the install's."""
    done = subprocess.run(
        [python, "-c", code, *args], check=True, capture_output=True, text=True, cwd=tempfile.gettempdir()
    )
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--python", default=sys.executable, help="the interpreter of the install to measure")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--folder", type=Path, default=None)
    args = parser.parse_args()
    folder = args.folder or Path(tempfile.gettempdir()) / f"claret-scale-{args.rows}"
    if not (folder / "status.json").is_file():
        command = [sys.executable, str(HERE / "make_job.py"), str(folder), "--rows", str(args.rows)]
        subprocess.run(command, check=True, capture_output=True)
    on_disk = sum(p.stat().st_size for p in (folder / "artifacts").rglob("*.csv"))
    reads = measure(args.python, READS, str(folder))
    core = measure(args.python, CORE, str(folder))
    floor = measure(args.python, WHOLE, args.python, "-c", READS, str(folder))
    with tempfile.TemporaryDirectory() as tmp:
        job = Path(tmp) / "job"
        shutil.copytree(folder, job)
        analyze = [args.python, "-m", "claret_errors", "analyze", str(job), "--out", str(Path(tmp) / "out")]
        whole = measure(args.python, WHOLE, *analyze, "--quiet")
    mib = 1024 * 1024
    print(f"job: {args.rows} rows, {on_disk / mib:.0f} MiB of CSV on disk")
    print(f"polars reads the four files: {reads['seconds']:.2f} s (whole process {floor['seconds']:.2f} s)")
    ratio, peak = core["seconds"] / reads["seconds"], core["peak_kb"] * 1024 / on_disk
    print(
        f"load + validate + reconcile: {core['seconds']:.2f} s, {ratio:.2f}x the reads (target <= 4); "
        f"peak {peak:.2f}x the bytes on disk (target <= 4)"
    )
    print(
        f"claret-errors analyze, whole process: {whole['seconds']:.2f} s, "
        f"{whole['seconds'] / floor['seconds']:.2f}x the whole-process reads; "
        f"peak {whole['peak_kb'] * 1024 / on_disk:.2f}x the bytes on disk "
        f"(polars' reads alone: {floor['peak_kb'] * 1024 / on_disk:.2f}x)"
    )


if __name__ == "__main__":
    main()
