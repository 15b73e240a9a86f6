"""Each owner's share of a night, read back from the job folders the pipeline wrote.

The job folders are the record of an analysis (summary.json, failed_records.csv, needs_attention.csv), so
notification works the same right after `run` and a day later from `notify FOLDER`, and it never counts
anything the reports did not: every number here is a count of rows in those files. Reads only.
"""

from __future__ import annotations

import csv
import json
import os
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from claret_errors.errors import ArtifactError, UsageError
from claret_errors.redact import printable
from claret_errors.results import UnknownUpload

# The csv module's default field limit (128 KiB) would turn one long cell into an error.
_FIELD_LIMIT = 16 * 1024 * 1024


@dataclass(frozen=True)
class TodoLine:
    """One line of a to-do list: how many rows, what to do with them, and in which file."""

    rows: int
    action: str
    file: str
    guessed: int = 0  # of `rows`, those whose action rests on a message read only by its wording


@dataclass(frozen=True)
class JobShare:
    """What one job holds for one owner."""

    job_log_id: str
    folder: Path
    failed_rows: int  # failed records routed to this owner
    auto_fixed_rows: int  # of those, corrected automatically (in corrected/)
    to_fix_rows: int  # of those, rows a person must fix (needs_attention)
    todo: tuple[TodoLine, ...]
    report: Path | None  # the owner's report in owners/, when it was written
    worksheet: Path | None  # the owner's worksheet or needs_attention file, when one was written
    status_link: str | None


@dataclass(frozen=True)
class NightJob:
    """One analysed job of the night, as its folder records it."""

    folder: Path
    tenant: str
    job_log_id: str
    night: str
    status: str
    counts: dict[str, int]
    exit_code: int
    error: str | None
    status_link: str | None
    resubmitted_as: tuple[str, ...]
    attention_header: tuple[str, ...] = ()
    attention: tuple[dict[str, str], ...] = ()
    failed: tuple[dict[str, str], ...] = ()
    owner_files: dict[str, Path] = field(default_factory=dict)
    todo: tuple[dict[str, Any], ...] | None = None  # summary.json's to-do list, as the reports show it
    landed: frozenset[str] = frozenset()  # input rows imported since by a resubmission (summary.json)
    unknown: tuple[UnknownUpload, ...] = ()  # resends whose outcome is unknown (summary.json)

    def owners(self) -> list[str]:
        """Owners with at least one failed row in this job, in order of first appearance."""
        return list(dict.fromkeys(row.get("owner", "") for row in self.failed if row.get("owner")))

    def share(self, owner: str) -> JobShare:
        """This job's share for `owner`."""
        mine = [row for row in self.failed if row.get("owner") == owner]
        to_fix = self.attention_rows(owner)
        if self.todo is not None:
            todo = tuple(
                TodoLine(
                    rows=int(item["rows"]),
                    action=printable(str(item["action"]), 300),
                    file=str(item["file"]),
                    guessed=guessed if isinstance(guessed := item.get("guessed"), int) else 0,
                )
                for item in self.todo
                if item.get("owner") == owner and isinstance(item.get("rows"), int)
            )
        else:  # a folder analysed before summary.json carried the to-do list
            where = self._attention_file(owner)
            groups = Counter(_action(row) for row in to_fix)
            todo = tuple(TodoLine(rows=n, action=action, file=where) for action, n in groups.most_common())
        report = self.owner_files.get(f"{owner}.html")
        return JobShare(
            job_log_id=self.job_log_id,
            folder=self.folder,
            failed_rows=len(mine),
            auto_fixed_rows=sum(1 for row in mine if row.get("fix") == "auto"),
            to_fix_rows=len(to_fix),
            todo=todo,
            report=report,
            worksheet=self._worksheet(owner),
            status_link=self.status_link,
        )

    def unknown_for(self, owner: str) -> list[tuple[UnknownUpload, int]]:
        """The resends with an unknown outcome that held rows of `owner`, each with how many of them: only
        those whose rows summary.json names (a worksheet's edited file; a corrected file's are not known)."""
        found = []
        for upload in self.unknown:
            if upload.input_rows is not None:
                sent = {str(n) for n in upload.input_rows}
                mine = sum(
                    1 for row in self.failed if row.get("owner") == owner and row.get("input_row") in sent
                )
                if mine:
                    found.append((upload, mine))
        return found

    def _worksheet(self, owner: str) -> Path | None:
        for name in (f"{owner}.xlsx", f"{owner}_needs_attention.xlsx", f"{owner}_needs_attention.csv"):
            if name in self.owner_files:
                return self.owner_files[name]
        return None

    def _attention_file(self, owner: str) -> str:
        sheet = self._worksheet(owner)
        if sheet is not None:
            return str(sheet.relative_to(self.folder))
        workbook = self.folder / "needs_attention.xlsx"
        return "needs_attention.xlsx" if workbook.is_file() else "needs_attention.csv"

    def attention_rows(self, owner: str) -> list[dict[str, str]]:
        """The owner's rows of needs_attention.csv still to fix, as written (cells already neutralised for
        people): rows a resubmission has imported since are done."""
        mine = (row for row in self.attention if row.get("owner") == owner)
        return [row for row in mine if row.get("input_row") not in self.landed]


def _action(row: dict[str, str]) -> str:
    """What to do with a row: its advice when the analysis gave one, else its categories in words."""
    advice = (row.get("advice") or "").strip()
    if advice:
        return printable(advice, 300)
    categories = (row.get("categories") or row.get("reason") or "").strip()
    words = categories.replace("_", " ").replace(" | ", ", ") or "check the row"
    return printable(words[:1].upper() + words[1:], 300)


