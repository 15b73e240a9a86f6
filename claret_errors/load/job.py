"""`load_job`: a job folder (as fetch writes it) or a plain folder of CSVs into text frames with canonical
columns, every staging, output and errors row tied back to its input row. Odd files give findings, an
unusable input raises ArtifactError; it never prints and never judges values (that is schemas.py).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import polars as pl

from claret_errors.claret.models import parse_status
from claret_errors.config import MIB, Settings
from claret_errors.errors import ArtifactError
from claret_errors.fields import INVENTORY_FIELDS, alias_table, normalize_header
from claret_errors.files.manifest import MANIFEST, entry_problem, manifest_entries
from claret_errors.load.csvread import LINE, TextTable, read_text_csv
from claret_errors.load.detect import (
    INPUT_ROW,
    RowLink,
    detect_messages,
    link_rows,
    messages_column,
    prefix_rows,
)
from claret_errors.results import (
    ARTIFACT_KINDS,
    ArtifactKind,
    Detection,
    Finding,
    JobInfo,
    LoadedJob,
    Severity,
)

SOURCE_FILE = "_source_file"
RESERVED = frozenset({INPUT_ROW, SOURCE_FILE, LINE, "messages"})
_MISSING_SEVERITY: dict[str, Severity] = {"staging": "warning", "output": "warning", "errors": "info"}
INVENTORY_MIN_FIELDS = 4  # this many inventory fields among the input headers make it an inventory file
_KINDS: dict[str, ArtifactKind] = {kind: kind for kind in ARTIFACT_KINDS}
# Plain-folder names, most specific first: "input_errors.csv" is an errors file.
_NAME_KINDS: tuple[tuple[str, ArtifactKind], ...] = (
    ("error", "errors"),
    ("staging", "staging"),
    ("final", "output"),
    ("output", "output"),
    ("untouched", "input"),
    ("input", "input"),
)
# Errors first: they are small, and the output's link needs them.
_LINK_ORDER: tuple[ArtifactKind, ...] = ("errors", "output", "staging")


def load_job(
    path: Path,
    settings: Settings,
    *,
    tenant: str | None = None,
    job_id: str | None = None,
) -> LoadedJob:
    """Every artifact of the job at `path` as text frames tied to input rows, with what was assumed."""
    if not path.is_dir():
        raise ArtifactError("not a folder", file=str(path))
    findings: list[Finding] = []
    files = _find_files(path, findings)
    _check_sizes(path, files, settings.limits.file_bytes)
    _check_manifest(path, files)
    info = _job_info(path, tenant, job_id, findings)
    if not files["input"]:
        raise ArtifactError(
            "no input file (expected artifacts/input/*.csv or a file named *input*)", file=str(path)
        )
    reader = _TablesOnDemand(path, files)
    input_tables = reader.tables("input")
    input_headers = next((t.headers for _p, t in input_tables if t.headers), ())
    if not input_headers:
        raise ArtifactError(
            "the input file is empty: no header row", file=_label(path, files["input"][0]), line=1
        )
    aliases = alias_table(settings.aliases)
    mapped = [aliases.get(normalize_header(h), normalize_header(h)) for h in input_headers]
    inventory = len(set(mapped) & set(INVENTORY_FIELDS)) >= INVENTORY_MIN_FIELDS
    mapping: Mapping[str, str] = aliases if inventory else {}
    merged: dict[ArtifactKind, list[Finding]] = {kind: [] for kind in ARTIFACT_KINDS}
    source = _concat(path, input_tables, mapping, merged["input"])
    source = source.with_columns(_input_rows(input_tables).alias(INPUT_ROW))
    input_columns = tuple(c for c in source.columns if c not in RESERVED)
    source = source.select(INPUT_ROW, *input_columns, SOURCE_FILE, LINE)
    headers = tuple(h.replace("\ufeff", "") for h in input_headers)

    def frame(kind: ArtifactKind) -> pl.DataFrame:
        return _concat(path, reader.tables(kind), mapping, merged[kind])

    detection, linked = _link(frame, source, input_columns, settings, reader.encodings)
    tables = {kind: reader.tables(kind) for kind in ARTIFACT_KINDS}
    offset = 0
    for kind in ARTIFACT_KINDS:  # each file's own findings in file order, then the header mismatches
        for _p, table in tables[kind]:
            findings.extend(_file_finding(f, kind, offset) for f in table.findings)
            offset += table.frame.height if kind == "input" else 0
    findings.extend(f for kind in ARTIFACT_KINDS for f in merged[kind])
    for kind in ("staging", "output", "errors"):
        if not files[kind]:
            message = f"no {kind} file; treated as empty"
            findings.append(Finding(kind, "missing_file", message, severity=_MISSING_SEVERITY[kind]))
    return LoadedJob(
        path=path,
        info=info,
        profile="inventory" if inventory else "generic",
        input=source,
        staging=linked["staging"],
        output=linked["output"],
        errors=linked["errors"],
        input_columns=input_columns,
        input_headers=headers,
        files={kind: list(files[kind]) for kind in ARTIFACT_KINDS},
        detection=detection,
        findings=findings,
    )


class _TablesOnDemand:
    """A job's files, each kind read when it is first asked for: an unusable input stops the load before
    the other files are read."""

    def __init__(self, root: Path, files: Mapping[ArtifactKind, Sequence[Path]]) -> None:
        self._root = root
        self._files = files
        self._read: dict[ArtifactKind, list[tuple[Path, TextTable]]] = {}

    def tables(self, kind: ArtifactKind) -> list[tuple[Path, TextTable]]:
        """The kind's files as read, in order; raises what reading one raised."""
        if kind not in self._read:
            self._read[kind] = [(p, read_text_csv(p, _label(self._root, p))) for p in self._files[kind]]
        return self._read[kind]

    def encodings(self) -> dict[str, str]:
        """File label -> encoding, every file of every kind."""
        return {_label(self._root, p): t.encoding for kind in ARTIFACT_KINDS for p, t in self.tables(kind)}


