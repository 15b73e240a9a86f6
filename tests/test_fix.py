"""The fix stage: certain fixes land in corrected files in Claret's format, everything else reaches a person.

Jobs and reconciliations are built from small polars frames as load and reconcile make them; the last tests
run the whole loop against the simulator over loopback HTTP.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from claret_errors.config import Settings
from claret_errors.errors import ConfigError
from claret_errors.fields import INVENTORY_FIELDS
from claret_errors.fix.corrections import _PY_WHITESPACE, fix, plan_fixes
from claret_errors.fix.plan import RowPlan
from claret_errors.fix.references import master_names, proven_names
from claret_errors.load.job import load_job
from claret_errors.reconcile.accounting import reconcile
from claret_errors.results import Counts, Detection, JobInfo, LoadedJob, Reconciliation

HEADERS = ("Item Name", "bin_name", "lot_name", "date_filled", "Qty", "uom")
Row = tuple[str | None, ...]
Failure = tuple[str, str, str]  # message, category, field
BAD_DATE = ("The date filled field must match the format Y-m-d.", "invalid_date", "date_filled")
BAD_QTY = ("The quantity field must be a number.", "invalid_number", "quantity")
BAD_BIN = ("The selected bin name is invalid.", "unknown_reference", "bin_name")
BAD_UOM = ("The selected uom is invalid.", "unknown_reference", "uom")
NO_LOT = ("The lot name field is required.", "missing_value", "lot_name")
GOOD = ("122-16", "SS-01", "RM19CASRUT.ZAM", "2023-02-13", "120", "Gallon")


def _frame(rows: Sequence[Row], numbers: Sequence[int], columns: Sequence[str]) -> pl.DataFrame:
    data = pl.DataFrame([list(r) for r in rows], schema=dict.fromkeys(columns, pl.String), orient="row")
    return data.select(pl.Series("input_row", list(numbers), dtype=pl.Int64), *columns)


def make_job(
    tmp_path: Path,
    rows: Sequence[Row],
    imported: Sequence[int] = (),
    *,
    staging: Sequence[int] = (),
    headers: Sequence[str] = HEADERS,
    columns: Sequence[str] = INVENTORY_FIELDS,
    profile: str = "inventory",
    input_name: str = "nightly_20240101.csv",
) -> LoadedJob:
    """A loaded job: `rows` are the input; `imported` input rows are in output, `staging` ones in staging."""
    numbers = list(range(1, len(rows) + 1))
    source = _frame(rows, numbers, columns).with_columns(
        pl.lit(input_name).alias("_source_file"), (pl.col("input_row") + 1).alias("_source_line")
    )
    output = _frame([rows[i - 1] for i in imported], imported, columns)
    staged = _frame([rows[i - 1] for i in staging], staging, columns)
    return LoadedJob(
        path=tmp_path,
        info=JobInfo(tenant="t", job_log_id="1"),
        profile=profile,
        input=source,
        staging=staged,
        output=output,
        errors=pl.DataFrame({"input_row": []}, schema={"input_row": pl.Int64}),
        input_columns=tuple(columns),
        input_headers=tuple(headers),
        files={"input": [tmp_path / input_name], "staging": [], "output": [], "errors": []},
        detection=Detection(),
    )


def make_rec(job: LoadedJob, failures: dict[int, list[Failure]], owner: str = "cellar") -> Reconciliation:
    """A reconciliation of `job` in which the given input rows failed with the given messages."""
    numbers = sorted(failures)
    failed = job.input.filter(pl.col("input_row").is_in(numbers)).select("input_row", *job.input_columns)
    failed = failed.with_columns(
        pl.Series("messages", [[m for m, _c, _f in failures[n]] for n in numbers], dtype=pl.List(pl.String)),
        pl.Series(
            "categories", [[c for _m, c, _f in failures[n]] for n in numbers], dtype=pl.List(pl.String)
        ),
        pl.Series("fields", [[f for _m, _c, f in failures[n]] for n in numbers], dtype=pl.List(pl.String)),
        pl.lit(owner).alias("owner"),
    )
    messages = pl.DataFrame(
        [(n, m, c, f, "manual", "test") for n in numbers for m, c, f in failures[n]],
        schema={
            "input_row": pl.Int64,
            **dict.fromkeys(("message", "category", "field", "fix", "rule"), pl.String),
        },
        orient="row",
    )
    rows = job.input.height
    return Reconciliation(
        counts=Counts(rows, rows - len(numbers), len(numbers), 0, 0),
        failed=failed,
        messages=messages,
        anomalies=pl.DataFrame(),
        unaccounted=pl.DataFrame(),
        categories=[],
    )


def read_csv(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_bytes().decode("utf-8"), newline="")))


SAME_NAME = "the one known name that differs only in case, spaces or look-alike letters"
FILE_ORDER = "day first, decided from the file's unambiguous dates (a part over 12 is the day)"
THOUSANDS = "the comma groups thousands: the file writes no decimal commas"
SERIAL = "a 5-digit number in a date column is a spreadsheet's day number (days since 1899-12-30)"
SUFFIX = "the unit written after the number is the row's unit of measure"
ONE_READING = "day first: the other order is no real date"


def test_certainly_fixed_rows_go_to_a_corrected_file_in_the_inputs_format(tmp_path: Path) -> None:
    """The corrected file has the input's own headers and order and only the fixed rows, ready to upload."""
    rows = [
        GOOD,
        ("122-17", "ss-01", "RM19MERRUT.ZAM", "08/01/2023", "1,200", "gal"),
        ("124", "SS-01", "RM20CHACAR.ZAM", "45123", "12 gal", "Gallon"),
        ("126", "SS-01", "RM20CHACAR.ZAM", "14/02/2023", "3", "Gallon"),
    ]
    job = make_job(tmp_path, rows, imported=[1])
    rec = make_rec(job, {2: [BAD_BIN, BAD_DATE, BAD_QTY, BAD_UOM], 3: [BAD_DATE, BAD_QTY], 4: [BAD_DATE]})
    result = fix(job, rec, Settings(), tmp_path / "out")

    assert result.corrected_files == [tmp_path / "out" / "corrected" / "nightly_20240101_corrected_001.csv"]
    assert read_csv(result.corrected_files[0]) == [
        list(HEADERS),
        ["122-17", "SS-01", "RM19MERRUT.ZAM", "2023-01-08", "1200", "Gallon"],
        ["124", "SS-01", "RM20CHACAR.ZAM", "2023-07-16", "12", "Gallon"],
        ["126", "SS-01", "RM20CHACAR.ZAM", "2023-02-14", "3", "Gallon"],
    ]
    assert (result.auto_fixed_rows, result.suggested_rows, result.manual_rows) == (3, 0, 0)
    assert read_csv(tmp_path / "out" / "corrections_log.csv") == [
        ["input_row", "field", "before", "after", "rule", "assumption"],
        ["2", "uom", "gal", "Gallon", "uom.alias", "'gal' is short for Gallon"],
        ["2", "bin_name", "ss-01", "SS-01", "reference.normalised", SAME_NAME],
        ["2", "date_filled", "08/01/2023", "2023-01-08", "date.file_order", FILE_ORDER],
        ["2", "quantity", "1,200", "1200", "quantity.thousands_separator", THOUSANDS],
        ["3", "date_filled", "45123", "2023-07-16", "date.spreadsheet_serial", SERIAL],
        ["3", "quantity", "12 gal", "12", "quantity.unit_suffix", SUFFIX],
        ["4", "date_filled", "14/02/2023", "2023-02-14", "date.day_month_order", ONE_READING],
    ]
    assert read_csv(tmp_path / "out" / "needs_attention.csv") == [
        ["input_row", *INVENTORY_FIELDS, "messages", "advice", "suggestion", "owner", "note"]
    ]


