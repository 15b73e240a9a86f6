"""A real night: 20 jobs of 1000 rows, all completed in the simulator, then one `claret-errors run` of them
as a whole process, from its start (every job already completed) to its last report. Target: under 3 s on
the 2 cores of these machines.

`python bench/bench_night.py [--python PYTHON] [--jobs 20] [--rows 1000] [--runs 3]`. PYTHON is the
interpreter of the install to measure (default: this one); install it as the README says. The simulator
runs in a process of its own (on loopback the network is CPU: sharing the tool's interpreter would measure
the simulator). Each run fetches into a fresh output folder; the best, median and worst run are printed.
`--vs PYTHON2` runs a second install in turn with the first (A B A B ...), for a before-and-after pair
measured in the same minutes.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import statistics
import subprocess
import sys
import tempfile
import time
from multiprocessing.connection import Connection
from pathlib import Path

from claret_errors.simulator import Simulator, make_nightly_csv


def serve(jobs: int, rows: int, conn: Connection) -> None:
    """Child process: a simulator with `jobs` jobs, answering once every one of them has completed."""
    with Simulator(speed=0.001) as sim:
        # Updates allowed, as a nightly inventory sync has them: otherwise every job would fail the rows an
        # earlier job of the night created, and the later jobs would not be "such jobs" (about 8% failed).
        ids = [sim.submit_csv(make_nightly_csv(rows, seed=i), allow_record_update=True) for i in range(jobs)]
        last = max(sim.job(i).created_monotonic + sim.job(i).duration for i in ids)
        time.sleep(max(0.0, last - time.monotonic()) + 0.05)
        conn.send({"base_url": sim.base_url, "token": sim.mint_token(), "ids": [str(i) for i in ids]})
        conn.recv()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--python", default=sys.executable, help="the interpreter of the install to measure")
    parser.add_argument("--vs", default=None, help="a second install to run in turn with it")
    parser.add_argument("--jobs", type=int, default=20)
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    pythons = [args.python, *([args.vs] if args.vs else [])]
    parent, child = multiprocessing.Pipe()
    server = multiprocessing.Process(target=serve, args=(args.jobs, args.rows, child), daemon=True)
    server.start()
    walls: dict[str, list[float]] = {python: [] for python in pythons}
    codes: set[int] = set()
    try:
        if not parent.poll(120):
            raise SystemExit("the simulator did not get its jobs done within 120 s")
        facts = parent.recv()
        # Bytecode written as on any machine that allows it (a test box may not), so that later runs
        # read it as a cron job's do.
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env["CLARET_TOKEN"] = facts["token"]
        with tempfile.TemporaryDirectory() as tmp:
            for run in range(args.runs):
                for n, python in enumerate(pythons):
                    out = Path(tmp) / f"out{n}-{run}"
                    argv = [python, "-m", "claret_errors", "run", *facts["ids"], "--tenant", "demo"]
                    argv += ["--base-url", facts["base_url"], "--out", str(out), "--quiet"]
                    start = time.perf_counter()
                    # In the temp folder: from the project root, `-m` would run the project's package.
                    done = subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, check=False, cwd=tmp)
                    walls[python].append(time.perf_counter() - start)
                    codes.add(done.returncode)
            reports = len(list((Path(tmp) / "out0-0").rglob("report.html")))
            summaries = (Path(tmp) / "out0-0").rglob("summary.json")
            counts = [json.loads(p.read_text())["counts"] for p in summaries]
    finally:
        parent.send("stop")
        server.join(timeout=10)
    print(f"{args.jobs} jobs of {args.rows} rows, all completed before the run; {reports} reports per run")
    failed, rows = sum(c["failed"] for c in counts), sum(c["input_rows"] for c in counts)
    print(f"records failed: {failed:,} of {rows:,} input rows ({failed / max(rows, 1):.1%})")
    print(f"exit codes: {sorted(codes)} (3: reports written, some records failed)")
    for python, times in walls.items():
        label = "run, whole process" if len(pythons) == 1 else f"run with {python}"
        print(
            f"{label}: best {min(times):.2f} s, median {statistics.median(times):.2f} s, "
            f"worst {max(times):.2f} s of {len(times)} (target < 3 s)"
        )


if __name__ == "__main__":
    main()