def _input_rows(tables: Sequence[tuple[Path, TextTable]]) -> pl.Expr | pl.Series:
    """1, 2, 3... over the input files in order: the readers' own numbers where they hold (cut in the
    values' chunks), else a plain range."""
    read = [t for _p, t in tables if t.headers]
    numbered = [t.records for t in read if t.records is not None]
    if not numbered or len(numbered) < len(read):
        return pl.int_range(1, pl.len() + 1, dtype=pl.Int64)
    parts, offset = [], 0
    for records in numbered:
        parts.append(records + offset)
        offset += records.len()
    return pl.concat(parts, rechunk=False)


def _file_finding(finding: Finding, kind: str, offset: int) -> Finding:
    """A file's row number as the input_row it is (input files, in order), or none for other kinds."""
    if finding.row is None:
        return finding
    return replace(finding, row=finding.row + offset if kind == "input" else None)


def _label(root: Path, path: Path) -> str:
    """The file as findings and errors name it: relative to the job folder, never a full local path."""
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.name


def _find_files(root: Path, findings: list[Finding]) -> dict[ArtifactKind, list[Path]]:
    """`artifacts/<kind>/*.csv` of a job folder, else the CSVs of a plain folder classified by name."""
    found: dict[ArtifactKind, list[Path]] = {kind: [] for kind in ARTIFACT_KINDS}
    artifacts = root / "artifacts"
    if artifacts.is_dir():
        for entry in sorted(artifacts.rglob("*")):
            if _skipped(root, entry, findings):
                continue
            kind = _KINDS.get(entry.parent.name) if entry.parent.parent == artifacts else None
            if kind is not None and entry.suffix.lower() in (".csv", ".txt"):
                found[kind].append(entry)
            else:
                label = _label(root, entry)
                findings.append(
                    Finding(label, "unrecognised_file", "not an artifact CSV; ignored", severity="info")
                )
        order = _manifest_order(root)
        for kind in ARTIFACT_KINDS:
            found[kind].sort(key=lambda p: (order.get(_label(root, p), len(order)), p.name))
        return found
    for entry in sorted(root.iterdir()):
        if _skipped(root, entry, findings) or entry.suffix.lower() != ".csv":
            continue
        name = entry.name.lower()
        kind = next((k for word, k in _NAME_KINDS if word in name), None)
        if kind is None:
            message = "name says neither input, staging, output nor errors; ignored"
            findings.append(Finding(entry.name, "unrecognised_file", message, severity="warning"))
        else:
            found[kind].append(entry)
    return found


def _check_sizes(root: Path, files: Mapping[ArtifactKind, list[Path]], limit: int) -> None:
    """Refuse a file above the size limit before reading any: analysing one takes about 11 times its size
    in memory (bench/bench_memory.py)."""
    for path in (p for paths in files.values() for p in paths):
        try:
            size = path.stat().st_size
        except OSError as exc:
            raise ArtifactError(f"cannot read file: {exc.strerror}", file=_label(root, path)) from exc
        if size > limit:
            raise ArtifactError(
                f"{size / MIB:,.1f} MiB, above the {limit / MIB:,.1f} MiB limit for one file "
                "(limits.file_mb in the config file); refused unread",
                file=_label(root, path),
            )


