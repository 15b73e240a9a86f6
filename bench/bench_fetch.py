"""Measure fetch against the simulator: 200 jobs at once, and download throughput against bare httpx.

`python bench/bench_fetch.py [--jobs 200] [--speed 0.01] [--big-rows 200000]`: prints (1) the wall time
to wait for and download every job compared with the slowest job's own duration (target: close to 1),
and (2) ClaretClient.download throughput (temp file, sha256, fsync, rename) over a bare httpx stream of
the same file in the same run (target >= 0.8).
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import statistics
import tempfile
import time
from multiprocessing.connection import Connection
from pathlib import Path

import httpx

from claret_errors.claret.client import ClaretClient
from claret_errors.config import Settings
from claret_errors.fetch import fetch_jobs
from claret_errors.simulator import Simulator, make_nightly_csv


async def many_jobs(settings: Settings, ids: list[str]) -> float:
    """Seconds to wait for and download every job, on one client."""
    start = time.monotonic()
    async with ClaretClient(settings) as client:
        outcomes = await fetch_jobs(ids, settings, client)
    wall = time.monotonic() - start
    bad = [o for o in outcomes if o.exit_code != 0]
    if bad:
        raise SystemExit(f"{len(bad)} jobs did not complete: {bad[0].error}")
    return wall


async def throughput(
    settings: Settings, source: str, folder: Path, rounds: int
) -> tuple[list[float], list[float], int]:
    """Seconds per round for ClaretClient.download and for a bare httpx stream of the same file.

    The two take turns going first, so whatever one leaves behind for the next (disk writeback, a warm
    cache, the other engineer's job on a shared machine) weighs on both alike.
    """
    ours: list[float] = []
    bare: list[float] = []
    size = 0
    token = settings.token or ""
    async with ClaretClient(settings) as client, httpx.AsyncClient() as plain:

        async def claret(i: int) -> None:
            nonlocal size
            start = time.perf_counter()
            entry = await client.download(source, folder / f"big-{i}.csv")
            ours.append(time.perf_counter() - start)
            size = entry.bytes

        async def stream() -> int:
            start = time.perf_counter()
            async with plain.stream(
                "GET", settings.base_url + source, headers={"Authorization": f"Bearer {token}"}
            ) as response:
                got = 0
                async for chunk in response.aiter_bytes():
                    got += len(chunk)
            bare.append(time.perf_counter() - start)
            return got

        for i in range(rounds):
            if i % 2 == 0:
                await claret(i)
                got = await stream()
            else:
                got = await stream()
                await claret(i)
            if got != size:
                raise SystemExit(f"bare stream got {got} bytes, ours {size}")
    return ours, bare, size


def big_csv(rows: int, chunk: int = 10_000) -> bytes:
    """A large inventory file from several nightly files (one header kept)."""
    parts = [make_nightly_csv(min(chunk, rows - done), seed=done) for done in range(0, rows, chunk)]
    head, _, _ = parts[0].partition(b"\n")
    return head + b"\n" + b"".join(p.partition(b"\n")[2] for p in parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=200)
    parser.add_argument("--speed", type=float, default=0.01, help="real seconds per simulated second")
    parser.add_argument("--poll-interval", type=float, default=0.1)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--big-rows", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=7)
    options = parser.parse_args()

    # The simulator runs in its own process: on loopback the "network" is CPU, and a server sharing our
    # interpreter (and its GIL) would measure the simulator rather than the client.
    parent, child = multiprocessing.Pipe()
    server = multiprocessing.Process(target=serve, args=(options, child), daemon=True)
    server.start()
    try:
        while not parent.poll(1.0):
            if not server.is_alive():
                raise SystemExit(f"the simulator process ended (exit code {server.exitcode}) before serving")
        facts = parent.recv()
        with tempfile.TemporaryDirectory() as tmp:
            settings = Settings(
                tenant="demo",
                base_url=facts["base_url"],
                token=facts["token"],
                out=Path(tmp) / "out",
                poll_interval=options.poll_interval,
                max_wait=600.0,
                concurrency=options.concurrency,
            )
            start = time.monotonic()
            wall = asyncio.run(many_jobs(settings, facts["ids"]))
            last_done = facts["last_done"] - start
            ours_rounds, bare_rounds, size = asyncio.run(
                throughput(settings, facts["big"], Path(tmp), options.rounds)
            )
    finally:
        parent.send("stop")
        server.join(timeout=10)
    print(
        f"{options.jobs} jobs, {facts['files']} files, concurrency {options.concurrency}, "
        f"poll {options.poll_interval} s, simulator in its own process"
    )
    print(f"  wall time                         {wall:8.2f} s")
    print(f"  slowest job's own duration        {facts['slowest']:8.2f} s")
    print(f"  last job finished at              {last_done:8.2f} s after fetch started")
    print(f"  ratio wall / slowest job          {wall / facts['slowest']:8.2f}")
    print(f"  ratio wall / last job finished    {wall / last_done:8.2f}")
    print(f"  lag after the last job finished   {wall - last_done:8.2f} s")
    mb = size / 1e6
    ours, bare = statistics.median(ours_rounds), statistics.median(bare_rounds)
    each = sorted(b / o for o, b in zip(ours_rounds, bare_rounds, strict=True))
    print(f"download of {mb:.1f} MB, median of {options.rounds} rounds (the sides take turns going first)")
    print(f"  ClaretClient.download             {mb / ours:8.1f} MB/s")
    print(f"  bare httpx stream                 {mb / bare:8.1f} MB/s")
    print(f"  ratio, round by round             {each[0]:5.2f} .. {each[-1]:.2f}")
    print(f"  ratio (target >= 0.8)             {bare / ours:8.2f}")


def serve(options: argparse.Namespace, conn: Connection) -> None:
    """Child process: a simulator with the jobs and one large finished file, serving until told to stop."""
    with Simulator(speed=options.speed) as sim:
        big = sim.job(sim.submit_csv(big_csv(options.big_rows)))
        [name] = big.files["input"]
        ids = [sim.submit_csv(make_nightly_csv(50 + (i * 37) % 950, seed=i)) for i in range(options.jobs)]
        jobs = [sim.job(i) for i in ids]
        time.sleep(max(0.0, big.created_monotonic + big.duration - time.monotonic()))
        conn.send(
            {
                "base_url": sim.base_url,
                "token": sim.mint_token(),
                "ids": [str(i) for i in ids],
                "last_done": max(j.created_monotonic + j.duration for j in jobs),
                "slowest": max(j.duration for j in jobs),
                "files": sum(len(f) for j in jobs for f in j.files.values()),
                "big": f"{big.folder}/{name}",
            }
        )
        conn.recv()


if __name__ == "__main__":
    main()
