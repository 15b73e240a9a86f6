"""The history ledger: one line per analysed job in `OUT/<tenant>/history.jsonl`, for trends across nights.

Reads and writes only that file (atomically, under a lock). It never renders anything and never stores a
message or a cell value: counts only, so the ledger holds nothing sensitive.
"""

from __future__ import annotations

import fcntl
import json
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from claret_errors.errors import ArtifactError
from claret_errors.files.atomic import atomic_write_text
from claret_errors.results import Counts, JobResult, NightCounts, night_counts

LEDGER_NAME = "history.jsonl"
_LOCAL_LOCK = threading.Lock()


@dataclass(frozen=True)
class HistoryEntry:
    """One job as it stood when last analysed: the counts a trend needs, nothing more."""

    tenant: str
    job_log_id: str
    run_at: str  # ISO 8601, when the tool analysed the job
    night: str  # YYYY-MM-DD the import ran (job start), else the run's date
    status: str
    input_rows: int
    imported: int
    failed: int
    unaccounted: int
    anomalies: int
    categories: dict[str, int] = field(default_factory=dict)  # category -> failed records
    exit_code: int = 0
    resubmission_of: str = ""  # the job whose corrected rows this job re-sent, if it is a resubmission
    analysed: bool = True  # False: the job was never analysed (its counts are zero, not measured)

    @property
    def key(self) -> tuple[str, str]:
        """A rerun of the same job replaces the entry with this key."""
        return (self.tenant, self.job_log_id)

    def counts(self) -> Counts:
        """The job's accounting as recorded."""
        return Counts(self.input_rows, self.imported, self.failed, self.unaccounted, self.anomalies)


@dataclass(frozen=True)
class NightTrend:
    """All jobs of one night summed by the counts model: failed records as first sent, what landed on
    resubmission, what is still outstanding, and each category's failed records."""

    night: str
    totals: NightCounts
    categories: dict[str, int]

    @property
    def jobs(self) -> int:
        """Original jobs of the night (resubmissions are not counted as jobs of their own)."""
        return self.totals.jobs

    @property
    def input_rows(self) -> int:
        return self.totals.input_rows

    @property
    def failed(self) -> int:
        """Failed records of the night's original jobs, before any resubmission."""
        return self.totals.failed

    @property
    def landed_on_resubmission(self) -> int:
        return self.totals.landed_on_resubmission

    @property
    def outstanding(self) -> int:
        """Rows still outstanding after the night's resubmissions."""
        return self.totals.outstanding

    @property
    def failed_share(self) -> float:
        """Failed records over input rows; 0 for a night with no rows."""
        return self.failed / self.input_rows if self.input_rows else 0.0


def _night_of(result: JobResult, run_at: datetime) -> str:
    """The job's start date when Claret gave one, else the date of the run."""
    stamp = result.info.started_at
    if stamp:
        try:
            return datetime.fromisoformat(stamp).date().isoformat()
        except ValueError:
            pass
    return run_at.date().isoformat()


def entry_for(result: JobResult, *, run_at: datetime) -> HistoryEntry:
    """The ledger line of one job result."""
    counts = result.counts
    categories: dict[str, int] = {}
    for cat in result.categories:
        categories[cat.category] = categories.get(cat.category, 0) + cat.records
    return HistoryEntry(
        tenant=result.info.tenant,
        job_log_id=result.info.job_log_id,
        run_at=run_at.isoformat(timespec="seconds"),
        night=_night_of(result, run_at),
        status=result.info.status,
        input_rows=counts.input_rows if counts else 0,
        imported=counts.imported if counts else 0,
        failed=counts.failed if counts else 0,
        unaccounted=counts.unaccounted if counts else 0,
        anomalies=counts.anomalies if counts else 0,
        categories=categories,
        exit_code=result.exit_code,
        resubmission_of=next((k.job_log_id for k in result.links if k.relation == "resubmission_of"), ""),
        analysed=counts is not None,
    )


def _int(data: dict[str, Any], key: str) -> int:
    value = data.get(key, 0)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{key} is not an integer")
    return value