def test_a_row_with_one_unfixable_failure_is_not_corrected(tmp_path: Path) -> None:
    """A row goes back only if every failure is fixed; the certain part is shown as a suggestion."""
    rows = [GOOD, ("122-17", "SS-01", "", "2023/08/01", "5", "Gallon")]
    job = make_job(tmp_path, rows, imported=[1])
    result = fix(job, make_rec(job, {2: [BAD_DATE, NO_LOT]}), Settings(), tmp_path)

    assert result.corrected_files == []
    assert result.corrections.height == 0
    assert result.rows.to_dicts() == [
        {"input_row": 2, "fix": "manual", "suggestion": "date_filled: 2023-08-01 (certain)"}
    ]
    [attention] = result.needs_attention.to_dicts()
    assert attention["lot_name"] == "" and attention["date_filled"] == "2023/08/01"
    assert attention["reason"] == "The lot name field is required."
    assert attention["owner"] == "cellar"


def test_ambiguous_date_is_suggested_not_corrected(tmp_path: Path) -> None:
    """Without the file's own evidence, 08/01/2023 is shown both ways and nothing is sent."""
    rows = [
        ("122-16", "SS-01", "L1", "2023-01-02", "1", "Gallon"),
        ("124", "SS-01", "L2", "08/01/2023", "2", "Gallon"),
    ]
    job = make_job(tmp_path, rows, imported=[1])
    result = fix(job, make_rec(job, {2: [BAD_DATE]}), Settings(), tmp_path)

    assert result.corrected_files == []
    assert (result.auto_fixed_rows, result.suggested_rows) == (0, 1)
    assert result.rows["suggestion"].to_list() == [
        "date_filled: 2023-01-08 (day first) or 2023-08-01 (month first)"
    ]