def _check_manifest(root: Path, files: Mapping[ArtifactKind, Sequence[Path]]) -> None:
    """Refuse a fetched folder whose artifacts are not the ones fetched: a job's files never change, so a
    file cut short, grown, replaced or added, or a manifest that no longer says which they were, would turn
    into false counts, where it must keep the good analysis. A folder without a manifest of fetch's (made
    by hand) is checked by its row count instead (pipeline)."""
    try:
        data: Any = json.loads((root / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return
    except (OSError, ValueError) as exc:
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else "not JSON"
        raise ArtifactError(
            f"damaged ({why}): the job's files cannot be checked against it; fetch the job again, which "
            "writes the manifest and the files anew",
            file=MANIFEST,
        ) from exc
    entries = manifest_entries(data)
    for entry in entries:
        problem = entry_problem(root, entry)
        if problem is not None:
            raise ArtifactError(
                f"{problem}: damaged or replaced since it was fetched; fetch the job again to restore it",
                file=entry.path,
            )
    listed = {entry.path for entry in entries}
    for path in (p for paths in files.values() for p in paths):
        if entries and _label(root, path) not in listed:
            raise ArtifactError(
                "not among the files fetched for this job (manifest.json does not list it): if it was put "
                "there, move it out of the job folder; if a fetch was cut off, fetch the job again",
                file=_label(root, path),
            )


def _skipped(root: Path, entry: Path, findings: list[Finding]) -> bool:
    """Folders are walked, not read; a symbolic link could point anywhere, so it is never followed."""
    if entry.is_symlink():
        message = "symbolic link; not followed"
        findings.append(Finding(_label(root, entry), "symlink", message, severity="warning"))
        return True
    return not entry.is_file()


def _manifest_order(root: Path) -> dict[str, int]:
    """Path -> position in manifest.json, which fetch writes in Claret's order; empty if unreadable."""
    try:
        data: Any = json.loads((root / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    entries = data.get("files") if isinstance(data, dict) else data
    if not isinstance(entries, list):
        return {}
    paths = [e.get("path") for e in entries if isinstance(e, dict)]
    return {p: i for i, p in reversed(list(enumerate(paths))) if isinstance(p, str)}


def _job_info(root: Path, tenant: str | None, job_id: str | None, findings: list[Finding]) -> JobInfo:
    """From status.json when present (tenant from OUT/<tenant>/<job_id>), else the arguments. The file may
    be hand-made, so it is read leniently: what it lacks is left unknown, not refused."""
    status = root / "status.json"
    if status.is_file():
        try:
            data: Any = json.loads(status.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            findings.append(Finding("status.json", "unreadable", f"ignored: {exc}", severity="warning"))
        else:
            if not isinstance(data, dict):  # no job's facts at all: named as a plain folder would be
                return JobInfo(tenant=tenant or "local", job_log_id=job_id or root.name)
            claret = parse_status(data, lenient=True)
            own_id = None if claret.job_log_id is None else str(claret.job_log_id)
            return JobInfo(
                tenant=root.resolve().parent.name or tenant or "local",
                job_log_id=own_id or job_id or root.name,
                claret=claret,
            )
    return JobInfo(tenant=tenant or "local", job_log_id=job_id or root.name)


def _canonical_names(headers: Sequence[str], aliases: Mapping[str, str]) -> list[str]:
    """Header -> canonical field; blank headers become `column_N`, repeats get `_2`, `_3`..."""
    names: list[str] = []
    taken = set(RESERVED)
    for i, header in enumerate(headers, start=1):
        norm = normalize_header(header)
        base = aliases.get(norm, norm) or f"column_{i}"
        name, n = base, 1
        while name in taken:
            n += 1
            name = f"{base}_{n}"
        taken.add(name)
        names.append(name)
    return names


def _concat(
    root: Path, tables: list[tuple[Path, TextTable]], aliases: Mapping[str, str], findings: list[Finding]
) -> pl.DataFrame:
    """One frame for a category: its files in order, each row keeping `_source_file` and `_source_line`."""
    parts: list[pl.DataFrame] = []
    first: list[str] | None = None
    for path, table in tables:
        if not table.headers:
            continue
        names = _canonical_names(table.headers, aliases)
        label = _label(root, path)
        if first is None:
            first = names
        elif names != first:
            message = f"columns differ from the first file of this kind ({', '.join(names)})"
            findings.append(Finding(label, "header_mismatch", message, severity="warning"))
        renamed = table.frame.rename(dict(zip(table.frame.columns[: len(names)], names, strict=True)))
        parts.append(renamed.with_columns(pl.lit(label, dtype=pl.String).alias(SOURCE_FILE)))
    if not parts:
        return pl.DataFrame(schema={SOURCE_FILE: pl.String, LINE: pl.Int64})
    frame = pl.concat(parts, how="diagonal") if len(parts) > 1 else parts[0]
    own = [c for c in frame.columns if c not in (SOURCE_FILE, LINE)]
    return frame.select(*own, SOURCE_FILE, LINE)


def _link(
    frames: Callable[[ArtifactKind], pl.DataFrame],
    source: pl.DataFrame,
    fields: Sequence[str],
    settings: Settings,
    encodings: Callable[[], dict[str, str]],
) -> tuple[Detection, dict[str, pl.DataFrame]]:
    """Tie staging, output and errors rows to input rows and split the errors' messages; each kind's frame
    is asked for only when its turn comes (`_LINK_ORDER`), so the next can be read meanwhile.

    Errors go first: the input rows they do not name are the likely rows of an output file without a row
    column, which then needs no join when the guess holds (see `detect.link_rows`).
    """
    links: dict[str, RowLink] = {}
    linked: dict[str, pl.DataFrame] = {}
    errors = frames("errors")
    layout = detect_messages(errors, [*fields, SOURCE_FILE, LINE], settings.detect)
    for kind in _LINK_ORDER:
        frame = errors if kind == "errors" else frames(kind)
        prefix = prefix_rows(frame, layout) if kind == "errors" else None
        if frame.height == 0:
            # No rows (or no file): still the input's columns, so later stages can select them.
            present = set(frame.columns)  # once: frame.columns builds a new list on every call
            missing = [pl.lit(None, dtype=pl.String).alias(f) for f in fields if f not in present]
            out = _with_row(frame.with_columns(missing), pl.Series(INPUT_ROW, [], dtype=pl.Int64))
            if kind == "errors":
                out = out.with_columns(pl.Series("messages", [], dtype=pl.List(pl.String)))
            linked[kind] = out
            continue
        likely = None
        if kind == "output":
            rows = source.get_column(INPUT_ROW)
            likely = rows.filter(~rows.is_in(linked["errors"].get_column(INPUT_ROW).drop_nulls().implode()))
        link = link_rows(kind, frame, source, fields, settings.detect, prefix, likely)
        links[kind] = link
        out = _with_row(frame, link.input_row)
        if kind == "errors":
            out = out.with_columns(messages_column(frame, layout))
        linked[kind] = out
    order: list[str] = [k for k in ("staging", "output", "errors") if k in links]  # as the report lists them
    row_column = {kind: links[kind].column for kind in order}
    row_base = {kind: links[kind].base for kind in order}
    join = {kind: links[kind].join for kind in order}
    notes = [note for kind in order for note in links[kind].notes]
    description = layout.describe()
    wanted = settings.detect.message_columns
    if errors.height and wanted and len(layout.columns) < len(wanted):
        notes.append(f"errors: configured message columns not all found ({', '.join(wanted)})")
    err = linked["errors"]
    if err.height and err.get_column(INPUT_ROW).drop_nulls().is_duplicated().any():
        description += "; one row per message (the same input row repeated)"
    detection = Detection(
        encodings=encodings(),
        row_column=row_column,
        row_base=row_base,
        join=join,
        message_columns=layout.columns,
        message_layout=description,
        notes=tuple(notes),
    )
    return detection, linked


def _with_row(frame: pl.DataFrame, rows: pl.Series) -> pl.DataFrame:
    """`input_row` first, then the file's own columns, then the source columns."""
    own = [c for c in frame.columns if c not in (SOURCE_FILE, LINE)]
    if SOURCE_FILE not in frame.columns:
        frame = frame.with_columns(pl.lit(None, dtype=pl.String).alias(SOURCE_FILE))
    if LINE not in frame.columns:
        frame = frame.with_columns(pl.lit(None, dtype=pl.Int64).alias(LINE))
    if frame.columns[-2:] != [SOURCE_FILE, LINE]:
        frame = frame.select(*own, SOURCE_FILE, LINE)
    out = frame.clone()
    out.insert_column(0, rows.alias(INPUT_ROW).cast(pl.Int64))
    return out
