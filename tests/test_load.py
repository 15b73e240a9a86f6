"""load_job on real folders: job folders as fetch writes them, plain folders, and unusable inputs."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import polars as pl
import pytest

from claret_errors.config import DetectOverrides, Settings
from claret_errors.errors import ArtifactError, ExitCode
from claret_errors.load.job import load_job

ROOT = Path(__file__).resolve().parent.parent
JOBS = ROOT / "fixtures" / "jobs"
sys.path.insert(0, str(ROOT / "bench"))

from make_job import make_job  # noqa: E402


def _plain(tmp_path: Path, name: str) -> Path:
    target = tmp_path / name
    shutil.copytree(JOBS / name, target)
    return target


def test_plain_folder_maps_aliases_and_links_every_kind(tmp_path: Path) -> None:
    """Headers like `Qty` and `Date Filled` must land on canonical fields, in the input's order."""
    job = load_job(_plain(tmp_path, "plain_semicolon_errors"), Settings())
    assert job.profile == "inventory"
    assert job.input_columns == ("item_name", "bin_name", "lot_name", "date_filled", "quantity", "uom")
    assert job.input_headers[:2] == ("Item", "Bin")
    assert job.input.get_column("input_row").to_list() == [1, 2, 3, 4]
    assert job.input.get_column("_source_line").to_list() == [2, 3, 4, 5]
    assert job.input.schema["input_row"] == pl.Int64
    assert job.output.get_column("input_row").to_list() == [1, 4]
    assert job.staging.get_column("input_row").to_list() == [1, 2, 3, 4]


def test_plain_folder_errors_split_messages_and_strip_prefix(tmp_path: Path) -> None:
    """Reconcile counts messages: a '; '-joined cell must become separate messages without the row prefix."""
    job = load_job(_plain(tmp_path, "plain_semicolon_errors"), Settings())
    errors = job.errors
    assert errors.get_column("input_row").to_list() == [2, 3]
    assert errors.get_column("messages").to_list() == [
        ["The quantity field must be greater than 0."],
        ["The selected bin name is invalid.", "The date filled field must match the format Y-m-d."],
    ]
    assert job.detection.row_base["errors"] == "2"
    assert job.detection.row_column["errors"] == "row_number"
    assert job.detection.message_columns == ("error",)


def test_plain_folder_takes_tenant_and_job_from_arguments(tmp_path: Path) -> None:
    """A plain folder has no status.json: the flags name the job, else `local` and the folder's name."""
    folder = _plain(tmp_path, "plain_semicolon_errors")
    assert load_job(folder, Settings()).info.tenant == "local"
    assert load_job(folder, Settings()).info.job_log_id == "plain_semicolon_errors"
    info = load_job(folder, Settings(), tenant="acme", job_id="77").info
    assert (info.tenant, info.job_log_id) == ("acme", "77")


def test_job_folder_reads_status_json_and_parent_tenant(tmp_path: Path) -> None:
    """A fetched job folder OUT/<tenant>/<job_id> carries its own facts in status.json."""
    folder = make_job(tmp_path / "acme" / "1", 200)
    job = load_job(folder, Settings())
    assert job.info.tenant == "acme"
    assert job.info.job_log_id == "1"
    assert job.info.status == "completed"
    assert job.info.started_at == "2026-01-01T00:00:00Z"
    assert job.input.height == 200
    assert job.errors.get_column("input_row").null_count() == 0
    assert job.output.height + job.errors.height == 200


def test_missing_input_file_exits_eight(tmp_path: Path) -> None:
    """Without an input there is nothing to account for: exit 8, naming the folder."""
    (tmp_path / "inventory_errors.csv").write_text("row,error\n1,x\n", encoding="utf-8")
    with pytest.raises(ArtifactError) as caught:
        load_job(tmp_path, Settings())
    assert caught.value.exit_code == ExitCode.UNREADABLE
    assert "no input file" in str(caught.value)


def test_empty_input_file_exits_eight_naming_the_file(tmp_path: Path) -> None:
    """An input with no header row cannot be analysed; the message must name the file and line."""
    (tmp_path / "input.csv").write_bytes(b"")
    with pytest.raises(ArtifactError) as caught:
        load_job(tmp_path, Settings())
    assert str(caught.value).startswith("input.csv, line 1:")


def test_missing_errors_file_is_an_empty_frame_with_messages(tmp_path: Path) -> None:
    """A job with no failures has no errors file: still an errors frame with the contract's columns."""
    (tmp_path / "input.csv").write_text(
        "item_name,bin_name,lot_name,date_filled,quantity,uom\n", encoding="utf-8"
    )
    job = load_job(tmp_path, Settings())
    assert job.errors.height == 0
    assert job.errors.schema["messages"] == pl.List(pl.String)
    assert job.errors.schema["input_row"] == pl.Int64
    assert any(f.check == "missing_file" and f.file == "errors" for f in job.findings)


def test_unrecognised_file_in_plain_folder_is_a_finding(tmp_path: Path) -> None:
    """A stray CSV must not be silently taken for an artifact, nor silently dropped."""
    folder = _plain(tmp_path, "plain_semicolon_errors")
    (folder / "notes.csv").write_text("a\n1\n", encoding="utf-8")
    job = load_job(folder, Settings())
    assert [f.file for f in job.findings if f.check == "unrecognised_file"] == ["notes.csv"]


def test_override_row_base_wins_over_detection(tmp_path: Path) -> None:
    """When the user knows the base, their word wins over what the data suggests."""
    settings = Settings(detect=DetectOverrides(row_column="row_number", row_base=1))
    job = load_job(_plain(tmp_path, "plain_semicolon_errors"), settings)
    assert job.detection.row_base["errors"] == "1"
    assert job.errors.get_column("input_row").to_list() == [3, 4]