def test_close_reference_from_master_data_is_a_suggestion_with_score(tmp_path: Path) -> None:
    """A bin near a known one is suggested with its score; a guess never reaches a corrected file."""
    master = tmp_path / "master"
    master.mkdir()
    (master / "bins.csv").write_text("bin_name,location\nSS-09,Main\nSS-01,Main\n", encoding="utf-8")
    rows = [
        ("124", "SS-99", "L1", "2023-01-02", "1", "Gallon"),
        ("124", "ss-09", "L2", "2023-01-02", "1", "Gallon"),
    ]
    job = make_job(tmp_path, rows)
    result = fix(job, make_rec(job, {1: [BAD_BIN], 2: [BAD_BIN]}), Settings(master_data=master), tmp_path)

    assert result.rows.to_dicts() == [
        {"input_row": 1, "fix": "suggested", "suggestion": "bin_name: SS-09 (score 80)"},
        {"input_row": 2, "fix": "auto", "suggestion": ""},
    ]
    assert read_csv(result.corrected_files[0])[1:] == [["124", "SS-09", "L2", "2023-01-02", "1", "Gallon"]]


def test_staged_values_of_rows_that_failed_on_that_field_prove_nothing(tmp_path: Path) -> None:
    """Staging holds refused rows too: only values not in doubt count as names that exist."""
    rows = [
        ("124", "SS-77", "L1", "2023-01-02", "1", "Gallon"),
        ("124", "ss-77", "L2", "2023-01-02", "1", "Gallon"),
        ("124", "BRL-1", "L3", "bad", "1", "Gallon"),
        ("124", "brl-1", "L4", "2023-01-02", "1", "Gallon"),
    ]
    job = make_job(tmp_path, rows, staging=[1, 2, 3, 4])
    rec = make_rec(job, {1: [BAD_BIN], 2: [BAD_BIN], 3: [BAD_DATE], 4: [BAD_BIN]})
    plans = {p.input_row: p for p in plan_fixes(job, rec, Settings())}

    assert plans[2].kind == "manual"
    assert plans[4].kind == "auto" and plans[4].values["bin_name"] == "BRL-1"


