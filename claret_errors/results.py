"""The typed values that pass between the pipeline stages, and the one result model reports render.

Plain frozen dataclasses: no I/O, no printing. Frames are polars; every other value is JSON-friendly so
that `summary.json`, Markdown and HTML are all rendered from the same `JobResult`. Frames stay out of
`repr`: records belong in no log or traceback, and asyncio formats a finished run's result on exit.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from claret_errors.claret.models import JobStatus

if TYPE_CHECKING:
    import polars as pl

ArtifactKind = Literal["input", "staging", "output", "errors"]
ARTIFACT_KINDS: tuple[ArtifactKind, ...] = ("input", "staging", "output", "errors")
Severity = Literal["info", "warning", "error"]
FixKind = Literal["auto", "suggested", "manual"]
SCHEMA_VERSION = 1


@dataclass(slots=True)
class Finding:
    """One observation about a file: a schema failure, an odd encoding, a ragged row, drift.

    Not frozen: a frozen dataclass sets each field through object.__setattr__, three times slower, and a
    million-row night makes tens of thousands of findings. Nothing hashes or edits them.
    """

    file: str
    check: str
    message: str
    column: str = ""
    row: int | None = None
    value: str | None = None
    severity: Severity = "warning"


@dataclass(frozen=True)
class JobInfo:
    """A job as a run knows it: its tenant and id (from the folder and flags when Claret gave none) and
    what Claret said of it (`claret`, the one status model). The read-only names below are `claret`'s own
    fields, for the reports."""

    tenant: str
    job_log_id: str
    claret: JobStatus = field(default_factory=JobStatus)

    @property
    def status(self) -> str:
        return self.claret.status

    @property
    def type(self) -> str:
        return self.claret.type

    @property
    def description(self) -> str:
        return self.claret.description

    @property
    def started_at(self) -> str | None:
        return self.claret.started_at

    @property
    def completed_at(self) -> str | None:
        return self.claret.completed_at

    @property
    def job_status_link(self) -> str | None:
        return self.claret.job_status_link


@dataclass(frozen=True)
class Detection:
    """What loading assumed about formats Claret does not document; shown in every report."""

    encodings: dict[str, str] = field(default_factory=dict)  # file -> encoding used
    row_column: dict[str, str | None] = field(default_factory=dict)  # kind -> column or None
    row_base: dict[str, str] = field(default_factory=dict)  # kind -> "0", "1", "2", "line", "prefix"
    join: dict[str, str] = field(default_factory=dict)  # kind -> "row reference" | "record fields"
    message_columns: tuple[str, ...] = ()
    message_layout: str = "one message per cell"
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class LoadedInput:
    """A job's input as loaded, which is all that validating the input needs (see `validate_input`)."""

    frame: pl.DataFrame = field(repr=False)
    profile: str  # "inventory" or "generic"
    columns: tuple[str, ...]  # canonical field names, in input order
    headers: tuple[str, ...]  # the input file's own header names, same order
    file: str  # the first input file's name, as findings name it


@dataclass
class LoadedJob:
    """Every artifact of a job as text frames, each row traced back to its input row.

    `input` has `input_row` (Int64, 1-based data row), one String column per input field (canonical
    names, in the input's order), `_source_file` and `_source_line`. `staging`, `output` and `errors`
    have the same plus their own columns; their `input_row` is null where no input row matched.
    `errors` also has `messages` (List[String]: each message of the row, prefix removed).
    """

    path: Path
    info: JobInfo
    profile: str  # "inventory" or "generic"
    input: pl.DataFrame = field(repr=False)
    staging: pl.DataFrame = field(repr=False)
    output: pl.DataFrame = field(repr=False)
    errors: pl.DataFrame = field(repr=False)
    input_columns: tuple[str, ...]  # canonical field names, in input order
    input_headers: tuple[str, ...]  # the input file's own header names, same order
    files: dict[str, list[Path]]  # kind -> files, in load order
    detection: Detection
    findings: list[Finding] = field(default_factory=list)

    def loaded_input(self) -> LoadedInput:
        """The input side alone, as `load_job` hands it to `on_input`."""
        first = self.files["input"][0].name if self.files.get("input") else "input"
        return LoadedInput(self.input, self.profile, self.input_columns, self.input_headers, first)


@dataclass(frozen=True)
class Counts:
    """The accounting: imported + failed + unaccounted == input_rows, always."""

    input_rows: int
    imported: int
    failed: int
    unaccounted: int
    anomalies: int

    def adds_up(self) -> bool:
        return self.imported + self.failed + self.unaccounted == self.input_rows

    @property
    def did_not_land(self) -> int:
        """Input rows that did not land in this job: its failed records and its unaccounted rows."""
        return self.failed + self.unaccounted


