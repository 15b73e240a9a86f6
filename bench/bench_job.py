"""One real-sized job, whole process: `claret-errors analyze` of a 1000-row job with about 8% failures,
against the floor measured in the same run: a Python process that imports polars and reads the same four
files. Target: at most 2x the floor.

`python bench/bench_job.py [--python PYTHON] [--runs N]`. PYTHON is the interpreter of the install to
measure (default: this one); install it as the README says, without the test extras, since pandera imports
pandas (and hypothesis) when they are installed. The two commands take turns; each figure is the best of N
runs, as wall time and as CPU time (user + system, which a busy machine disturbs less).
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from make_job import make_job

FLOOR = """
import sys
from pathlib import Path
import polars as pl
for f in sorted((Path(sys.argv[1]) / "artifacts").rglob("*.csv")):
    pl.read_csv(f, infer_schema=False)
"""


def timed(argv: list[str], env: dict[str, str], cwd: str) -> tuple[float, float]:
    """Wall and CPU seconds of one child process, run in `cwd`: never the project root, whose package
    `python -m` and `python -c` would import in place of the install's."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, check=False, cwd=cwd)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--python", default=sys.executable, help="the interpreter of the install to measure")
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--failed-share", type=float, default=0.08)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    env = dict(os.environ)
    with tempfile.TemporaryDirectory() as tmp:
        job = make_job(Path(tmp) / "job", args.rows, failed_share=args.failed_share)
        pristine = Path(tmp) / "pristine"
        shutil.copytree(job, pristine)
        floor_cmd = [args.python, "-c", FLOOR, str(pristine)]
        ours_cmd = [args.python, "-m", "claret_errors", "analyze", str(job), "--out", str(Path(tmp) / "out")]
        ours_cmd.append("--quiet")
        # The first run of an install compiles the report templates into its cache and writes the
        # package's bytecode, as every later run of a cron job finds them (even where the environment
        # says not to write bytecode, as a test box may).
        timed(ours_cmd, {k: v for k, v in env.items() if k != "PYTHONDONTWRITEBYTECODE"}, tmp)
        floors: list[tuple[float, float]] = []
        ours: list[tuple[float, float]] = []
        for _ in range(args.runs):
            floors.append(timed(floor_cmd, env, tmp))
            shutil.rmtree(job)
            shutil.copytree(pristine, job)  # analyze writes its outputs into a job folder
            ours.append(timed(ours_cmd, env, tmp))
    floor_wall, floor_cpu = min(w for w, _ in floors), min(c for _, c in floors)
    ours_wall, ours_cpu = min(w for w, _ in ours), min(c for _, c in ours)
    print(f"job: {args.rows} rows, {args.failed_share:.0%} failing; best of {args.runs} runs each")
    print(f"floor (python + polars reading the four files): {floor_wall:.3f} s wall, {floor_cpu:.3f} s CPU")
    print(f"claret-errors analyze:                          {ours_wall:.3f} s wall, {ours_cpu:.3f} s CPU")
    print(f"ratio: {ours_wall / floor_wall:.2f}x wall, {ours_cpu / floor_cpu:.2f}x CPU (target <= 2)")


if __name__ == "__main__":
    main()
