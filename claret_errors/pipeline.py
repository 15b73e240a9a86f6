"""The pipeline: fetch → load → validate → reconcile → fix → report, for one job or a night's worth.

The CLI and the Python API both call these functions. A job's trouble becomes its `JobResult` (an error and
an exit code), never an exception that stops the other jobs; nothing here prints or exits.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from claret_errors.claret.models import JobStatus
from claret_errors.claret.urls import safe_component
from claret_errors.config import Settings
from claret_errors.errors import (
    ArtifactError,
    ClaretErrorsError,
    ConfigError,
    ExitCode,
    UsageError,
    is_bug,
    worst_exit_code,
)
from claret_errors.files.atomic import atomic_write_json
from claret_errors.files.csvwrite import write_people_csv
from claret_errors.files.lock import job_busy, take_job_lock
from claret_errors.fix.corrections import CORRECTED_DIR, UNACCOUNTED_DIR, fix
from claret_errors.history import History, HistoryEntry, nights_of
from claret_errors.load.job import load_job
from claret_errors.progress import Progress
from claret_errors.reconcile.accounting import reconcile
from claret_errors.redact import printable
from claret_errors.report.format import when
from claret_errors.report.view import attempt_note, todo_for
from claret_errors.report.write import mark_attempt, write_job_reports, write_run_index
from claret_errors.resubmit.landed import landed_later
from claret_errors.resubmit.ledger import Ledger, Sent
from claret_errors.resubmit.send import (
    Planned,
    Unsure,
    Uploaded,
    check_in_claret,
    count_records,
    plan,
    record_sent_as,
    send,
)
from claret_errors.resubmit.worksheet import (
    EDITED_DIR,
    WorksheetCheck,
    check_worksheets,
    edited_rows,
    is_worksheet,
)
from claret_errors.results import (
    Attempt,
    CategoryCount,
    Counts,
    Finding,
    FixResult,
    JobInfo,
    JobLink,
    JobResult,
    LoadedJob,
    Reconciliation,
    UnknownUpload,
)
from claret_errors.validate import validate_artifacts, validate_input

if TYPE_CHECKING:
    import polars as pl

    from claret_errors.claret.client import ClaretClient
    from claret_errors.fetch import FetchOutcome

log = logging.getLogger("claret_errors.pipeline")

FAILED_RECORDS = "failed_records.csv"
LAST_ATTEMPT = "last_attempt.json"  # a failed attempt, beside the last good analysis it did not replace
MESSAGES = "messages.csv"
SUMMARY = "summary.json"
ANALYSES_AT_ONCE = 2  # analysis is CPU and memory bound: more at once than cores only costs memory


@dataclass
class RunResult:
    """Every job of a run and the index files written for it."""

    results: list[JobResult]
    index_files: list[Path] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        """The worst job's code: 3 never hides 4-8 (docs/architecture.md)."""
        return int(worst_exit_code([r.exit_code for r in self.results]))

    def summary(self) -> dict[str, Any]:
        """The one JSON object `--json` prints: each job's summary.json plus where its files are."""
        return {
            "schema_version": 1,
            "jobs": [job_json(r) for r in self.results],
            "index": [str(p) for p in self.index_files],
            "exit_code": self.exit_code,
        }


def job_summary(result: JobResult) -> dict[str, Any]:
    """A job's summary.json: the result's numbers and its to-do list, the one its reports show (the e-mail
    of a later `notify` reads it from here, so it tells each owner what their report does)."""
    todo = [
        {
            "owner": i.owner,
            "rows": i.rows,
            "action": i.action,
            "file": i.file,
            "input_rows": list(i.input_rows),
            "guessed": i.guessed,
        }
        for i in todo_for(result)
    ]
    return {**result.summary(), "todo": todo}


def job_json(result: JobResult) -> dict[str, Any]:
    """A job's summary.json, plus where its files are."""
    return {**job_summary(result), "folder": str(result.folder)}


WITHOUT_INPUT = ("output_without_input", "errors_without_input")


def records_without_input(result: JobResult) -> int:
    """Output and errors records that name no input row: an input read short (header only, cut off, odd
    line endings) or a file of another job. Listed among the anomalies."""
    rec = result.reconciliation
    if rec is None or rec.anomalies.height == 0:
        return 0
    return int(rec.anomalies.get_column("kind").is_in(WITHOUT_INPUT).sum())


def job_exit_code(result: JobResult) -> int:
    """4 for a job that ended failed; 3 when records failed or are unaccounted for, or the output or errors
    hold records the input does not have (then "all landed" cannot be said); else 0."""
    if result.info.status == "failed":
        return int(ExitCode.JOB_FAILED)
    counts = result.counts
    if counts is not None and (counts.failed or counts.unaccounted or records_without_input(result)):
        return int(ExitCode.RECORDS_FAILED)
    return int(ExitCode.OK)


