"""Validation: every failing value found (lazy), located by input row, and drift named in plain words."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from claret_errors.config import Settings
from claret_errors.load.job import load_job
from claret_errors.pipeline import load_and_validate
from claret_errors.results import Finding, LoadedInput
from claret_errors.validate import drift, findings_frame, input_schema, validate, validate_input

ROOT = Path(__file__).resolve().parent.parent
CSV = ROOT / "fixtures" / "csv"
JOBS = ROOT / "fixtures" / "jobs"
sys.path.insert(0, str(ROOT / "bench"))

from make_job import make_job  # noqa: E402


def _as_job(tmp_path: Path, name: str) -> Path:
    folder = tmp_path / "job"
    folder.mkdir()
    shutil.copy(CSV / name, folder / "input.csv")
    return folder


def _findings(tmp_path: Path, name: str) -> list[Finding]:
    return validate(load_job(_as_job(tmp_path, name), Settings()))


def test_every_bad_value_is_reported_with_its_input_row(tmp_path: Path) -> None:
    """Lazy validation: a data owner wants the whole list at once, not the first failure per run."""
    found = {(f.row, f.column, f.check) for f in _findings(tmp_path, "invalid_values.csv")}
    assert found == {
        (2, "item_name", "required"),
        (2, "date_filled", "date_ymd"),
        (2, "quantity", "positive_number"),
        (3, "bin_name", "required"),
        (3, "date_filled", "date_ymd"),
        (3, "quantity", "positive_number"),
        (4, "item_name", "max_length"),
        (5, "quantity", "positive_number"),
    }


def test_findings_carry_file_line_and_value(tmp_path: Path) -> None:
    """A finding must be actionable: which file, which line, which value."""
    bad_date = next(
        f for f in _findings(tmp_path, "invalid_values.csv") if f.check == "date_ymd" and f.row == 3
    )
    assert bad_date.file == "input.csv"
    assert bad_date.value == "2023-02-30"
    assert bad_date.message == "line 4: date_filled: not a date in Y-m-d form (e.g. 2023-08-01)"
    assert bad_date.severity == "error"


def test_only_the_bad_values_of_a_job_are_reported() -> None:
    """A clean row must not produce noise that buries the real failures."""
    findings = validate(load_job(JOBS / "plain_semicolon_errors", Settings()))
    assert {(f.row, f.check) for f in findings if f.row is not None} == {
        (2, "positive_number"),
        (3, "date_ymd"),
    }
    assert {f.check for f in findings if f.row is None} == {"renamed_column"}


def test_drift_names_missing_extra_and_renamed_columns() -> None:
    """Schema drift is the first thing to check when a whole file fails; say it in words."""
    columns = ("item_name", "bin_nme", "lot_name", "date_filled", "quantity", "notes")
    messages = {f.check: f.message for f in drift(columns, columns, "input.csv")}
    assert messages == {
        "renamed_column": "column 'bin_name' is missing; 'bin_nme' looks like it renamed",
        "missing_column": "column 'uom' is missing: Claret requires it for every record",
        "extra_column": "extra column 'notes' is not an inventory field; Claret will ignore or reject it",
    }


def test_aliased_headers_are_reported_as_read(tmp_path: Path) -> None:
    """`Qty` read as `quantity` is an assumption; the report must show it."""
    findings = validate(load_job(JOBS / "plain_semicolon_errors", Settings()))
    renamed = [f.message for f in findings if f.check == "renamed_column"]
    assert "column 'Qty' read as 'quantity'" in renamed
    assert "column 'Date Filled' read as 'date_filled'" in renamed


def test_generic_profile_is_not_held_to_inventory_rules(tmp_path: Path) -> None:
    """A sales file has no bin or lot; flagging them missing would be wrong."""
    findings = _findings(tmp_path, "generic_sales.csv")
    assert [f.check for f in findings] == ["profile"]


def test_unlinked_artifact_rows_are_not_schema_failures() -> None:
    """A null input_row is reconcile's anomaly to report; validation only checks the numbers are sane."""
    findings = validate(load_job(JOBS / "plain_fields_only", Settings()))
    assert [f for f in findings if f.file.startswith(("errors", "output"))] == []


@pytest.mark.parametrize("value", ["1", "0.5", "12.", ".5", "+3", " 7 "])
def test_input_schema_accepts_positive_numbers(value: str) -> None:
    """The fix stage pre-flights corrected files with input_schema(); good values must pass it."""
    frame = pl.DataFrame({"quantity": [value], "date_filled": ["2024-02-29"], "item_name": ["x"]})
    input_schema().validate(frame, lazy=True)


@pytest.mark.parametrize("value", ["0", "-1", "1,000", "1e3", "abc", "1.2.3"])
def test_input_schema_refuses_what_claret_refuses(value: str) -> None:
    """No zero, no sign, no thousands separators: what Claret documents must be enforced before resubmit."""
    import pandera.polars as pa

    with pytest.raises(pa.errors.SchemaErrors):
        input_schema().validate(pl.DataFrame({"quantity": [value]}), lazy=True)