@dataclass(frozen=True)
class NightCounts:
    """A night's accounting with each input row once, the one source of every total over several jobs.

    Original jobs bring the input rows: input_rows == imported + failed + unaccounted, as for one job.
    A resubmission re-sends rows already counted as its original's failures: it adds no input row; the
    rows that land on resubmission stop being outstanding. outstanding == failed + unaccounted - landed.
    """

    jobs: int  # original jobs
    resubmissions: int
    input_rows: int
    imported: int  # rows imported on first sending
    failed: int  # failed records of the original jobs
    unaccounted: int
    anomalies: int
    landed_on_resubmission: int

    @property
    def outstanding(self) -> int:
        """Rows of the night that have not landed, after every resubmission."""
        return max(self.failed + self.unaccounted - self.landed_on_resubmission, 0)

    def adds_up(self) -> bool:
        return self.imported + self.failed + self.unaccounted == self.input_rows

    def first_sending(self) -> Counts:
        """The night's accounting before any resubmission, as one job's counts."""
        return Counts(self.input_rows, self.imported, self.failed, self.unaccounted, self.anomalies)


def night_counts(jobs: Iterable[tuple[Counts, bool]]) -> NightCounts:
    """Sum jobs of one night, each given as (counts, is a resubmission of a job among them)."""
    originals = resent = input_rows = imported = failed = unaccounted = anomalies = landed = 0
    for counts, is_resubmission in jobs:
        anomalies += counts.anomalies
        if is_resubmission:
            resent += 1
            landed += counts.imported
            continue
        originals += 1
        input_rows += counts.input_rows
        imported += counts.imported
        failed += counts.failed
        unaccounted += counts.unaccounted
    return NightCounts(originals, resent, input_rows, imported, failed, unaccounted, anomalies, landed)


@dataclass(frozen=True)
class CategoryCount:
    """One line of the taxonomy table: a category on a field."""

    category: str
    field: str
    records: int
    messages: int
    auto_fixed: int = 0
    guessed: int = 0  # of `records`, those whose message for this line was only guessed from its wording


@dataclass
class Reconciliation:
    """Every input row accounted for; every message classified and routed to an owner.

    `failed`: one row per failed input row: `input_row`, the input columns, `messages` (List[String]),
    `categories` (List[String]), `fields` (List[String]), `confidences` (List[String]), `owner`.
    `messages`: one row per (input row, message): `input_row`, `message`, `category`, `field`, `fix`,
    `rule` (the rule's id, "" for none), `confidence` (rule / guessed / none), `advice` (what a person
    does about it, in plain words).
    `anomalies`: `kind` (in_output_and_errors, duplicate_in_output, duplicate_in_errors,
    output_without_input, errors_without_input), `input_row` (nullable), `source` (file:line), `detail`.
    `unaccounted`: the input rows in neither output nor errors.
    """

    counts: Counts
    failed: pl.DataFrame = field(repr=False)
    messages: pl.DataFrame = field(repr=False)
    anomalies: pl.DataFrame = field(repr=False)
    unaccounted: pl.DataFrame = field(repr=False)
    categories: list[CategoryCount]

    def classification(self) -> dict[str, int]:
        """Messages by how they were classified: by a `rule`, `guessed` by the fallback, or `none`."""
        return classification(self.messages)


def classification(messages: pl.DataFrame) -> dict[str, int]:
    """Messages (rows of a `Reconciliation.messages` frame, or an owner's share of them) by how they were
    classified: by a `rule`, `guessed` by the fallback, or `none`."""
    counted = dict.fromkeys(("rule", "guessed", "none"), 0)
    if "confidence" in messages.columns:
        for confidence, n in messages["confidence"].value_counts().iter_rows():
            counted[str(confidence)] = int(n)
    return counted


