"""Detection tested against data: row column and base, field joins, message columns and layouts."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from claret_errors.config import DetectOverrides, Settings
from claret_errors.load.detect import detect_messages, link_rows, messages_column
from claret_errors.load.job import load_job

JOBS = Path(__file__).resolve().parent.parent / "fixtures" / "jobs"
FIELDS = ("item_name", "quantity")
NONE = DetectOverrides()


def _source(items: list[str], lines: list[int] | None = None) -> pl.DataFrame:
    """An input frame as load_job builds it, with distinct records."""
    n = len(items)
    return pl.DataFrame(
        {
            "input_row": pl.Series(range(1, n + 1), dtype=pl.Int64),
            "item_name": items,
            "quantity": [str(i) for i in range(n)],
            "_source_file": ["input.csv"] * n,
            "_source_line": pl.Series(lines or list(range(2, n + 2)), dtype=pl.Int64),
        }
    )


ITEMS = [f"item-{i}" for i in range(30)]


@pytest.mark.parametrize(("base", "offset"), [("0", -1), ("1", 0), ("2", 1)])
def test_row_base_is_the_one_whose_rows_agree_with_the_input(base: str, offset: int) -> None:
    """Claret's row base is undocumented: only the data can say whether `row` 5 means input row 4, 5 or 6."""
    pointed = [3, 7, 12, 20]
    frame = pl.DataFrame(
        {
            "row": [str(r + offset) for r in pointed],
            "item_name": [ITEMS[r - 1] for r in pointed],
            "quantity": [str(r - 1) for r in pointed],
        }
    )
    link = link_rows("errors", frame, _source(ITEMS), FIELDS, NONE)
    assert (link.column, link.base, link.join) == ("row", base, "row reference")
    assert link.input_row.to_list() == pointed
    assert "100%" in link.notes[0]


def test_physical_line_numbers_win_when_a_record_spans_lines() -> None:
    """After a multi-line record, line numbers and 2-based numbers part ways; the data decides."""
    source = _source(ITEMS[:4], lines=[2, 5, 6, 7])
    frame = pl.DataFrame({"line": ["5", "7"], "item_name": [ITEMS[1], ITEMS[3]]})
    link = link_rows("errors", frame, source, ("item_name",), NONE)
    assert link.base == "line"
    assert link.input_row.to_list() == [2, 4]


def test_without_shared_fields_the_range_of_values_decides() -> None:
    """An errors file with only a row number and a message: a 0 can only be 0-based."""
    frame = pl.DataFrame({"row": ["0", "4", "9"], "message": ["a b c d", "a b c d", "a b c d"]})
    link = link_rows("errors", frame, _source(ITEMS[:10]), FIELDS, NONE)
    assert link.base == "0"
    assert link.input_row.to_list() == [1, 5, 10]


def test_row_column_that_disagrees_falls_back_to_fields() -> None:
    """A numeric id column is not a row reference just because it is numeric: the fields disagree."""
    frame = pl.DataFrame({"id": ["900", "3", "1"], "item_name": [ITEMS[5], ITEMS[6], ITEMS[7]]})
    frame = frame.with_columns(pl.Series("quantity", ["5", "6", "7"]))
    link = link_rows("output", frame, _source(ITEMS), FIELDS, NONE)
    assert link.join == "record fields"
    assert link.base == "fields"
    assert link.input_row.to_list() == [6, 7, 8]


def test_field_join_pairs_repeated_records_in_order() -> None:
    """When the input repeats a record, each repeat in errors must claim its own input row."""
    source = _source(["a", "b", "a", "c"]).with_columns(pl.lit("1").alias("quantity"))
    frame = pl.DataFrame({"item_name": [" A ", "a", "zzz"], "quantity": ["1", "1", "1"]})
    link = link_rows("errors", frame, source, FIELDS, NONE)
    assert link.input_row.to_list() == [1, 3, None]


def test_field_join_with_unique_input_points_repeats_at_one_row() -> None:
    """A record output twice is a duplicate of one input row; reconcile needs both to point at it."""
    frame = pl.DataFrame({"item_name": [ITEMS[2], ITEMS[2].upper()], "quantity": ["2", "2"]})
    link = link_rows("output", frame, _source(ITEMS), FIELDS, NONE)
    assert link.input_row.to_list() == [3, 3]


def test_configured_row_column_and_base_are_used_as_given() -> None:
    """The user's override must win even when the data would choose otherwise."""
    frame = pl.DataFrame({"n": ["3", "4"], "item_name": [ITEMS[2], ITEMS[3]]})
    link = link_rows(
        "errors", frame, _source(ITEMS), ("item_name",), DetectOverrides(row_column="n", row_base=2)
    )
    assert (link.column, link.base) == ("n", "2")
    assert link.input_row.to_list() == [2, 3]


def test_rows_pointing_outside_the_input_get_null() -> None:
    """A row number past the end of the input matches nothing; reconcile reports it as an anomaly."""
    frame = pl.DataFrame({"row": ["1", "99"], "message": ["The x field is required.", "The y is bad."]})
    link = link_rows("errors", frame, _source(ITEMS[:5]), FIELDS, NONE)
    assert link.input_row.to_list() == [1, None]