def test_findings_table_has_one_row_per_finding(tmp_path: Path) -> None:
    """Reports and CSVs take findings as a table; the row column must stay an integer column."""
    table = findings_frame(_findings(tmp_path, "invalid_values.csv"))
    assert table.columns == ["file", "column", "check", "row", "value", "severity", "message"]
    assert table.schema["row"] == pl.Int64
    assert table.filter(pl.col("check") == "max_length").get_column("row").to_list() == [4]
    assert findings_frame([]).height == 0


def test_errors_file_without_input_columns_is_named() -> None:
    """An errors file with only messages joins by its prefix alone; the report should say why."""
    findings = validate(load_job(JOBS / "plain_prefix_only", Settings()))
    lacking = [f for f in findings if f.file == "import_errors.csv"]
    assert [f.check for f in lacking] == ["missing_column"]
    assert "lacks input columns item_name, bin_name" in lacking[0].message


def test_skipping_clean_rows_finds_exactly_what_pandera_finds(tmp_path: Path) -> None:
    """validate() hands pandera only suspect rows for speed; the findings must equal a full pandera run."""
    import pandera.polars as pa

    job = load_job(_as_job(tmp_path, "invalid_values.csv"), Settings())
    with pytest.raises(pa.errors.SchemaErrors) as caught:
        input_schema().validate(job.input, lazy=True)
    rows = job.input.get_column("input_row").to_list()
    full = {
        (rows[c["index"]], c["column"], c["check"], c["failure_case"])
        for c in caught.value.failure_cases.iter_rows(named=True)
    }
    ours = {(f.row, f.column, f.check, f.value) for f in validate(job) if f.row is not None}
    assert ours == full
    assert len(full) == 8


def test_drifted_file_is_still_inventory_and_says_how(tmp_path: Path) -> None:
    """A renamed and a missing column must not tip the file into the generic profile, but be named."""
    folder = _as_job(tmp_path, "drift_renamed.csv")
    job = load_job(folder, Settings())
    assert job.profile == "inventory"
    checks = {(f.check, f.column) for f in validate(job) if f.row is None}
    assert checks == {("renamed_column", "bin_name"), ("missing_column", "uom"), ("extra_column", "notes")}


_CHARS = " \t\n\x0b\x1f\x7f\x85\xa0\u2000\u3000+-.,_019eEinfa\u0661é"
_AWKWARD = st.one_of(
    st.none(),
    st.text(max_size=6),
    st.text(alphabet=st.sampled_from(list(_CHARS)), max_size=8),
    st.sampled_from(["1e5", "inf", "NaN", "+.5", "0.0", "2024-02-30", "2024-2-01", " 2024-02-01", "x" * 256]),
)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(_AWKWARD, _AWKWARD), min_size=1, max_size=30))
def test_prefiltered_validation_equals_a_full_pandera_run(rows: list[tuple[str | None, str | None]]) -> None:
    """Whatever the values, the findings of the suspect rows are those of pandera on every row."""
    import pandera.polars as pa

    frame = pl.DataFrame(rows, schema={"quantity": pl.String, "date_filled": pl.String}, orient="row")
    frame = frame.with_row_index("input_row", offset=1).with_columns(pl.col("input_row").cast(pl.Int64))
    full: set[tuple[object, ...]] = set()
    try:
        input_schema().validate(frame, lazy=True)
    except pa.errors.SchemaErrors as exc:
        full = {(c["index"] + 1, c["column"], c["check"]) for c in exc.failure_cases.iter_rows(named=True)}
    columns = ("quantity", "date_filled")
    loaded = LoadedInput(frame, "inventory", columns, columns, "in.csv")
    ours = {(f.row, f.column, f.check) for f in validate_input(loaded) if f.row is not None}
    assert ours == full


@pytest.mark.parametrize("name", sorted(p.name for p in JOBS.iterdir() if p.is_dir()))
def test_load_and_validate_gives_validates_findings_in_its_order(name: str) -> None:
    """The pipeline validates the input in a thread while the rest loads: nothing may change but time."""
    job, findings = load_and_validate(JOBS / name, Settings())
    again = load_job(JOBS / name, Settings())
    assert findings == [*again.findings, *validate(again)]
    assert job.input.equals(again.input) and job.output.equals(again.output)


def test_load_and_validate_on_a_generated_job_with_bad_values(tmp_path: Path) -> None:
    """Several thousand rows, a share of them failing: the findings of the overlapped run are the same."""
    folder = make_job(tmp_path / "job", 3000, failed_share=0.1, seed=4)
    _job, findings = load_and_validate(folder, Settings())
    again = load_job(folder, Settings())
    expected = [*again.findings, *validate(again)]
    assert len([f for f in expected if f.row is not None]) > 100
    assert findings == expected