@dataclass
class FixResult:
    """What the fix stage made of the failed rows.

    `rows`: one row per failed input row: `input_row`, `fix` (auto / suggested / manual), `suggestion`.
    `corrections`: `input_row`, `field`, `before`, `after`, `rule`, `assumption` (what it took for granted).
    `needs_attention`: the failed rows not corrected: the input columns, `messages`, `reason` (the failures
    left), `owner`, `fix`, `suggestion`, `advice` (List[String]: what to do about the failures left, each
    once) and `note` (the reasons no message of Claret's gives).
    """

    rows: pl.DataFrame = field(repr=False)
    corrections: pl.DataFrame = field(repr=False)
    needs_attention: pl.DataFrame = field(repr=False)
    corrected_files: list[Path]
    auto_fixed_rows: int
    suggested_rows: int
    manual_rows: int
    unaccounted_files: list[Path] = field(default_factory=list)  # unaccounted rows as sent, to re-send
    # Names each reference field may take (master data, or what the job proves exists): the drop-downs.
    choices: dict[str, list[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class JobLink:
    """A link between an original job and the job its corrected rows were resubmitted as."""

    relation: Literal["resubmitted_as", "resubmission_of"]
    tenant: str
    job_log_id: str
    file: str = ""


@dataclass(frozen=True)
class UnknownUpload:
    """A resend of this job's rows whose answer was lost: it may or may not be a job in Claret."""

    file: str  # the file's name, as the resubmission ledger records it
    started: str  # ISO 8601, when the upload started
    rows: int | None  # its data rows, None when the file is no longer there as sent
    check: str  # what the operator does about it, as `resubmit` says it
    input_rows: tuple[int, ...] | None = None  # the job's rows in it, when known (a worksheet's edited file)


@dataclass(frozen=True)
class Attempt:
    """A run that could not fetch or analyse a job which had a good analysis: kept beside that analysis
    (`last_attempt.json`) instead of overwriting it."""

    at: str  # ISO 8601, when the attempt ran
    error: str
    exit_code: int
    shown: str | None = None  # when the analysis still shown was made

    def to_json(self) -> dict[str, Any]:
        return {"at": self.at, "error": self.error, "exit_code": self.exit_code, "shown": self.shown}


@dataclass
class JobResult:
    """Everything known about one job after the pipeline: the one model all outputs render from."""

    info: JobInfo
    folder: Path
    counts: Counts | None = None
    categories: list[CategoryCount] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    detection: Detection = field(default_factory=Detection)
    loaded: LoadedJob | None = None
    reconciliation: Reconciliation | None = None
    fixes: FixResult | None = None
    links: list[JobLink] = field(default_factory=list)
    error: str | None = None  # why the job could not be analysed, if it could not
    exit_code: int = 0
    analysed_at: str | None = None  # ISO 8601, when this analysis was made
    attempt: Attempt | None = None  # a later attempt that failed, when this is the last good analysis
    settings: dict[str, str | None] = field(default_factory=dict)  # the settings that shaped the analysis
    landed_later: dict[int, str] = field(default_factory=dict)  # input row -> resubmission that imported it
    unknown_uploads: list[UnknownUpload] = field(default_factory=list)  # resends with their outcome unknown

    def summary(self) -> dict[str, Any]:
        """`summary.json` (schema_version 1)."""
        counts = self.counts or Counts(0, 0, 0, 0, 0)
        fixes = self.fixes
        return {
            "schema_version": SCHEMA_VERSION,
            "tenant": self.info.tenant,
            "job_log_id": self.info.job_log_id,
            "type": self.info.type,
            "status": self.info.status,
            "timestamps": {
                "started_at": self.info.started_at,
                "completed_at": self.info.completed_at,
            },
            "job_status_link": self.info.job_status_link,
            "counts": {
                "input_rows": counts.input_rows,
                "imported": counts.imported,
                "failed": counts.failed,
                "unaccounted": counts.unaccounted,
                "anomalies": counts.anomalies,
            },
            "categories": [
                {
                    "category": c.category,
                    "field": c.field,
                    "records": c.records,
                    "messages": c.messages,
                    "auto_fixed": c.auto_fixed,
                    "guessed": c.guessed,
                }
                for c in self.categories
            ],
            "classification": (
                self.reconciliation.classification()
                if self.reconciliation
                else dict.fromkeys(("rule", "guessed", "none"), 0)
            ),
            "corrections": {
                "auto_fixed_rows": fixes.auto_fixed_rows if fixes else 0,
                "suggested_rows": fixes.suggested_rows if fixes else 0,
                "manual_rows": fixes.manual_rows if fixes else 0,
                "files": [p.name for p in fixes.corrected_files] if fixes else [],
                "unaccounted_files": [p.name for p in fixes.unaccounted_files] if fixes else [],
            },
            "schema_findings": [
                {
                    "file": f.file,
                    "check": f.check,
                    "column": f.column,
                    "row": f.row,
                    "value": f.value,
                    "message": f.message,
                    "severity": f.severity,
                }
                for f in self.findings
            ],
            "detection": {
                "encodings": self.detection.encodings,
                "row_column": self.detection.row_column,
                "row_base": self.detection.row_base,
                "join": self.detection.join,
                "message_columns": list(self.detection.message_columns),
                "message_layout": self.detection.message_layout,
                "notes": list(self.detection.notes),
            },
            "links": [
                {"relation": k.relation, "tenant": k.tenant, "job_log_id": k.job_log_id, "file": k.file}
                for k in self.links
            ],
            "landed_on_resubmission": [
                {"input_row": n, "job_log_id": job} for n, job in sorted(self.landed_later.items())
            ],
            "error": self.error,
            "exit_code": self.exit_code,
            "analysed_at": self.analysed_at,
            "settings": self.settings,
            "last_attempt": self.attempt.to_json() if self.attempt else None,
            "outcome_unknown": [
                {
                    "file": u.file,
                    "started": u.started,
                    "rows": u.rows,
                    "check": u.check,
                    "input_rows": list(u.input_rows) if u.input_rows is not None else None,
                }
                for u in self.unknown_uploads
            ],
        }