def fetched_folder(path: Path) -> bool:
    """A job folder as `fetch` writes it (its status or manifest is there), not a plain folder of CSVs."""
    return (path / "status.json").is_file() or (path / "manifest.json").is_file()


def output_folder(path: Path, info: JobInfo, settings: Settings) -> Path:
    """`OUT/<tenant>/<job id>/`, except that a fetched job folder holds its own results unless an output
    folder was given (flag, environment or config file): then the original is left as it is."""
    if fetched_folder(path) and "out" not in settings.sources:
        return path
    tenant = safe_component(info.tenant, fallback="local")
    return settings.out / tenant / safe_component(info.job_log_id, fallback="job")


SHAPING = ("owners", "master_data")  # the settings an analysis depends on, recorded in summary.json


def shaping_settings(settings: Settings) -> dict[str, str | None]:
    """The settings that shaped an analysis, as summary.json records them."""
    return {key: str(Path(value).resolve()) if (value := getattr(settings, key)) else None for key in SHAPING}


def _recorded(folders: Sequence[Path]) -> tuple[dict[str, Any], Path] | None:
    """The settings recorded by the first of `folders` holding a readable summary.json, and that file."""
    for folder in folders:
        try:
            data = json.loads((folder / SUMMARY).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(data, dict):
            recorded = data.get("settings")
            return (recorded, folder / SUMMARY) if isinstance(recorded, dict) else None
    return None


def with_recorded_settings(folders: Sequence[Path], settings: Settings) -> Settings:
    """The settings an earlier analysis recorded (in the output folder, else the folder analysed), for each
    one not given this time: a re-analysis without --owners must not route every record to `unassigned`."""
    found = _recorded(folders)
    if found is None:
        return settings
    recorded, where = found
    now = shaping_settings(settings)
    reused = {
        key: Path(value)
        for key in SHAPING
        if key not in settings.sources
        and isinstance(value := recorded.get(key), str)
        and value != now[key]
        and Path(value).exists()
    }
    if not reused:
        return settings
    log.info("reusing the settings recorded in %s: %s", where, ", ".join(reused))
    return replace(
        settings,
        owners=reused.get("owners", settings.owners),
        master_data=reused.get("master_data", settings.master_data),
        sources={**settings.sources, **dict.fromkeys(reused, str(where))},
    )


def categories_with_fixes(rec: Reconciliation, fixes: FixResult) -> list[CategoryCount]:
    """The taxonomy table with, per category and field, how many of its records were auto-fixed."""
    import polars as pl

    auto = fixes.rows.filter(pl.col("fix") == "auto").select("input_row")
    fixed = (
        rec.messages.join(auto, on="input_row", how="semi")
        .group_by("category", "field")
        .agg(pl.col("input_row").n_unique().alias("n"))
    )
    counted = {(c, f): n for c, f, n in fixed.iter_rows()}
    return [replace(c, auto_fixed=counted.get((c.category, c.field), 0)) for c in rec.categories]


def failed_records(rec: Reconciliation, fixes: FixResult) -> pl.DataFrame:
    """`failed_records.csv`: input row, input columns, messages, categories, owner, fix, suggestion."""
    import polars as pl

    return (
        rec.failed.drop("fields", "confidences")
        .join(fixes.rows, on="input_row", how="left", maintain_order="left")
        .with_columns(pl.col("fix").fill_null("manual"), pl.col("suggestion").fill_null(""))
    )


def _landed_later(folder: Path, job_log_id: str, settings: Settings) -> dict[int, str]:
    """Rows of the job imported since by its resubmissions; a damaged ledger (a finding of `_links`)
    lands none."""
    try:
        return landed_later(folder, job_log_id, settings)
    except ClaretErrorsError:
        return {}


def _links(folder: Path, job_log_id: str) -> tuple[list[JobLink], list[Finding]]:
    """Links to and from resubmissions; a damaged ledger costs the links, not the analysis."""
    try:
        return Ledger.open(folder.parent).links_for(job_log_id), []
    except ClaretErrorsError as exc:
        return [], [Finding("resubmissions.json", "ledger", printable(str(exc)))]


def _unknown_uploads(folder: Path, info: JobInfo, settings: Settings) -> list[UnknownUpload]:
    """The resends of this job's files whose outcome is unknown, as the ledger says (the fact `resubmit`
    holds a file back by), each with its rows, the job's input rows it holds when a worksheet's record
    says (edited/rows.json), and `resubmit`'s advice; a damaged ledger (a finding of `_links`) gives none."""
    try:
        entries = Ledger.open(folder.parent).unknown_from(info.job_log_id)
    except ClaretErrorsError:
        return []
    edited = edited_rows(folder) if entries else {}
    uploads = []
    for entry in entries:
        places = [folder / d / entry.file for d in (CORRECTED_DIR, UNACCOUNTED_DIR, EDITED_DIR)]
        path = next((p for p in places if p.is_file()), places[0])
        check = check_in_claret(settings.base_url, info.tenant, path, entry.sent_at)
        held = edited.get(entry.sha256)
        uploads.append(
            UnknownUpload(
                entry.file,
                entry.sent_at,
                _rows_as_sent(path, entry.sha256),
                check,
                tuple(held) if held is not None else None,
            )
        )
    return uploads


def _rows_as_sent(path: Path, sha256: str) -> int | None:
    """The data rows of a file that still holds the bytes sent; None when it is gone or has changed."""
    try:
        data = path.read_bytes()
        return count_records(data, path) if hashlib.sha256(data).hexdigest() == sha256 else None
    except (OSError, ClaretErrorsError):
        return None


def _write_outputs(result: JobResult, history: History | None, run_at: datetime) -> None:
    """summary.json, history, then the reports (which read the history for trends). A result shown in
    place of a failed attempt leaves the history line alone: it keeps the numbers of that analysis."""
    atomic_write_json(result.folder / SUMMARY, job_summary(result))
    if history is not None and result.attempt is None:
        history.record(result, run_at=run_at)
    write_job_reports(result, result.folder, history=history)
    if result.attempt is None:
        (result.folder / LAST_ATTEMPT).unlink(missing_ok=True)
    else:
        atomic_write_json(result.folder / LAST_ATTEMPT, result.attempt.to_json())


def _stamp(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


def _same_input(folder: Path, job: LoadedJob, counts: Counts) -> None:
    """A job's input never changes: one that now reads another number of rows than the last good analysis
    of this folder read (fewer, more, none) has been damaged or replaced, and its analysis must not replace
    the good one. A fetched folder's files are checked against manifest.json first (load); this catches
    the rest, a folder made by hand above all."""
    good = last_good_summary(folder)
    before = good["counts"].get("input_rows") if good is not None else None
    if not isinstance(before, int) or isinstance(before, bool) or before == counts.input_rows:
        return
    files = ", ".join(_relative(p, job.path) for p in job.files["input"]) or str(job.path)
    shown = _text(good.get("analysed_at")) if good is not None else ""
    of = f" (of {when(shown)})" if shown else ""
    if fetched_folder(job.path):
        way_out = "fetch the job again to restore its files"
    else:
        way_out = (
            "copy the job's files again; if they were replaced on purpose, give them a --job-id of their "
            f"own, or delete {folder / SUMMARY} and analyse again"
        )
    raise ArtifactError(
        f"the job's input now reads {counts.input_rows:,} rows, where the last good analysis{of} read "
        f"{before:,}: its files look damaged or replaced, so that analysis is kept; {way_out}",
        file=files,
    )


def _relative(path: Path, root: Path) -> str:
    """A file as errors name it: relative to the folder analysed."""
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.name


def last_good_summary(folder: Path) -> dict[str, Any] | None:
    """The folder's summary.json when it holds a good analysis (counts and no error), else None."""
    try:
        data = json.loads((folder / SUMMARY).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if (
        not isinstance(data, dict)
        or data.get("error") is not None
        or not isinstance(data.get("counts"), dict)
    ):
        return None
    return data


def _int(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def result_from_summary(folder: Path, data: dict[str, Any]) -> JobResult:
    """A job as its summary.json records it: enough for the run index, not for a report."""
    counts = data.get("counts")
    stamps = data.get("timestamps")
    stamps = stamps if isinstance(stamps, dict) else {}
    claret = JobStatus(
        type=_text(data.get("type")),
        status=_text(data.get("status")) or "unknown",
        started_at=_text(stamps.get("started_at")) or None,
        completed_at=_text(stamps.get("completed_at")) or None,
        job_status_link=_text(data.get("job_status_link")) or None,
    )
    info = JobInfo(tenant=_text(data.get("tenant")), job_log_id=_text(data.get("job_log_id")), claret=claret)
    links = [
        JobLink(rel, _text(k.get("tenant")), _text(k.get("job_log_id")), _text(k.get("file")))
        for k in data.get("links") or []
        if isinstance(k, dict) and (rel := k.get("relation")) in ("resubmitted_as", "resubmission_of")
    ]
    attempt = data.get("last_attempt")
    unsure = data.get("outcome_unknown")
    recorded = data.get("landed_on_resubmission")
    landed = {
        _int(r.get("input_row")): _text(r.get("job_log_id"))
        for r in (recorded if isinstance(recorded, list) else [])
        if isinstance(r, dict)
    }
    return JobResult(
        info=info,
        folder=folder,
        counts=(
            Counts(
                *(
                    _int(counts.get(k))
                    for k in ("input_rows", "imported", "failed", "unaccounted", "anomalies")
                )
            )
            if isinstance(counts, dict)
            else None
        ),
        links=links,
        error=_text(data.get("error")) or None,
        exit_code=_int(data.get("exit_code")),
        analysed_at=_text(data.get("analysed_at")) or None,
        attempt=(
            Attempt(
                _text(attempt.get("at")),
                _text(attempt.get("error")),
                _int(attempt.get("exit_code")),
                _text(attempt.get("shown")) or None,
            )
            if isinstance(attempt, dict)
            else None
        ),
        landed_later=landed,
        unknown_uploads=[
            UnknownUpload(
                _text(u.get("file")),
                _text(u.get("started")),
                rows if isinstance(rows := u.get("rows"), int) and not isinstance(rows, bool) else None,
                _text(u.get("check")),
            )
            for u in (unsure if isinstance(unsure, list) else [])
            if isinstance(u, dict)
        ],
    )


def _keep(folder: Path, good: dict[str, Any], attempt: Attempt) -> JobResult:
    """The last good analysis stays as it is; the failed attempt is written beside it, into its
    summary.json, whose numbers are left alone, and as a banner on its reports."""
    try:
        atomic_write_json(folder / LAST_ATTEMPT, attempt.to_json())
        atomic_write_json(folder / SUMMARY, {**good, "last_attempt": attempt.to_json()})
    except OSError as exc:
        log.warning("job folder %s: cannot record the failed attempt: %s", folder, exc.strerror or exc)
    mark_attempt(folder, attempt)
    kept = result_from_summary(folder, good)
    kept.attempt = attempt
    kept.exit_code = int(worst_exit_code([kept.exit_code, attempt.exit_code]))
    return kept


def analyze_job(
    path: Path,
    settings: Settings,
    *,
    tenant: str | None = None,
    job_id: str | None = None,
    run_at: datetime | None = None,
    use_history: bool = True,
    lock: bool = True,
    attempt: Attempt | None = None,
) -> JobResult:
    """The offline half for one job folder: every output file of the contract, and the result.

    With `lock` the job's output folder is locked meanwhile (a caller holding that lock passes False): a
    second run on the job waits briefly, then gives up with exit 5 and writes nothing. With `attempt`, the
    folder's last good analysis is made again from its files, to be shown with the failed attempt beside
    it; should that fail too, the earlier files are left as they are."""
    run_at = run_at or datetime.now(UTC)
    if not lock or not path.is_dir():
        return _analyze_job(path, settings, tenant, job_id, run_at, use_history, attempt)
    info = JobInfo(tenant=tenant or "local", job_log_id=job_id or safe_component(path.name, fallback="job"))
    # A fetched folder is locked as fetch and run lock it, wherever its results go; a plain one by where
    # its results go.
    folder = path if fetched_folder(path) else output_folder(path, info, settings)
    try:
        held = take_job_lock(folder, info.job_log_id)
    except OSError as exc:
        error = f"cannot write the results in {folder}: {exc.strerror or exc}"
        return failed_result(info, folder, error, int(ExitCode.UNREADABLE), run_at, False, attempt=attempt)
    if held is None:
        busy = job_busy(info.job_log_id, folder)
        return failed_result(info, folder, str(busy), int(busy.exit_code), run_at, write=False)
    with held:
        return _analyze_job(path, settings, tenant, job_id, run_at, use_history, attempt)


def _analyze_job(
    path: Path,
    settings: Settings,
    tenant: str | None,
    job_id: str | None,
    run_at: datetime,
    use_history: bool,
    attempt: Attempt | None,
) -> JobResult:
    """`analyze_job` once the folder is the caller's."""
    keep: dict[str, Any] = {"use_history": use_history, "attempt": attempt}
    try:
        job, findings = load_and_validate(path, settings, tenant=tenant, job_id=job_id)
    except BaseException as exc:
        if not is_bug(exc):
            raise
        info = JobInfo(
            tenant=tenant or "local", job_log_id=job_id or safe_component(path.name, fallback="job")
        )
        folder = output_folder(path, info, settings)
        if isinstance(exc, ClaretErrorsError):
            return failed_result(info, folder, str(exc), int(exc.exit_code), run_at, **keep)
        if isinstance(exc, OSError):
            error = f"cannot read {path}: {exc.strerror or exc}"
            return failed_result(info, folder, error, int(ExitCode.UNREADABLE), run_at, **keep)
        return _bug_result(info, folder, exc, run_at, **keep)
    folder = output_folder(path, job.info, settings)
    # Loading needs neither: the owners file and master data come in with reconcile and fix.
    settings = with_recorded_settings([folder, path], settings)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        rec = reconcile(job, settings)
        _same_input(folder, job, rec.counts)
        messages = rec.messages.select("input_row", "message", "category", "field", "fix", "confidence")
        write_people_csv(folder / MESSAGES, messages)
        fixes = fix(job, rec, settings, folder)
        write_people_csv(folder / FAILED_RECORDS, failed_records(rec, fixes))
        links, ledger_findings = _links(folder, job.info.job_log_id)
        result = JobResult(
            info=job.info,
            folder=folder,
            counts=rec.counts,
            categories=categories_with_fixes(rec, fixes),
            findings=[*findings, *ledger_findings],
            detection=job.detection,
            loaded=job,
            reconciliation=rec,
            fixes=fixes,
            links=links,
            analysed_at=_stamp(run_at),
            settings=shaping_settings(settings),
            landed_later=_landed_later(folder, job.info.job_log_id, settings) if links else {},
            unknown_uploads=_unknown_uploads(folder, job.info, settings),
        )
        result.exit_code = job_exit_code(result)
        if attempt is not None:
            result.attempt, result.analysed_at = attempt, attempt.shown
            result.exit_code = int(worst_exit_code([result.exit_code, attempt.exit_code]))
        _write_outputs(result, History.open(folder.parent) if use_history else None, run_at)
    except ClaretErrorsError as exc:
        return failed_result(job.info, folder, str(exc), int(exc.exit_code), run_at, **keep)
    except OSError as exc:
        error = f"cannot write the results in {folder}: {exc.strerror or exc}"
        return failed_result(
            job.info, folder, error, int(ExitCode.UNREADABLE), run_at, use_history=False, attempt=attempt
        )
    except BaseException as exc:
        if not is_bug(exc):
            raise
        return _bug_result(job.info, folder, exc, run_at, **keep)
    return result


def _bug_result(
    info: JobInfo,
    folder: Path,
    exc: BaseException,
    run_at: datetime,
    use_history: bool = True,
    attempt: Attempt | None = None,
) -> JobResult:
    """A bug must not cost the night's other jobs: this job gets exit 1 and the traceback goes to the log
    (only with --debug)."""
    trace = exc if log.isEnabledFor(logging.DEBUG) else None
    log.error("job %s: internal error (a bug in claret-errors): %r", info.job_log_id, exc, exc_info=trace)
    error = f"internal error (a bug in claret-errors): {type(exc).__name__}: {exc}"
    return failed_result(
        info, folder, error, int(ExitCode.BUG), run_at, use_history=use_history, attempt=attempt
    )


def load_and_validate(
    path: Path, settings: Settings, *, tenant: str | None = None, job_id: str | None = None
) -> tuple[LoadedJob, list[Finding]]:
    """`load_job` then `validate`, as `analyze_job` runs them. The findings are the loader's, then
    validate's, in validate's order."""
    job = load_job(path, settings, tenant=tenant, job_id=job_id)
    return job, [*job.findings, *validate_input(job.loaded_input()), *validate_artifacts(job)]


def failed_result(
    info: JobInfo,
    folder: Path,
    error: str,
    exit_code: int,
    run_at: datetime,
    use_history: bool = True,
    *,
    write: bool = True,
    reanalyse: Callable[[Attempt], JobResult] | None = None,
    attempt: Attempt | None = None,
) -> JobResult:
    """A job that could not be fetched or analysed: its error and code, kept on disk when its folder exists
    (and `write`: never in a folder another run is working in).

    A folder that holds a good analysis keeps it: the failed attempt goes to last_attempt.json beside it,
    and `reanalyse` makes the analysis again from the files on disk so its report says so."""
    good = last_good_summary(folder) if write else None
    if good is not None:
        if attempt is None:
            shown = _text(good.get("analysed_at")) or None
            attempt = Attempt(_stamp(run_at), printable(error), exit_code, shown)
            if reanalyse is not None:
                return reanalyse(attempt)
        return _keep(folder, good, attempt)
    result = JobResult(info=info, folder=folder, error=printable(error), exit_code=exit_code)
    if write and folder.is_dir():
        try:
            _write_outputs(result, History.open(folder.parent) if use_history else None, run_at)
        except (ClaretErrorsError, OSError) as write_error:
            log.warning("job %s: cannot write its error report: %s", info.job_log_id, write_error)
    return result


def night_jobs(results: Sequence[JobResult], tenant_dir: Path, history: History) -> list[JobResult]:
    """Every job of the nights `results` belong to, as on disk: the run's own results, and the other jobs
    of those nights from the history ledger, each read from its summary.json (else its history line).
    A resubmission belongs to its original's night, so the index tells the whole night."""
    mine = {(r.info.tenant, r.info.job_log_id): r for r in results}
    try:
        nights = nights_of(history.entries())
    except ClaretErrorsError as exc:
        log.warning("cannot read the history in %s: %s", tenant_dir, exc)
        return list(results)
    touched = [group for group in nights.values() if any(e.key in mine for e in group)]
    jobs: dict[tuple[str, str], JobResult] = {}
    for entry in (e for group in touched for e in group):
        jobs[entry.key] = mine.get(entry.key) or _from_disk(tenant_dir, entry)
    for key, result in mine.items():  # jobs never recorded (not analysed, no folder) are still listed
        jobs.setdefault(key, result)
    return list(jobs.values())


def _from_disk(tenant_dir: Path, entry: HistoryEntry) -> JobResult:
    """A job of the night not in this run: its summary.json when its folder holds one, else its line."""
    folder = tenant_dir / safe_component(entry.job_log_id, fallback="job")
    try:
        data = json.loads((folder / SUMMARY).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        data = None
    if isinstance(data, dict) and data.get("job_log_id") == entry.job_log_id:
        return result_from_summary(folder, data)
    links = [JobLink("resubmission_of", entry.tenant, entry.resubmission_of)] if entry.resubmission_of else []
    return JobResult(
        info=JobInfo(entry.tenant, entry.job_log_id, JobStatus(status=entry.status)),
        folder=folder,
        counts=entry.counts() if entry.analysed else None,
        links=links,
        exit_code=entry.exit_code,
    )


def _index(results: Sequence[JobResult]) -> list[Path]:
    """One index per tenant folder of the results, telling the whole of each night the run touched."""
    by_dir: dict[Path, list[JobResult]] = {}
    for result in results:
        by_dir.setdefault(result.folder.parent, []).append(result)
    written: list[Path] = []
    for tenant_dir, group in by_dir.items():
        if not tenant_dir.is_dir():
            continue
        history = History.open(tenant_dir)
        try:
            written += write_run_index(night_jobs(group, tenant_dir, history), tenant_dir, history)
        except ClaretErrorsError as exc:
            log.warning("cannot write the run index in %s: %s", tenant_dir, exc)
    return written


def analyze(
    paths: Sequence[Path], settings: Settings, *, tenant: str | None = None, job_id: str | None = None
) -> RunResult:
    """`claret-errors analyze`: each folder analysed offline, then the index."""
    if job_id is not None and len(paths) > 1:
        raise ConfigError("--job-id names one job: give one PATH with it", key="--job-id")
    run_at = datetime.now(UTC)
    results = [analyze_job(Path(p), settings, tenant=tenant, job_id=job_id, run_at=run_at) for p in paths]
    return RunResult(results, _index(results))


def _analysable(outcome: FetchOutcome) -> bool:
    """Every file is down (a failed job's too): an analysis of part of a job would claim false counts."""
    return outcome.exit_code in (ExitCode.OK, ExitCode.JOB_FAILED) and outcome.status is not None


def _from_fetch(outcome: FetchOutcome, settings: Settings, run_at: datetime) -> JobResult:
    """Analyse a fetched job; one whose files could not all be fetched keeps the fetch error and code, and
    the folder's last good analysis, made again from the files on disk, if it has one."""
    from claret_errors.fetch import job_info

    def analyse(attempt: Attempt | None = None) -> JobResult:
        return analyze_job(
            outcome.folder,
            settings,
            tenant=outcome.tenant,
            job_id=outcome.job_log_id,
            run_at=run_at,
            lock=outcome.lock is None,  # else under the lock the fetch took
            attempt=attempt,
        )

    if _analysable(outcome):
        result = analyse()
        result.exit_code = int(worst_exit_code([result.exit_code, outcome.exit_code]))
        return result
    info = (
        job_info(outcome.status, outcome.tenant)
        if outcome.status
        else JobInfo(outcome.tenant, outcome.job_log_id)
    )
    error = outcome.error or "not fetched"
    write = not outcome.locked_out
    return failed_result(
        info, outcome.folder, error, outcome.exit_code, run_at, write=write, reanalyse=analyse
    )


async def run_async(
    job_ids: Sequence[str],
    settings: Settings,
    client: ClaretClient,
    *,
    progress: Progress | None = None,
    write_index: bool = True,
) -> RunResult:
    """Fetch every job at once and analyse each as soon as it is down; results in the order given."""
    # fetch and asyncio load only for a run that fetches: `analyze` needs neither.
    import asyncio

    from claret_errors.fetch import fetch_each, job_ids_from

    run_at = datetime.now(UTC)
    slots = asyncio.Semaphore(ANALYSES_AT_ONCE)
    progress = progress or Progress()

    async def analysed(outcome: FetchOutcome) -> JobResult:
        try:
            if not _analysable(outcome):  # fetch has already said why
                return await asyncio.to_thread(_from_fetch, outcome, settings, run_at)
            async with slots:
                progress.status(outcome.job_log_id, "analysing", 0, 0)
                result = await asyncio.to_thread(_from_fetch, outcome, settings, run_at)
        finally:
            outcome.release()  # the job folder's lock, held since its fetch began
        progress.status(outcome.job_log_id, result.info.status, 0, 0)
        progress.finished(outcome.job_log_id, result.exit_code, short_outcome(result))
        return result

    # Keyed by the job id asked for, never by what a status document or folder says of itself.
    tasks: dict[str, asyncio.Task[JobResult]] = {}
    async for outcome in fetch_each(job_ids, settings, client, progress=progress):
        tasks[outcome.job_log_id] = asyncio.create_task(analysed(outcome))
    await asyncio.gather(*tasks.values())
    ordered = [tasks[k].result() for k in job_ids_from(job_ids) if k in tasks]
    return RunResult(ordered, _index(ordered) if write_index else [])


def run(job_ids: Sequence[str], settings: Settings, *, progress: Progress | None = None) -> RunResult:
    """`claret-errors run`: fetch, analyse, fix and report every job, with its own client and event loop."""

    async def main() -> RunResult:
        from claret_errors.claret.client import ClaretClient  # httpx loads only for a run that fetches

        async with ClaretClient(settings) as client:
            return await run_async(job_ids, settings, client, progress=progress)

    import asyncio

    return asyncio.run(main())


@dataclass
class ResubmitResult:
    """What was planned, what was sent, how the new jobs ended, and the originals analysed again."""

    planned: list[Planned]
    uploaded: list[Uploaded] = field(default_factory=list)
    new_jobs: RunResult | None = None
    originals: list[JobResult] = field(default_factory=list)
    index_files: list[Path] = field(default_factory=list)
    unknown: list[Unsure] = field(default_factory=list)  # sent in this run, answer lost
    skipped: dict[Path, Sent] = field(default_factory=dict)  # not sent: the earlier upload, under the lock
    base_url: str = ""
    worksheets: list[WorksheetCheck] = field(default_factory=list)  # edited worksheets given, as read
    rows_sent: dict[Path, dict[int, str]] = field(default_factory=dict)  # not sent: rows another file sent

    def before(self, planned: Planned) -> Sent | None:
        """The earlier upload of a file: as the ledger said under its lock when sending, else at the plan."""
        return self.skipped.get(planned.file, planned.sent_before)

    def held_back(self) -> list[tuple[Planned, Sent]]:
        """Files not sent because an earlier upload of theirs has an unknown outcome (no --force)."""
        return [
            (p, e)
            for p, e in ((p, self.skipped.get(p.file)) for p in self.planned)
            if e and e.outcome_unknown
        ]

    def check_advice(self, planned: Planned, started: str) -> str:
        """How to find out in Claret whether an upload whose answer was lost became a job."""
        return check_in_claret(self.base_url, planned.tenant, planned.file, started)

    @property
    def exit_code(self) -> int:
        """How the resubmitted jobs ended (the originals' failures are what was being fixed); 7 when an
        upload's outcome is unknown, in this run or an earlier one, until --force or a check settles it."""
        codes = [self.new_jobs.exit_code if self.new_jobs else int(ExitCode.OK)]
        if any(w.problems for w in self.worksheets) or self.rows_sent:  # rows a person edited, not sent
            codes.append(int(ExitCode.RECORDS_FAILED))
        if self.unknown or self.held_back():
            codes.append(int(ExitCode.UNAVAILABLE))
        return int(worst_exit_code(codes))

    def summary(self) -> dict[str, Any]:
        sent = {u.planned.file: u.new_job for u in self.uploaded}
        unknown = [
            {
                "file": str(u.planned.file),
                "started": u.started,
                "error": u.error,
                "check": self.check_advice(u.planned, u.started),
            }
            for u in self.unknown
        ] + [
            {
                "file": str(p.file),
                "started": e.sent_at,
                "error": "an earlier upload's outcome is unknown; not sent again without --force",
                "check": self.check_advice(p, e.sent_at),
            }
            for p, e in self.held_back()
        ]
        return {
            "schema_version": 1,
            "confirmed": self.new_jobs is not None,
            "files": [
                {
                    **p.to_json(),
                    "sent_as": sent.get(p.file),
                    "rows_sent_before": {str(n): j for n, j in self.rows_sent.get(p.file, {}).items()},
                }
                for p in self.planned
            ],
            "worksheets": [w.to_json() for w in self.worksheets],
            "outcome_unknown": unknown,
            "jobs": self.new_jobs.summary()["jobs"] if self.new_jobs else [],
            "originals": [job_json(r) for r in self.originals],
            "index": [str(p) for p in self.index_files],
            "exit_code": self.exit_code,
        }


def _upload_settings(planned: Sequence[Planned], settings: Settings) -> Settings:
    """The tenant to send to (the jobs' own, or --tenant for a folder analysed as `local`), and an output
    folder that puts the new jobs beside the originals, so both read the same ledger."""
    tenant = settings.tenant or planned[0].tenant
    tenant_dir = planned[0].job_folder.parent
    out = tenant_dir.parent if tenant_dir.name == safe_component(tenant, fallback="tenant") else settings.out
    return replace(settings, tenant=tenant, out=out)


async def resubmit_async(
    planned: Sequence[Planned],
    settings: Settings,
    client: ClaretClient,
    *,
    force: bool = False,
    progress: Progress | None = None,
    sent_as: str | None = None,
) -> ResubmitResult:
    """Send the planned files, follow the new jobs to the end, then analyse the originals again (links).
    With `sent_as`, the one planned file is recorded as that job instead of sent (its outcome was unknown)."""
    import asyncio

    if sent_as is not None:
        sending = await record_sent_as(planned[0], sent_as)
    else:
        sending = await send(planned, settings, client, force=force)
    uploaded = sending.uploaded
    new_jobs = await run_async(
        [u.new_job for u in uploaded], settings, client, progress=progress, write_index=False
    )
    run_at = datetime.now(UTC)
    # an upload whose outcome is unknown is analysed again too: its original's reports say so at once
    sent = [u.planned for u in uploaded] + [u.planned for u in sending.unknown]
    folders = _and_their_originals([(p.job_folder, p.original_job) for p in sent])
    originals = [await asyncio.to_thread(analyze_job, folder, settings, run_at=run_at) for folder in folders]
    index = _index([*originals, *new_jobs.results])
    return ResubmitResult(
        list(planned),
        uploaded,
        new_jobs,
        originals,
        index,
        sending.unknown,
        sending.skipped,
        settings.base_url,
        rows_sent=sending.rows_sent,
    )


def _and_their_originals(jobs: Sequence[tuple[Path, str]]) -> list[Path]:
    """The folders of the jobs whose files were sent, and of the jobs those resubmitted in turn: a row
    landing now may be a row of any of them, whose to-do lists are made again."""
    pending = list(dict.fromkeys(jobs))
    for folder, job in pending:  # grows while it is walked: each original's original, once
        for link in _links(folder, job)[0]:
            earlier = (folder.parent / safe_component(link.job_log_id, fallback="job"), link.job_log_id)
            if link.relation == "resubmission_of" and earlier not in pending and earlier[0].is_dir():
                pending.append(earlier)
    return [folder for folder, _ in pending]


def resubmit(
    paths: Sequence[Path],
    settings: Settings,
    *,
    confirm: bool = False,
    force: bool = False,
    progress: Progress | None = None,
    sent_as: str | None = None,
) -> ResubmitResult:
    """`claret-errors resubmit`: the plan alone, or with `confirm` the whole second round; with `sent_as`,
    one file whose upload's outcome was unknown recorded as that job, then followed like a sent one.
    An edited worksheet among the paths stands for the files of its changed rows that pass the checks."""
    sheets = check_worksheets([Path(p) for p in paths if is_worksheet(Path(p))], settings, force=force)
    rest = [Path(p) for p in paths if not is_worksheet(Path(p))]
    files = [f for sheet in sheets for f in sheet.files]
    planned = plan([*rest, *files], settings) if rest or files else []
    if sent_as is not None:
        from claret_errors.fetch import job_ids_from

        [sent_as] = job_ids_from([sent_as])
        if len(planned) != 1:
            raise UsageError("--sent-as records one file: give the one corrected file that became that job")
    elif not confirm or not planned:
        return ResubmitResult(planned, worksheets=sheets)
    settings = _upload_settings(planned, settings)

    async def main() -> ResubmitResult:
        from claret_errors.claret.client import ClaretClient  # httpx loads only for a run that fetches

        async with ClaretClient(settings) as client:
            return await resubmit_async(
                planned, settings, client, force=force, progress=progress, sent_as=sent_as
            )

    import asyncio

    result = asyncio.run(main())
    result.worksheets = sheets
    return result


def job_line(result: JobResult) -> str:
    """One plain line about a job, for terminals and logs."""
    return f"job {result.info.job_log_id} ({result.info.tenant}): {job_outcome(result)}"


def short_outcome(result: JobResult) -> str:
    """The few words a progress display has room for."""
    c = result.counts
    if result.error or c is None:
        return f"[exit {result.exit_code}] {result.error or 'not analysed'}"
    if result.attempt:
        return f"[exit {result.exit_code}] {result.attempt.error}; the last good analysis is kept"
    lost = f", {c.failed + c.unaccounted} did not land" if c.failed or c.unaccounted else ""
    orphans = records_without_input(result)
    lost += f", {orphans} records match no input row" if orphans else ""
    return f"analysed: {c.input_rows} rows{lost or ', all landed'} [exit {result.exit_code}]"


def job_outcome(result: JobResult) -> str:
    """What became of a job, in a few words: status, counts, exit code and where its report is."""
    if result.error:
        error = result.error.removeprefix(f"job {result.info.job_log_id}: ")
        state = "not fetched" if result.info.status == "unknown" else result.info.status
        return f"{state} [exit {result.exit_code}] {error}"
    c = result.counts
    counts = f"{c.input_rows} rows, {c.imported} imported, {c.failed} failed records" if c else "not analysed"
    if c and c.unaccounted:
        counts += f", {c.unaccounted} unaccounted row{'' if c.unaccounted == 1 else 's'}"
    orphans = records_without_input(result)
    if orphans:
        counts += f", {orphans} records in output or errors match no input row"
    fixes = result.fixes
    fixed = f", {fixes.auto_fixed_rows} auto-fixed" if fixes and fixes.auto_fixed_rows else ""
    kept = f"; {attempt_note(result.attempt, limit=2000)}" if result.attempt else ""
    report = result.folder / "report.html"
    return f"{result.info.status}, {counts}{fixed}{kept} [exit {result.exit_code}] {report}"