def test_formula_cell_sends_the_row_to_a_person_and_is_neutralised_there(tmp_path: Path) -> None:
    """A cell a spreadsheet would run never goes back silently; the people's file shows it inert."""
    rows = [("124", "SS-01", '=HYPERLINK("http://evil")', "2023/01/02", "1", "Gallon")]
    job = make_job(tmp_path, rows)
    result = fix(job, make_rec(job, {1: [BAD_DATE]}), Settings(), tmp_path)

    assert result.corrected_files == []
    [attention] = read_csv(tmp_path / "needs_attention.csv")[1:]
    assert attention[3] == '\'=HYPERLINK("http://evil")'
    assert "lot_name starts with '='" in attention[11]  # the note: no message of Claret's says it


def test_negative_quantity_is_a_number_not_a_formula(tmp_path: Path) -> None:
    """-5 as a quantity is out of range, which is what the person should read, not a formula alarm."""
    rows = [("124", "SS-01", "L1", "2023-01-02", "-5", "Gallon")]
    job = make_job(tmp_path, rows)
    gt = ("The quantity field must be greater than 0.", "out_of_range", "quantity")
    result = fix(job, make_rec(job, {1: [gt]}), Settings(), tmp_path)

    [attention] = result.needs_attention.to_dicts()
    assert attention["reason"] == gt[0]
    assert read_csv(tmp_path / "needs_attention.csv")[1][5] == "-5"


def test_preflight_keeps_rows_the_input_schema_refuses_out_of_the_file(tmp_path: Path) -> None:
    """A fixed row still breaking Claret's documented rules (a quantity nobody complained of) is held."""
    rows = [
        ("124", "SS-01", "L1", "2023/01/02", "lots", "Gallon"),
        ("124", "SS-01", "L2", "2023/01/03", "3", "Gallon"),
    ]
    job = make_job(tmp_path, rows)
    result = fix(job, make_rec(job, {1: [BAD_DATE], 2: [BAD_DATE]}), Settings(), tmp_path)

    assert result.rows["fix"].to_list() == ["manual", "auto"]
    assert "pre-flight: quantity" in result.needs_attention["reason"][0]
    assert [r[2] for r in read_csv(result.corrected_files[0])[1:]] == ["L2"]


def test_fixed_rows_that_repeat_a_record_are_held(tmp_path: Path) -> None:
    """Two fixes landing on one item/bin/lot, or on a record this job imported, would fail again."""
    rows = [
        GOOD,
        ("122-16", "ss-01", "RM19CASRUT.ZAM", "2023-02-14", "1", "Gallon"),
        ("124", "ss-01", "L9", "2023-02-14", "1", "Gallon"),
        ("124", "SS\u201301", "L9", "2023-02-14", "2", "Gallon"),
    ]
    job = make_job(tmp_path, rows, imported=[1])
    result = fix(job, make_rec(job, {2: [BAD_BIN], 3: [BAD_BIN], 4: [BAD_BIN]}), Settings(), tmp_path)

    assert result.rows["fix"].to_list() == ["manual", "auto", "manual"]
    reasons = result.needs_attention["reason"].to_list()
    assert reasons == [
        "same item, bin and lot as input row 1, which this job imported",
        "same item, bin and lot as corrected input row 3",
    ]


def test_corrected_files_hold_at_most_1000_records_and_stale_ones_go(tmp_path: Path) -> None:
    """Claret takes 1000 records per import; a rerun with fewer rows leaves no old file to resubmit."""
    rows = [("124", "SS-01", f"L{i}", "2023/01/02", "1", "Gallon") for i in range(2001)]
    job = make_job(tmp_path, rows)
    result = fix(job, make_rec(job, {n: [BAD_DATE] for n in range(1, 2002)}), Settings(), tmp_path)

    assert [p.name for p in result.corrected_files] == [
        f"nightly_20240101_corrected_00{i}.csv" for i in (1, 2, 3)
    ]
    assert [len(read_csv(p)) - 1 for p in result.corrected_files] == [1000, 1000, 1]
    small = make_job(tmp_path, rows[:5])
    again = fix(small, make_rec(small, {n: [BAD_DATE] for n in range(1, 6)}), Settings(), tmp_path)
    assert sorted(p.name for p in (tmp_path / "corrected").iterdir()) == [
        "nightly_20240101_corrected_001.csv"
    ]
    assert len(read_csv(again.corrected_files[0])) == 6


