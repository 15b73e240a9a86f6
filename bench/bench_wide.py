"""How `analyze` time grows with a file's width: a small job (rows fixed) with N extra input columns.

Prints seconds and milliseconds per column for each width; the cost per column should stay flat (linear
time). Runs `analyze` in-process on folders it writes to a temporary directory; writes nothing else.
`python bench/bench_wide.py --widths 1000 2000 5000 10000 --rows 50`
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from make_job import make_wide_job

from claret_errors.config import Settings
from claret_errors.pipeline import analyze


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--widths", type=int, nargs="+", default=[1000, 2000, 5000, 10000])
    parser.add_argument("--rows", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for width in args.widths:
            folder = make_wide_job(Path(tmp) / f"wide{width}", extra=width, rows=args.rows)
            start = time.perf_counter()
            analyze([folder], Settings(out=Path(tmp) / "out"))
            seconds = time.perf_counter() - start
            per_column = seconds / width * 1000
            print(f"{width:>7} extra columns, {args.rows} rows: {seconds:6.2f} s, {per_column:.2f} ms/column")


if __name__ == "__main__":
    main()
