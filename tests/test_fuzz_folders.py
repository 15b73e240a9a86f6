"""Seeded fuzzing of `analyze` over malformed job folders (cut files, odd encodings and line endings, missing
files, junk status.json): never exit 1 (a bug), and never exit 0 unless every input row is in the output."""

from __future__ import annotations

import codecs
import csv
import io
import json
import os
import random
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from claret_errors.config import Settings
from claret_errors.errors import ExitCode
from claret_errors.pipeline import analyze_job

SEED = 18
CASES = 200
# Parsing is what is fuzzed, not durability: on a memory file system the fsyncs of every report cost
# nothing, which keeps 200 analyses to a few seconds.
MEMORY_FS = Path("/dev/shm")
HEADER = ("item_name", "bin_name", "lot_name", "date_filled", "quantity", "uom")
ITEMS = ("122-16", "124", "ZAMNVCAS19", "Château Rouge", "Grüner 21")
BINS = ("SS-01", "SS-02", "T-04", "Cuve n°3")
MESSAGES = ("The selected bin name is invalid.", "The quantity field must be greater than 0.")
KINDS = ("input", "output", "errors")
Files = dict[str, bytes]  # kind -> the file's bytes (a kind left out: no such file)


def lines(rows: list[list[str]]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue()


def good_job(rng: random.Random) -> Files:
    """A job whose every input row is imported, failed (in errors) or neither."""
    rows = [
        [rng.choice(ITEMS), rng.choice(BINS), f"L{i}", "2023-08-01", str(rng.randint(-2, 90)), "Gallon"]
        for i in range(rng.randint(0, 7))
    ]
    fates = [rng.choice(("imported", "imported", "failed", "lost")) for _ in rows]
    output = [row for row, fate in zip(rows, fates, strict=True) if fate == "imported"]
    errors = [[str(i), rng.choice(MESSAGES)] for i, fate in enumerate(fates, start=1) if fate == "failed"]
    return {
        "input": lines([list(HEADER), *rows]).encode(),
        "output": lines([list(HEADER), *output]).encode(),
        "errors": lines([["row", "error"], *errors]).encode(),
    }


def cut(rng: random.Random, data: bytes) -> bytes:
    return data[: rng.randint(0, len(data))]


def legacy(rng: random.Random, data: bytes) -> bytes:
    return data.decode("utf-8", "replace").encode(rng.choice(("cp1252", "latin-1")), errors="replace")


def bad_bytes(rng: random.Random, data: bytes) -> bytes:
    at = rng.randint(0, len(data))
    return data[:at] + rng.choice((b"\xff\xfe", b"\xc3", b"\x00", b"\x80\x81", b'"')) + data[at:]


def utf16(rng: random.Random, data: bytes) -> bytes:
    return codecs.BOM_UTF16_LE + data.decode("utf-8", "replace").encode("utf-16-le")


def line_ends(rng: random.Random, data: bytes) -> bytes:
    ending = rng.choice((b"\r", b"\r\n", b"\n\n", b"\r\r\n"))
    parts = data.split(b"\n")
    if rng.random() < 0.5:  # mixed: each line its own ending
        return b"".join(p + rng.choice((b"\n", b"\r", b"\r\n")) for p in parts[:-1]) + parts[-1]
    return ending.join(parts)


def junk(rng: random.Random, data: bytes) -> bytes:
    return rng.choice(
        (b"", b"\xef\xbb\xbf", b"\n\n", b"a", b",,,\n,,", bytes(rng.randrange(256) for _ in range(40)))
    )


def header_only(rng: random.Random, data: bytes) -> bytes:
    return data.split(b"\n", 1)[0] + rng.choice((b"", b"\n"))


def ragged(rng: random.Random, data: bytes) -> bytes:
    parts = data.split(b"\n")
    at = rng.randrange(len(parts))
    parts[at] = parts[at] + rng.choice((b",extra", b",", b'"open', b";x")) if rng.random() < 0.7 else b""
    return b"\n".join(parts)


MUTATIONS: tuple[Callable[[random.Random, bytes], bytes], ...] = (
    cut,
    legacy,
    bad_bytes,
    utf16,
    line_ends,
    junk,
    header_only,
    ragged,
)


def junk_status(rng: random.Random, job: str) -> bytes:
    """A status.json as a broken or hostile server might leave it."""
    content: object = rng.choice(
        (
            {"job_log_id": int(job), "status": "completed", "files": {}},
            {"job_log_id": {"x": 1}, "status": ["completed"], "timestamps": "yesterday"},
            {"job_log_id": "../../etc", "status": "\x1b[31mcompleted\x00", "type": None},
            {"job_log_id": 10**40, "status": "", "timestamps": {"started_at": {"a": [1]}}},
            "completed",
        )
    )
    return rng.choice(
        (
            json.dumps({"message": "ok", "content": content}).encode(),
            json.dumps(content).encode(),
            b"",
            b"{",
            b"[]",
            b"null",
            bytes(rng.randrange(256) for _ in range(30)),
        )
    )


def malformed(rng: random.Random) -> tuple[Files, bytes | None]:
    """A good job with one to three things wrong with it; the status.json too, for a fetched layout."""
    files = good_job(rng)
    for _ in range(rng.randint(1, 3)):
        kind = rng.choice(KINDS)
        if kind not in files:
            continue
        if rng.random() < 0.15:
            del files[kind]
        else:
            files[kind] = rng.choice(MUTATIONS)(rng, files[kind])
    status = None
    if rng.random() < 0.5:
        completed = json.dumps({"content": {"job_log_id": 1, "status": "completed", "files": {}}}).encode()
        status = junk_status(rng, "1") if rng.random() < 0.5 else completed
    return files, status


def write(folder: Path, files: Files, status: bytes | None) -> None:
    """A fetched layout (artifacts/<kind>/, status.json) when there is a status, else a plain folder."""
    folder.mkdir(parents=True)
    for kind, data in files.items():
        if status is None:
            (folder / f"inventory_{kind}.csv").write_bytes(data)
        else:
            (folder / "artifacts" / kind).mkdir(parents=True)
            (folder / "artifacts" / kind / f"{kind}.csv").write_bytes(data)
    if status is not None:
        (folder / "status.json").write_bytes(status)


def records(data: bytes | None) -> list[tuple[str, ...]]:
    """The data records of a file as a reader that knows nothing of the tool would see them."""
    if data is None:
        return []
    encodings = ("utf-16",) if data.startswith(codecs.BOM_UTF16_LE) else ("utf-8-sig", "cp1252", "latin-1")
    for encoding in encodings:
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    rows = [
        tuple(r) for r in csv.reader(io.StringIO(text, newline=""), strict=False) if any(c.strip() for c in r)
    ]
    return rows[1:]


def every_input_row_in_output(files: Files) -> bool:
    """The only state in which exit 0 is true: no failures listed, every input record in the output."""
    if records(files.get("errors")):
        return False
    output = Counter(r[: len(HEADER)] for r in records(files.get("output")))
    wanted = Counter(r[: len(HEADER)] for r in records(files.get("input")))
    return all(output[r] >= n for r, n in wanted.items())


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    if MEMORY_FS.is_dir() and os.access(MEMORY_FS, os.W_OK):
        with tempfile.TemporaryDirectory(dir=MEMORY_FS, prefix="claret-fuzz-") as folder:
            yield Path(folder)
    else:
        yield tmp_path_factory.mktemp("fuzz")


def test_no_malformed_folder_is_a_bug_or_a_false_all_landed(root: Path) -> None:
    """200 seeded malformed folders: each gets a contract code other than 1, and 0 only when it is true."""
    rng = random.Random(SEED)
    settings = Settings(out=root / "out")
    codes: Counter[int] = Counter()
    for n in range(1, CASES + 1):
        files, status = malformed(rng)
        folder = root / "acme" / str(n)
        write(folder, files, status)
        result = analyze_job(folder, settings, use_history=False)
        codes[result.exit_code] += 1
        assert result.exit_code in (0, 3, 4, 8), (n, files, status, result.exit_code, result.error)
        if result.exit_code == ExitCode.OK:
            assert every_input_row_in_output(files), (n, files, status, result.counts)
    assert codes[0] and codes[3] and codes[8], codes  # the seed reaches every kind of outcome