def test_hostile_input_file_name_makes_a_plain_corrected_name(tmp_path: Path) -> None:
    """The input's name comes from outside: it cannot steer where the corrected file is written."""
    job = make_job(
        tmp_path, [("124", "SS-01", "L1", "2023/01/02", "1", "Gallon")], input_name="..\\..\\x y;.csv"
    )
    result = fix(job, make_rec(job, {1: [BAD_DATE]}), Settings(), tmp_path)
    assert [p.name for p in result.corrected_files] == ["x_y_corrected_001.csv"]
    assert result.corrected_files[0].parent == tmp_path / "corrected"


def test_generic_import_gets_suggestions_but_no_corrected_file(tmp_path: Path) -> None:
    """Other import types have no input schema to pre-flight against: fixes are offered, not written."""
    columns = ("item", "location", "date_filled", "quantity", "supply_type")
    job = make_job(
        tmp_path,
        [("124", "North", "2023/01/02", "5", "po")],
        headers=columns,
        columns=columns,
        profile="generic",
    )
    result = fix(job, make_rec(job, {1: [BAD_DATE]}), Settings(), tmp_path)

    assert result.corrected_files == []
    assert result.rows.to_dicts() == [
        {"input_row": 1, "fix": "suggested", "suggestion": "date_filled: 2023-01-02 (certain)"}
    ]
    assert "inventory imports only" in result.needs_attention["reason"][0]


def test_no_failed_rows_still_writes_empty_people_files(tmp_path: Path) -> None:
    """Reports link both files on every job; an all-good job has them with headers only."""
    job = make_job(tmp_path, [GOOD], imported=[1])
    result = fix(job, make_rec(job, {}), Settings(), tmp_path)
    assert (result.corrected_files, result.auto_fixed_rows) == ([], 0)
    assert read_csv(tmp_path / "corrections_log.csv") == [
        ["input_row", "field", "before", "after", "rule", "assumption"]
    ]
    assert len(read_csv(tmp_path / "needs_attention.csv")) == 1


def test_needs_attention_gives_advice_for_what_still_fails_and_repeats_no_message(tmp_path: Path) -> None:
    """The person reads Claret's words once, what to do about the failures left, and only new notes."""
    rows = [GOOD, ("122-17", "SS-01", "", "2023/08/01", "5", "Gallon")]
    job = make_job(tmp_path, rows, imported=[1])
    rec = make_rec(job, {2: [BAD_DATE, NO_LOT]})
    advice = {BAD_DATE[0]: "Write the fill date as YYYY-MM-DD.", NO_LOT[0]: "Fill in the lot code."}
    rec.messages = rec.messages.with_columns(pl.col("message").replace_strict(advice).alias("advice"))
    fix(job, rec, Settings(), tmp_path)

    header, row = read_csv(tmp_path / "needs_attention.csv")
    got = dict(zip(header, row, strict=True))
    assert got["messages"] == f"{BAD_DATE[0]} | {NO_LOT[0]}"
    assert got["advice"] == "Fill in the lot code."  # the date is fixed for sure: no advice about it
    assert got["suggestion"] == "date_filled: 2023-08-01 (certain)"
    assert got["note"] == ""
    assert "reason" not in header and "fix" not in header


def test_master_data_names_come_from_field_columns_and_named_files(tmp_path: Path) -> None:
    """units.csv's name and abbreviation are units; an inventory export's columns count by their headers."""
    (tmp_path / "units.csv").write_text("name,abbreviation\nGallon,GAL\n", encoding="utf-8")
    (tmp_path / "export.csv").write_text("Item,Bin,description\n122-16,SS-01,x\n", encoding="utf-8-sig")
    names = master_names(tmp_path, {})
    assert names == {"uom": {"Gallon", "GAL"}, "item_name": {"122-16"}, "bin_name": {"SS-01"}}
    assert master_names(tmp_path / "units.csv", {}) == {"uom": {"Gallon", "GAL"}}