def test_status_json_with_the_whole_answer_is_read(tmp_path: Path) -> None:
    """status.json may hold Claret's whole answer or just its `content`; both give the same JobInfo."""
    folder = make_job(tmp_path / "t" / "5", 20)
    content = json.loads((folder / "status.json").read_text(encoding="utf-8"))
    (folder / "status.json").write_text(json.dumps({"message": "ok", "content": content}), encoding="utf-8")
    assert load_job(folder, Settings()).info.type == "inventory-import"


def test_hand_made_status_json_is_read_as_fetch_reads_a_status(tmp_path: Path) -> None:
    """A hand-made status.json goes through the same parser as Claret's answer: `Completed` is `completed`,
    and a mistyped field is left unknown instead of stopping the analysis."""
    folder = make_job(tmp_path / "acme" / "5", 20)
    hand_made = {"job_log_id": "5", "status": " Completed ", "type": 12, "timestamps": "yesterday"}
    (folder / "status.json").write_text(json.dumps(hand_made), encoding="utf-8")
    info = load_job(folder, Settings()).info
    assert (info.job_log_id, info.status, info.type, info.started_at) == ("5", "completed", "12", None)


def test_files_of_a_kind_are_concatenated_in_manifest_order(tmp_path: Path) -> None:
    """Claret lists a category's files in order; input_row must follow that order, not the names'."""
    folder = tmp_path / "acme" / "9"
    header = "item_name,bin_name,lot_name,date_filled,quantity,uom\n"
    for name, item in (("a_second.csv", "B"), ("z_first.csv", "A")):
        target = folder / "artifacts" / "input" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(header + f"{item},SS-01,L1,2023-08-01,1,Each\n", encoding="utf-8")
    entries = [{"path": "artifacts/input/z_first.csv"}, {"path": "artifacts/input/a_second.csv"}]
    (folder / "manifest.json").write_text(json.dumps({"files": entries}), encoding="utf-8")
    job = load_job(folder, Settings())
    assert job.input.select("input_row", "item_name", "_source_file").rows() == [
        (1, "A", "artifacts/input/z_first.csv"),
        (2, "B", "artifacts/input/a_second.csv"),
    ]


def test_missing_output_still_has_the_input_columns(tmp_path: Path) -> None:
    """Later stages select input columns from every frame; a missing file must not break them."""
    job = load_job(JOBS / "plain_prefix_only", Settings())
    assert job.output.columns == ["input_row", *job.input_columns, "_source_file", "_source_line"]
    assert job.output.height == 0


def test_symlinked_artifact_is_not_followed(tmp_path: Path) -> None:
    """A link inside a job folder could point at any file on the machine: never read it, say so."""
    folder = _plain(tmp_path, "plain_semicolon_errors")
    secret = tmp_path / "elsewhere.csv"
    secret.write_text("item_name\nsecret\n", encoding="utf-8")
    (folder / "extra_input.csv").symlink_to(secret)
    job = load_job(folder, Settings())
    assert [f.file for f in job.findings if f.check == "symlink"] == ["extra_input.csv"]
    assert "secret" not in job.input.get_column("item_name").to_list()


def test_output_of_a_repeated_record_links_to_the_copy_that_did_not_fail(tmp_path: Path) -> None:
    """The input sends one record twice; the first copy failed, the second landed. The output row is the
    second copy (the input rows no error names, in order), not the first by order of occurrence."""
    header = "item_name,bin_name,lot_name,date_filled,quantity,uom\n"
    a, b = "A-1,SS-1,L1,2023-01-01,5,Each\n", "B-1,SS-1,L2,2023-01-01,6,Each\n"
    (tmp_path / "import_input.csv").write_text(header + a + b + a, encoding="utf-8")
    errors = (
        "row,item_name,bin_name,lot_name,date_filled,quantity,uom,errors\n1," + a.strip() + ",Duplicate.\n"
    )
    (tmp_path / "import_errors.csv").write_text(errors, encoding="utf-8")
    (tmp_path / "import_output.csv").write_text(header + b + a, encoding="utf-8")
    job = load_job(tmp_path, Settings())
    assert job.errors.get_column("input_row").to_list() == [1]
    assert job.output.get_column("input_row").to_list() == [2, 3]


def test_output_that_is_not_the_unnamed_rows_in_order_is_joined_on_fields(tmp_path: Path) -> None:
    """A reordered output fails the positional guess and is still linked record by record."""
    header = "item_name,bin_name,lot_name,date_filled,quantity,uom\n"
    rows = [f"I-{i},SS-1,L{i},2023-01-01,{i + 1},Each\n" for i in range(4)]
    (tmp_path / "import_input.csv").write_text(header + "".join(rows), encoding="utf-8")
    (tmp_path / "import_output.csv").write_text(header + rows[3] + rows[0] + rows[2], encoding="utf-8")
    job = load_job(tmp_path, Settings())
    assert job.output.get_column("input_row").to_list() == [4, 1, 3]
    assert job.detection.join["output"] == "record fields"


def test_an_unusable_file_read_after_the_input_still_stops_the_load(tmp_path: Path) -> None:
    """A good input does not hide a bad staging file: the error reaches the caller, naming the file."""
    folder = make_job(tmp_path / "job", 50)
    (folder / "artifacts" / "staging" / "inventory_staging.csv").write_bytes(b"row,a\n1,\x00\x00\n")
    (folder / "manifest.json").unlink()  # else the manifest check refuses the changed file before it is read
    with pytest.raises(ArtifactError) as caught:
        load_job(folder, Settings())
    assert "inventory_staging.csv" in str(caught.value) and "NUL" in str(caught.value)