def _parse_line(text: str) -> HistoryEntry:
    """One ledger line; raises ValueError on anything that is not a well-formed entry."""
    data = json.loads(text)
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    cats = data.get("categories") or {}
    if not isinstance(cats, dict) or not all(
        isinstance(k, str) and isinstance(v, int) and not isinstance(v, bool) for k, v in cats.items()
    ):
        raise ValueError("categories is not a mapping of names to counts")
    keys = ("tenant", "job_log_id", "run_at", "night", "status", "resubmission_of")  # the last came later
    strings = {k: data.get(k, "") for k in keys}
    if not all(isinstance(v, str) for v in strings.values()):
        raise ValueError("a text field is not a string")
    return HistoryEntry(
        **strings,
        input_rows=_int(data, "input_rows"),
        imported=_int(data, "imported"),
        failed=_int(data, "failed"),
        unaccounted=_int(data, "unaccounted"),
        anomalies=_int(data, "anomalies"),
        categories=dict(cats),
        exit_code=_int(data, "exit_code"),
        analysed=data.get("analysed", True) is not False,
    )


class History:
    """The ledger of a tenant's output folder; safe to share between threads and processes."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @classmethod
    def open(cls, tenant_dir: Path) -> History:
        """The ledger of `tenant_dir`; the file is created on the first `record`."""
        return cls(tenant_dir / LEDGER_NAME)

    def entries(self) -> list[HistoryEntry]:
        """Every entry, oldest run first; a damaged line raises ArtifactError naming its line."""
        if not self.path.exists():
            return []
        try:
            text = self.path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ArtifactError(f"cannot read the history ledger: {exc}", file=str(self.path)) from exc
        found: list[HistoryEntry] = []
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                found.append(_parse_line(line))
            except (ValueError, TypeError) as exc:
                raise ArtifactError(
                    f"damaged history entry ({exc}); fix or delete the line", file=str(self.path), line=number
                ) from exc
        return sorted(found, key=lambda e: e.run_at)

    def record(self, result: JobResult, *, run_at: datetime) -> None:
        """Add or replace the job's entry, rewriting the file atomically under a lock."""
        entry = entry_for(result, run_at=run_at)
        with self._locked():
            kept = [e for e in self.entries() if e.key != entry.key]
            self._write([*kept, entry])

    def trends(self, *, last: int = 14) -> list[NightTrend]:
        """The last `last` nights, oldest first."""
        return trend_by_night(self.entries())[-last:]

    @contextmanager
    def _locked(self) -> Iterator[None]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        lock_path = self.path.with_name(self.path.name + ".lock")
        with _LOCAL_LOCK, lock_path.open("a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _write(self, entries: Sequence[HistoryEntry]) -> None:
        atomic_write_text(self.path, "".join(json.dumps(asdict(e), sort_keys=True) + "\n" for e in entries))


def nights_of(entries: Sequence[HistoryEntry]) -> dict[str, list[HistoryEntry]]:
    """The entries grouped by night, oldest first; a resubmission belongs to its original's night (the
    rows it re-sent were that night's input), following chains of resubmissions."""
    known = {(e.tenant, e.job_log_id): e for e in entries}

    def night(entry: HistoryEntry) -> str:
        seen: set[tuple[str, str]] = set()
        while entry.resubmission_of and entry.key not in seen:
            seen.add(entry.key)
            original = known.get((entry.tenant, entry.resubmission_of))
            if original is None:
                break
            entry = original
        return entry.night

    grouped: dict[str, list[HistoryEntry]] = {}
    for entry in entries:
        grouped.setdefault(night(entry), []).append(entry)
    return {n: grouped[n] for n in sorted(grouped)}


def is_resubmission(entry: HistoryEntry, among: Sequence[HistoryEntry]) -> bool:
    """Whether the entry re-sent rows of a job among `among` (then its rows are not new input)."""
    return bool(entry.resubmission_of) and any(
        e.tenant == entry.tenant and e.job_log_id == entry.resubmission_of for e in among
    )


def night_totals(group: Sequence[HistoryEntry]) -> NightCounts:
    """One night's totals by the counts model; jobs never analysed add nothing."""
    return night_counts((e.counts(), is_resubmission(e, group)) for e in group if e.analysed)


def trend_by_night(entries: Sequence[HistoryEntry]) -> list[NightTrend]:
    """One trend per night, nights in order, each record once (as the run index counts them).

    Categories are those of the failures as first sent (resubmissions add none).
    """
    trends: list[NightTrend] = []
    for night, group in nights_of(entries).items():
        cats: dict[str, int] = {}
        for entry in group:
            if is_resubmission(entry, group):
                continue
            for name, records in entry.categories.items():
                cats[name] = cats.get(name, 0) + records
        trends.append(NightTrend(night=night, totals=night_totals(group), categories=cats))
    return trends