def test_missing_master_data_is_a_configuration_error(tmp_path: Path) -> None:
    """A master_data path that is not there is the user's setting to fix (exit 2), named in the message."""
    with pytest.raises(ConfigError, match="master data not found") as info:
        master_names(tmp_path / "nope", {})
    assert str(tmp_path / "nope") in str(info.value)


def test_unit_aliases_from_the_config_are_applied(tmp_path: Path) -> None:
    """A winery's own unit spelling, added in [units], is fixed like the built-in ones."""
    rows = [("124", "SS-01", "L1", "2023-01-02", "1", "nine-litre case")]
    job = make_job(tmp_path, rows)
    settings = Settings(units={"nine-litre case": "9LE Case"})
    result = fix(job, make_rec(job, {1: [BAD_UOM]}), settings, tmp_path)

    assert result.corrections.rows() == [
        (1, "uom", "nine-litre case", "9LE Case", "uom.alias", "'nine-litre case' is short for 9LE Case")
    ]
    assert read_csv(result.corrected_files[0])[1][5] == "9LE Case"


def test_unit_alias_is_checked_against_master_units_not_the_jobs_few(tmp_path: Path) -> None:
    """A job that landed only gallons does not disprove Case; the tenant's unit list does."""
    rows = [GOOD, ("124", "SS-01", "L1", "2023-01-02", "1", "cases")]
    job = make_job(tmp_path, rows, imported=[1])
    rec = make_rec(job, {2: [BAD_UOM]})
    assert [p.kind for p in plan_fixes(job, rec, Settings())] == ["auto"]
    master = tmp_path / "units.csv"
    master.write_text("name,abbreviation\nGallon,GAL\n9LE Case,9LE\n", encoding="utf-8")
    [plan] = plan_fixes(job, rec, Settings(master_data=master))
    assert plan.kind == "suggested"
    assert plan.suggestions == ["uom: Case (alias of 'cases', not a known unit)"]


def test_landed_key_strip_matches_python_strip() -> None:
    """Landed keys are stripped in polars; they must lose exactly what str.strip() drops from plan keys."""
    assert "".join(c for c in map(chr, range(0x110000)) if c.isspace()) == _PY_WHITESPACE


def test_input_column_named_owner_keeps_its_own_value_in_the_corrected_file(tmp_path: Path) -> None:
    """An input column `owner` sits beside the routed owner; the corrected file must send the input value."""
    folder = tmp_path / "job"
    folder.mkdir()
    header = "item_name,bin_name,lot_name,date_filled,quantity,uom,owner"
    (folder / "input.csv").write_text(f"{header}\nA-1,SS-1,L1,2023/08/01,5,Gallon,alice\n", encoding="utf-8")
    (folder / "errors.csv").write_text(
        f"row,{header},errors\n1,A-1,SS-1,L1,2023/08/01,5,Gallon,alice,"
        "The date filled field must match the format Y-m-d.\n",
        encoding="utf-8",
    )
    settings = Settings()
    job = load_job(folder, settings)
    result = fix(job, reconcile(job, settings), settings, tmp_path / "out")
    [corrected] = result.corrected_files
    assert corrected.read_text(encoding="utf-8").splitlines()[1] == "A-1,SS-1,L1,2023-08-01,5,Gallon,alice"