def _read_csv(path: Path) -> tuple[tuple[str, ...], tuple[dict[str, str], ...]]:
    if not path.is_file():
        return (), ()
    csv.field_size_limit(_FIELD_LIMIT)
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(handle)
            rows = tuple(dict(row) for row in reader)
            return tuple(reader.fieldnames or ()), rows
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise ArtifactError(f"cannot read it: {exc}", file=str(path)) from exc


def _night(summary: dict[str, Any], folder: Path) -> str:
    """The job's start date when Claret gave one (as the history counts nights), else the analysis date."""
    stamps = summary.get("timestamps") or {}
    for key in ("started_at", "completed_at"):
        stamp = stamps.get(key) if isinstance(stamps, dict) else None
        if isinstance(stamp, str):
            try:
                return datetime.fromisoformat(stamp).date().isoformat()
            except ValueError:
                continue
    written = (folder / "summary.json").stat().st_mtime
    return datetime.fromtimestamp(written, UTC).date().isoformat()


def read_job(folder: Path) -> NightJob:
    """One job folder with a summary.json, or ArtifactError naming the file that cannot be used."""
    path = folder / "summary.json"
    try:
        summary = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise ArtifactError(f"cannot read the job's summary: {exc}", file=str(path)) from exc
    if not isinstance(summary, dict):
        raise ArtifactError("not a job summary (a JSON object)", file=str(path))
    counts = summary.get("counts") or {}
    header, attention = _read_csv(folder / "needs_attention.csv")
    _, failed = _read_csv(folder / "failed_records.csv")
    owners_dir = folder / "owners"
    owner_files = {p.name: p for p in owners_dir.iterdir() if p.is_file()} if owners_dir.is_dir() else {}
    links = summary.get("links") or []
    return NightJob(
        folder=folder,
        tenant=printable(str(summary.get("tenant") or "local"), 80),
        job_log_id=printable(str(summary.get("job_log_id") or folder.name), 40),
        night=_night(summary, folder),
        status=printable(str(summary.get("status") or ""), 40),
        counts={k: int(v) for k, v in counts.items() if isinstance(v, int)}
        if isinstance(counts, dict)
        else {},
        exit_code=int(summary.get("exit_code") or 0),
        error=printable(str(summary["error"]), 300) if summary.get("error") else None,
        status_link=summary.get("job_status_link")
        if isinstance(summary.get("job_status_link"), str)
        else None,
        resubmitted_as=tuple(
            str(link.get("job_log_id"))
            for link in links
            if isinstance(link, dict) and link.get("relation") == "resubmitted_as"
        ),
        attention_header=header,
        attention=attention,
        failed=failed,
        owner_files=owner_files,
        todo=_todo(summary.get("todo")),
        landed=_landed(summary.get("landed_on_resubmission")),
        unknown=_unknown(summary.get("outcome_unknown")),
    )


def _unknown(value: Any) -> tuple[UnknownUpload, ...]:
    """summary.json's `outcome_unknown`: the resends whose answer was lost, with `resubmit`'s advice."""
    if not isinstance(value, list):
        return ()
    return tuple(
        UnknownUpload(
            file=printable(str(item.get("file") or ""), 200),
            started=printable(str(item.get("started") or ""), 40),
            rows=item.get("rows") if isinstance(item.get("rows"), int) else None,
            check=printable(str(item.get("check") or ""), 600),
            input_rows=_numbers(item.get("input_rows")),
        )
        for item in value
        if isinstance(item, dict) and item.get("file")
    )


def _landed(value: Any) -> frozenset[str]:
    """The input rows of summary.json's `landed_on_resubmission`, as needs_attention.csv spells them."""
    if not isinstance(value, list):
        return frozenset()
    return frozenset(str(i["input_row"]) for i in value if isinstance(i, dict) and "input_row" in i)


def _numbers(value: Any) -> tuple[int, ...] | None:
    """A list of input rows as summary.json writes it; None when it is not one (not known)."""
    if not isinstance(value, list) or not all(isinstance(n, int) for n in value):
        return None
    return tuple(value)


def _todo(value: Any) -> tuple[dict[str, Any], ...] | None:
    if not isinstance(value, list):
        return None
    return tuple(item for item in value if isinstance(item, dict))


def job_folders(paths: list[Path]) -> list[Path]:
    """Every job folder named or held one level down (a run folder `OUT/<tenant>/`), sorted by job id."""
    found: list[Path] = []
    for path in paths:
        if (path / "summary.json").is_file():
            found.append(path)
        elif path.is_dir():
            found.extend(sub for sub in path.iterdir() if (sub / "summary.json").is_file())
        else:
            raise UsageError(f"{path}: not a job folder or a run folder (no summary.json in or below it)")
    if not found:
        raise UsageError(
            f"{', '.join(map(str, paths))}: no analysed jobs found "
            "(run `claret-errors run` or `analyze` first)"
        )

    def order(p: Path) -> tuple[int, str]:
        return (int(p.name), "") if p.name.isdigit() else (1 << 62, p.name)

    unique = {Path(os.path.realpath(p)): p for p in found}
    return sorted(unique.values(), key=order)


def night_jobs(paths: list[Path], night: str | None = None) -> tuple[str, list[NightJob]]:
    """The jobs of one night: `night` (YYYY-MM-DD) when given, else the latest night found."""
    jobs = [read_job(folder) for folder in job_folders(paths)]
    nights = sorted({job.night for job in jobs})
    chosen = night or nights[-1]
    if chosen not in nights:
        raise UsageError(f"no job of the night {chosen} there (nights found: {', '.join(nights)})")
    return chosen, [job for job in jobs if job.night == chosen]
