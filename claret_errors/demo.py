"""The demo: the whole nightly loop against the built-in simulator, with the sample nightly file.

Upload in 1000-record chunks (Claret's cap), run, resubmit the corrected files, run the second round; then
a stand-in for a person edits the first job's needs_attention.csv, and the rows they fixed go back as a
third round. No network beyond loopback, no credentials: the simulator mints its own.
"""

from __future__ import annotations

import asyncio
import csv
import io
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from claret_errors.claret.client import ClaretClient
from claret_errors.config import Settings
from claret_errors.errors import ArtifactError, ExitCode, UsageError, worst_exit_code
from claret_errors.files.csvwrite import render_csv
from claret_errors.fix.corrections import MAX_RECORDS_PER_FILE
from claret_errors.notify.deliver import NotifyResult, notify
from claret_errors.pipeline import ResubmitResult, RunResult, resubmit_async, run_async
from claret_errors.progress import Progress
from claret_errors.resources import fixtures_dir
from claret_errors.resubmit.send import plan
from claret_errors.resubmit.worksheet import check_worksheet

DEMO_FILE = "nightly_inventory.csv"
DEMO_TENANT = "demo"
EDITED = "needs_attention_edited.csv"  # the person's "Save As", beside the file the tool rewrites
MARKER = ".claret-errors-demo"  # a demo output folder we made, and so may clear on the next demo
SPEED = 0.002  # Claret's minutes become a fraction of a second


@dataclass
class DemoResult:
    """Both rounds of the demo, and how long it took."""

    uploaded: list[tuple[str, int, str]]  # (file name, records, job id)
    first: RunResult
    second: ResubmitResult
    tenant_dir: Path
    seconds: float
    messages: NotifyResult  # what each owner and the data team would be sent (written, not sent)
    third: ResubmitResult  # the rows a person fixed in a worksheet, sent back

    @property
    def exit_code(self) -> int:
        """0 when the corrected records landed in the second round and the rows a person fixed in the
        third; else what went wrong there."""
        if not self.second.uploaded or not self.third.uploaded:
            return int(ExitCode.RECORDS_FAILED)
        return int(worst_exit_code([self.second.exit_code, self.third.exit_code]))


def chunks(data: bytes, name: str, size: int = MAX_RECORDS_PER_FILE) -> list[tuple[str, bytes, int]]:
    """The file split into files of at most `size` records, each with the header: (name, bytes, records)."""
    try:
        rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    except (UnicodeDecodeError, csv.Error) as exc:
        raise ArtifactError(f"the demo file is not a readable UTF-8 CSV: {exc}", file=name) from None
    if not rows:
        raise ArtifactError("the demo file is empty", file=name)
    header, records = rows[0], rows[1:]
    stem = Path(name).stem
    parts = [records[i : i + size] for i in range(0, len(records), size)]
    return [(f"{stem}_part{n}.csv", render_csv(header, part), len(part)) for n, part in enumerate(parts, 1)]


def prepare(out: Path) -> Path:
    """`OUT/demo/`, emptied if an earlier demo made it; someone else's folder there is never touched."""
    tenant_dir = out / DEMO_TENANT
    if tenant_dir.exists():
        if not (tenant_dir / MARKER).is_file():
            raise UsageError(f"{tenant_dir} exists and was not made by the demo; give another --out")
        shutil.rmtree(tenant_dir)
    tenant_dir.mkdir(parents=True)
    (tenant_dir / MARKER).write_text("made by claret-errors demo; the next demo replaces this folder\n")
    return tenant_dir


def edit_as_a_person(folder: Path) -> Path:
    """What an owner does with needs_attention.csv in a spreadsheet: takes the close matches the tool
    suggests, and types the counted quantity (with a thousands separator) where Claret wanted one above 0;
    then saves it as a European spreadsheet does, with semicolons in Windows-1252."""
    text = (folder / "needs_attention.csv").read_text(encoding="utf-8")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    header = rows[0]
    at = {name: header.index(name) for name in header}
    for row in rows[1:]:
        field, _, rest = row[at["suggestion"]].partition(": ")
        if field in at and rest.endswith(")") and "(score " in rest:
            row[at[field]] = rest.split(" (score ", 1)[0]
        elif "greater than 0" in row[at["messages"]] and row[at["quantity"]].strip() in ("0", "-0", ""):
            row[at["quantity"]] = "1,200"
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=";", lineterminator="\r\n").writerows(rows)
    edited = folder / EDITED
    edited.write_bytes(buffer.getvalue().encode("cp1252", errors="replace"))
    return edited


async def _loop(
    settings: Settings, data: bytes, progress: Progress
) -> tuple[list[tuple[str, int, str]], RunResult, ResubmitResult, ResubmitResult]:
    async with ClaretClient(settings) as client:
        uploaded = []
        for name, part, records in chunks(data, DEMO_FILE):
            job = await client.upload_csv(
                part,
                name,
                allow_record_creation=settings.allow_record_creation,
                allow_record_update=settings.allow_record_update,
            )
            uploaded.append((name, records, str(job)))
        first = await run_async([job for _, _, job in uploaded], settings, client, progress=progress)
        planned = await asyncio.to_thread(plan, [r.folder for r in first.results if r.fixes], settings)
        second = await resubmit_async(planned, settings, client, progress=progress)
        sheet = await asyncio.to_thread(edit_as_a_person, first.results[0].folder)
        checked = await asyncio.to_thread(check_worksheet, sheet, settings)
        edited = await asyncio.to_thread(plan, checked.files, settings) if checked.files else []
        third = await resubmit_async(edited, settings, client, progress=progress)
        third.worksheets = [checked]
    return uploaded, first, second, third


def _present(path: Path) -> Path | None:
    return path if path.exists() else None


def demo(out: Path, *, progress: Progress | None = None, seed: int = 2026) -> DemoResult:
    """Run the whole loop on a fresh simulated tenant, writing everything into `OUT/demo/`."""
    from claret_errors.simulator import Simulator

    started = time.perf_counter()
    sample = fixtures_dir() / "demo" / DEMO_FILE
    try:
        data = sample.read_bytes()
    except OSError as exc:
        raise ArtifactError(
            f"cannot read the demo's nightly file: {exc.strerror or exc}", file=str(sample)
        ) from None
    tenant_dir = prepare(out)
    with Simulator("demo", seed=seed, speed=SPEED, tenants=(DEMO_TENANT,)) as sim:
        settings = Settings(
            tenant=sim.tenant,
            base_url=sim.base_url,
            email=sim.email,
            password=sim.password,
            out=out,
            poll_interval=0.05,
            max_wait=60,
            owners=_present(fixtures_dir() / "owners.example.toml"),
            master_data=_present(fixtures_dir() / "master"),
        )
        uploaded, first, second, third = asyncio.run(_loop(settings, data, progress or Progress()))
    # The messages each owner would get, written as .eml files; a demo never sends e-mail.
    messages = notify([tenant_dir], settings)
    return DemoResult(uploaded, first, second, tenant_dir, time.perf_counter() - started, messages, third)