def test_rows_alike_for_the_rules_share_a_decision_but_keep_their_own_messages_and_values(
    tmp_path: Path,
) -> None:
    """Decisions are made once per signature (fields, categories, message count, named values): rows with
    the same failure keep their own message text and lot, a quantity's unit tells two `12 gal`s apart, a
    formula in a column no message names still holds its row back, and a message past the fields is kept."""
    qty_text = ("Quantity 12 gal of row {} is not a number.", "invalid_number", "quantity")
    rows = [
        ("122-16", "SS-01", "LOT-1", "2023-02-13", "12 gal", "Gallon"),
        ("122-16", "SS-01", "LOT-2", "2023-02-13", "12 gal", "Gallon"),
        ("122-16", "SS-01", "=LOT-3", "2023-02-13", "12 gal", "Gallon"),
        ("122-16", "SS-01", "LOT-4", "2023-02-13", "12 gal", "Each"),
    ]
    job = make_job(tmp_path, rows)
    rec = make_rec(job, {n: [(qty_text[0].format(n), *qty_text[1:])] for n in range(1, 5)})
    extra = pl.Series(
        "messages",
        [[m, "and also this"] if i == 0 else [m] for i, [m] in enumerate(rec.failed["messages"].to_list())],
        dtype=pl.List(pl.String),
    )
    rec.failed = rec.failed.with_columns(extra)
    plans = {p.input_row: p for p in plan_fixes(job, rec, Settings())}

    assert [plans[n].kind for n in range(1, 5)] == ["auto", "auto", "manual", "suggested"]
    assert plans[1].values["quantity"] == plans[2].values["quantity"] == plans[3].values["quantity"] == "12"
    assert plans[1].messages == ["Quantity 12 gal of row 1 is not a number.", "and also this"]
    assert plans[2].values["lot_name"] == "LOT-2" and plans[2].original["quantity"] == "12 gal"
    assert plans[3].remaining == ["lot_name starts with '=': a spreadsheet would run it as a formula"]
    assert plans[4].remaining == ["Quantity 12 gal of row 4 is not a number."]
    assert (
        plans[4].values["quantity"] == "12 gal" and "written in 'gal', uom is Each" in plans[4].suggestions[0]
    )


def _tables_from_plans(job: LoadedJob, plans: Sequence[RowPlan]) -> dict[str, pl.DataFrame]:
    """The fix stage's three tables made plan by plan, as fix() made them before it planned only some rows."""
    columns = list(job.input_columns)
    string = pl.String
    rows = pl.DataFrame(
        {
            "input_row": [p.input_row for p in plans],
            "fix": [p.kind for p in plans],
            "suggestion": [p.suggestion_text() for p in plans],
        },
        schema={"input_row": pl.Int64, "fix": string, "suggestion": string},
    )
    corrections = pl.DataFrame(
        [(p.input_row, *c) for p in plans if p.kind == "auto" for c in p.corrections],
        schema={
            "input_row": pl.Int64,
            **dict.fromkeys(("field", "before", "after", "rule", "assumption"), string),
        },
        orient="row",
    )
    pending = [p for p in plans if p.kind != "auto"]
    taken = ("input_row", "messages", "reason", "owner", "fix", "suggestion")
    needs_attention = pl.DataFrame(
        {
            "input_row": [p.input_row for p in pending],
            **{(f"input_{c}" if c in taken else c): [p.original[c] for p in pending] for c in columns},
            "messages": [" | ".join(p.messages) for p in pending],
            "reason": ["; ".join(dict.fromkeys(p.remaining)) for p in pending],
            "owner": [p.owner for p in pending],
            "fix": [p.kind for p in pending],
            "suggestion": [p.suggestion_text() for p in pending],
        },
        schema_overrides={"input_row": pl.Int64},
    ).cast({c: string for c in taken[1:]})
    return {"rows": rows, "corrections": corrections, "needs_attention": needs_attention}


