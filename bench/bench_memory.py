"""Peak memory of `analyze` on an errors file of long messages, the shape that costs the most per byte.

Writes a plain job folder (N rows failing with a `--message-chars` message each, sized to `--mb`) to a
temporary directory, runs `claret-errors analyze` on it in a child process and prints the child's peak
resident memory against the file's size. Writes nothing else.
`python bench/bench_memory.py --mb 256 --message-chars 10000`
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

HEADER = "item_name,bin_name,lot_name,date_filled,quantity,uom"


def make_long_messages_job(folder: Path, mb: float, message_chars: int) -> Path:
    """input.csv, an empty output.csv and errors.csv whose every row fails with one long message."""
    folder.mkdir(parents=True, exist_ok=True)
    message = "The selected bin name is invalid. " + "x" * max(message_chars - 34, 0)
    rows = max(int(mb * 1024 * 1024 / (message_chars + 40)), 1)
    with (folder / "input.csv").open("w") as inp, (folder / "errors.csv").open("w") as err:
        inp.write(HEADER + "\n")
        err.write(HEADER + ",Error Message\n")
        for i in range(rows):
            record = f"I{i},SS-99,L{i},2023-08-01,5,Gallon"
            inp.write(record + "\n")
            err.write(f"{record},{message}\n")
    (folder / "output.csv").write_text(HEADER + "\n")
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--mb", type=float, default=256)
    parser.add_argument("--message-chars", type=int, default=10_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = make_long_messages_job(Path(tmp) / "long", args.mb, args.message_chars)
        size = (folder / "errors.csv").stat().st_size
        command = [sys.executable, "-m", "claret_errors", "analyze", str(folder), "--out", f"{tmp}/out", "-q"]
        subprocess.run(command, check=False, stdout=subprocess.DEVNULL)
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
        print(f"errors.csv {size / 2**20:,.0f} MiB: peak {peak / 2**30:.2f} GiB, {peak / size:.1f}x the file")


if __name__ == "__main__":
    main()