def test_message_columns_found_by_name_and_by_content() -> None:
    """Messages hide under many names; failing that, the column of sentences is the message column."""
    named = pl.DataFrame({"row": ["1"], "Validation": ["x"], "error_message": ["The x is bad."]})
    assert detect_messages(named, [], NONE).columns == ("error_message",)
    unnamed = pl.DataFrame(
        {"row": ["1", "2"], "what": ["The quantity field must be greater than 0.", "The bin."]}
    )
    assert detect_messages(unnamed, [], NONE).columns == ("what",)
    forced = detect_messages(named, [], DetectOverrides(message_columns=("Validation",)))
    assert forced.columns == ("Validation",)


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("The a is bad.; The b is bad.", ["The a is bad.", "The b is bad."]),
        ("The a is bad. | The b is bad.", ["The a is bad.", "The b is bad."]),
        ("The a is bad.\r\nThe b is bad.", ["The a is bad.", "The b is bad."]),
        ('["The a is bad.", "The b; is bad."]', ["The a is bad.", "The b; is bad."]),
        ("There was an error on row 4. The a is bad.", ["The a is bad."]),
        (
            "There was an error on row 4. The a is bad. There was an error on row 4. The b is bad.",
            ["The a is bad.", "The b is bad."],
        ),
    ],
)
def test_messages_are_split_by_the_detected_layout(cell: str, expected: list[str]) -> None:
    """Each message is classified on its own: joined cells, JSON lists and prefixes must come apart."""
    frame = pl.DataFrame({"errors": [cell]})
    layout = detect_messages(frame, [], NONE)
    assert messages_column(frame, layout).to_list() == [expected]


def test_several_message_columns_are_combined_and_blanks_dropped() -> None:
    """Two message columns feed one list; an empty cell is not a message."""
    frame = pl.DataFrame({"error": ["The a is bad.", "The c."], "error_2": ["The b is bad.", ""]})
    layout = detect_messages(frame, [], NONE)
    assert layout.columns == ("error", "error_2")
    assert messages_column(frame, layout).to_list() == [["The a is bad.", "The b is bad."], ["The c."]]


def test_fixture_jobs_record_what_was_assumed() -> None:
    """Every report shows what detection chose; each fixture layout must be read the way it was written."""
    chosen = {}
    for name in ("job_json_messages", "plain_prefix_only", "plain_line_numbers", "plain_fields_only"):
        detection = load_job(JOBS / name, Settings()).detection
        chosen[name] = (detection.row_base.get("errors"), detection.message_layout)
    assert chosen["job_json_messages"] == ("0", "one message column, a JSON list per cell")
    assert chosen["plain_prefix_only"][0] == "prefix"
    assert chosen["plain_line_numbers"] == (
        "line",
        "2 message columns, one message per cell; one row per message (the same input row repeated)",
    )
    assert chosen["plain_fields_only"] == (
        "fields",
        "one message column, several messages per cell separated by newline",
    )


def test_fields_only_fixture_pairs_each_repeat_with_its_own_row() -> None:
    """The repeated bad record of plain_fields_only fails twice: input rows 2 and 3, not 2 twice."""
    job = load_job(JOBS / "plain_fields_only", Settings())
    assert job.errors.get_column("input_row").to_list() == [2, 3]
    assert job.output.get_column("input_row").to_list() == [1, 4]


def test_numeric_column_named_like_an_error_is_not_a_message_column() -> None:
    """`error_row` holds numbers, not messages: taking it would turn row numbers into 'messages'."""
    frame = pl.DataFrame({"error_row": ["3", "4"], "error": ["The a is bad.", "The b is bad."]})
    assert detect_messages(frame, [], NONE).columns == ("error",)


def test_configured_columns_may_be_named_as_in_the_file(tmp_path: Path) -> None:
    """Users copy header names from the file (`Row Number`, `Error`); they must find the loaded columns."""
    overrides = DetectOverrides(row_column="Row Number", row_base=2, message_columns=("Error",))
    job = load_job(JOBS / "plain_semicolon_errors", Settings(detect=overrides))
    assert job.detection.row_column["errors"] == "row_number"
    assert job.detection.message_columns == ("error",)
    assert job.errors.get_column("input_row").to_list() == [2, 3]


def test_configured_message_column_that_is_absent_is_noted() -> None:
    """A config written for another tenant's files must say so rather than silently find no messages."""
    job = load_job(
        JOBS / "plain_semicolon_errors", Settings(detect=DetectOverrides(message_columns=("nope",)))
    )
    assert job.errors.get_column("messages").to_list() == [[], []]
    assert any("configured message columns not all found" in n for n in job.detection.notes)


def test_configured_base_alone_does_not_make_an_id_column_a_row_reference() -> None:
    """`row_base = 1` in the config is about the row column; an output `id` must still be checked."""
    frame = pl.DataFrame({"id": ["900", "901"], "item_name": [ITEMS[5], ITEMS[6]], "quantity": ["5", "6"]})
    link = link_rows("output", frame, _source(ITEMS), FIELDS, DetectOverrides(row_base=1))
    assert link.join == "record fields"
    assert link.input_row.to_list() == [6, 7]


def test_empty_row_column_links_nothing_and_says_so() -> None:
    """A job that failed as a whole has one errors row with a blank row reference: it points nowhere."""
    frame = pl.DataFrame({"row": [""], "message": ["The file is missing required columns: uom."]})
    link = link_rows("errors", frame, _source(ITEMS[:3]), FIELDS, NONE)
    assert link.input_row.to_list() == [None]
    assert link.join == "none"
    assert "cannot be linked" in link.notes[-1]


def test_json_cells_that_are_not_lists_are_kept_whole() -> None:
    """One malformed JSON cell must not lose its message or the other rows' messages."""
    cells = ['["The a is bad.", "The b is bad."]', *['["The c."]'] * 4, "[not json] The d."]
    frame = pl.DataFrame({"errors": cells})
    layout = detect_messages(frame, [], NONE)
    assert layout.json_list
    messages = messages_column(frame, layout).to_list()
    assert messages[0] == ["The a is bad.", "The b is bad."]
    assert messages[1:] == [["The c."]] * 4 + [["[not json] The d."]]