@pytest.mark.parametrize("profile", ["inventory", "generic"])
def test_fix_tables_match_the_plans_of_every_row(tmp_path: Path, profile: str) -> None:
    """fix() plans only the rows that may be corrected or hold a formula and takes every other row's fix,
    suggestion and reason from its signature's decision in polars: its tables are those the plans of all
    rows give, for rows fixed, demoted (duplicate, pre-flight, no corrected file), formula-like (in the input
    or made so by a fix), with repeated, empty, missing or null messages, and with no owner."""
    rows = [
        ("122-16", "SS-01", "L1", "2023/01/02", "1", "Gallon"),
        ("122-16", "SS-01", "L2", "2023/01/02", "1", "Gallon"),
        ("122-16", "SS-01", "=L3", "2023/01/02", "1", "Gallon"),
        ("122-16", "SS-01", "L4", "08/01/2023", "1", "Gallon"),
        ("122-16", "SS-01", "", "2023/01/02", "1", "jug"),
        ("122-16", "SS-01", "L6", "2023-01-02", "1", "Gallon"),
        ("122-16", "SS-01", "L7", "2023-01-02", "1", "Gallon"),
        ("122-16", "SS-01", "L8", "2023-01-02", "1", "Gallon"),
        ("122-16", "SS-01", "L9", "2023-01-02", "1", "Gallon"),
        GOOD,
        ("124", "ss-01", "L11", "2023-02-14", "1", "Gallon"),
        ("124", "SS\u201301", "L11", "2023-02-14", "2", "Gallon"),
        ("124", "SS-01", "L13", "2023/01/03", "lots", "Gallon"),
        ("122-16", "ss-01", "RM19CASRUT.ZAM", "2023-02-13", "120", "Gallon"),
    ]
    job = make_job(tmp_path, rows, imported=[10], profile=profile)
    failures: dict[int, list[Failure]] = {n: [BAD_DATE] for n in (1, 2, 3, 4, 13)}
    failures |= {5: [BAD_UOM, NO_LOT], 6: [BAD_BIN, BAD_BIN], 7: [BAD_BIN], 8: [BAD_BIN], 9: [BAD_BIN]}
    failures |= {n: [BAD_BIN] for n in (11, 12, 14)}
    rec = make_rec(job, failures)
    messages = rec.failed["messages"].to_list()
    messages[6], messages[7], messages[8] = [], None, ["The selected bin name is invalid.", None]
    rec.failed = rec.failed.with_columns(
        pl.Series("messages", messages, dtype=pl.List(pl.String)),
        pl.lit(None, dtype=pl.String).alias("owner"),
    )
    settings = Settings(units={"jug": "=Gallon"})

    result = fix(job, rec, settings, tmp_path / "out")

    expected = _tables_from_plans(job, plan_fixes(job, rec, settings))
    for name, frame in expected.items():
        # advice and note are pinned by their own test; they come from the messages, not the plans
        assert_frame_equal(getattr(result, name).drop("advice", "note", strict=False), frame)
    fixes = result.rows["fix"].to_list()
    counts = [fixes.count(kind) for kind in ("auto", "suggested", "manual")]
    assert counts == [result.auto_fixed_rows, result.suggested_rows, result.manual_rows]
    reasons = "\n".join(result.needs_attention["reason"])
    assert "uom starts with '='" in reasons and "no message from Claret" in reasons
    if profile == "inventory":
        assert counts[0] > 0 and "same item, bin and lot" in reasons and "pre-flight" in reasons
    else:
        assert counts[0] == 0 and "inventory imports only" in reasons


def test_proven_names_of_the_fields_asked_for(tmp_path: Path) -> None:
    """Only the fields a failure names are looked up, so only theirs are worked out; all by default."""
    job = make_job(
        tmp_path, [GOOD, ("124", "BRL-1", "L2", "2023-02-13", "1", "Case")], imported=[1], staging=[2]
    )
    rec = make_rec(job, {2: [BAD_DATE]})
    everything = proven_names(job, rec)
    assert everything["bin_name"] == {"SS-01", "BRL-1"} and set(everything) == {
        "item_name",
        "bin_name",
        "lot_name",
        "uom",
    }
    assert proven_names(job, rec, ("bin_name", "uom")) == {k: everything[k] for k in ("bin_name", "uom")}
    assert proven_names(job, rec, ()) == {}
