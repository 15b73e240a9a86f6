"""Reconciliation on small jobs built by hand: every input row accounted for once, anomalies listed."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from claret_errors.config import RuleSpec, Settings
from claret_errors.reconcile.accounting import reconcile
from claret_errors.results import Detection, JobInfo, LoadedJob

COLUMNS = ("item_name", "bin_name", "lot_name", "date_filled", "quantity", "uom")


def _records(rows: Sequence[int | None], file: str) -> dict[str, list[object]]:
    """Columns of artifact rows that point at the given input rows (None: no row reference)."""
    return {
        "input_row": list(rows),
        **{c: [f"{c}-{r}" for r in rows] for c in COLUMNS},
        "_source_file": [file] * len(rows),
        "_source_line": list(range(2, 2 + len(rows))),
    }


def make_job(
    n_input: int,
    output_rows: list[int | None],
    error_rows: list[int | None],
    messages: list[list[str]],
    staging_rows: list[int | None] | None = None,
) -> LoadedJob:
    """A LoadedJob as load.py would give it: frames of text with `input_row` resolved."""
    schema = {
        "input_row": pl.Int64,
        **dict.fromkeys(COLUMNS, pl.String),
        "_source_file": pl.String,
        "_source_line": pl.Int64,
    }
    inputs = pl.DataFrame(_records(list(range(1, n_input + 1)), "input.csv"), schema=schema)
    output = pl.DataFrame(_records(output_rows, "output.csv"), schema=schema)
    staging = pl.DataFrame(_records(staging_rows or [], "staging.csv"), schema=schema)
    errors = pl.DataFrame(_records(error_rows, "errors.csv"), schema=schema).with_columns(
        pl.Series("messages", messages, dtype=pl.List(pl.String))
    )
    return LoadedJob(
        path=Path("job"),
        info=JobInfo(tenant="t", job_log_id="1"),
        profile="inventory",
        input=inputs,
        staging=staging,
        output=output,
        errors=errors,
        input_columns=COLUMNS,
        input_headers=COLUMNS,
        files={},
        detection=Detection(),
    )


def test_every_input_row_is_exactly_one_of_imported_failed_unaccounted() -> None:
    """The accounting is the promise of the tool: the three counts partition the input."""
    job = make_job(
        6,
        output_rows=[1, 2, 3],
        error_rows=[4, 5],
        messages=[["The selected bin name is invalid."], ["The quantity field must be a number."]],
    )
    result = reconcile(job, Settings())
    assert result.counts.input_rows == 6
    assert (result.counts.imported, result.counts.failed, result.counts.unaccounted) == (3, 2, 1)
    assert result.counts.adds_up()
    assert result.counts.anomalies == 0
    assert result.unaccounted["input_row"].to_list() == [6]
    assert result.failed["input_row"].to_list() == [4, 5]


def test_row_with_several_messages_keeps_all_of_them() -> None:
    """A record rejected for two reasons must show both, or its fix is half done."""
    job = make_job(
        2,
        output_rows=[1],
        error_rows=[2],
        messages=[["The selected item name is invalid.", "The date filled field must be a valid date."]],
    )
    result = reconcile(job, Settings())
    row = result.failed.row(0, named=True)
    assert row["messages"] == [
        "The selected item name is invalid.",
        "The date filled field must be a valid date.",
    ]
    assert row["categories"] == ["unknown_reference", "invalid_date"]
    assert row["fields"] == ["item_name", "date_filled"]
    assert result.messages.height == 2
    assert set(result.messages["input_row"].to_list()) == {2}


def test_same_input_row_on_several_error_rows_adds_messages_without_anomaly() -> None:
    """Claret may write one errors row per message: that is a layout, not a duplicate."""
    job = make_job(
        1,
        output_rows=[],
        error_rows=[1, 1],
        messages=[["The item name field is required."], ["The uom field is required."]],
    )
    result = reconcile(job, Settings())
    assert result.counts.failed == 1
    assert result.counts.anomalies == 0
    assert result.failed["fields"].to_list() == [["item_name", "uom"]]


def test_row_in_output_and_errors_counts_as_failed_and_is_an_anomaly() -> None:
    """A row Claret both imported and rejected must not be reported as landed."""
    job = make_job(2, output_rows=[1, 2], error_rows=[2], messages=[["The selected lot name is invalid."]])
    result = reconcile(job, Settings())
    assert (result.counts.imported, result.counts.failed, result.counts.unaccounted) == (1, 1, 0)
    assert result.anomalies["kind"].to_list() == ["in_output_and_errors"]
    assert result.anomalies["input_row"].to_list() == [2]
    assert result.anomalies["source"].to_list() == ["output.csv:3"]


def test_duplicates_and_rows_without_input_are_listed_as_anomalies() -> None:
    """Rows that do not fit the one-input-row-one-outcome model are counted, never silently dropped."""
    job = make_job(
        3,
        output_rows=[1, 1, 9, None],
        error_rows=[2, 2, None],
        messages=[["The selected uom is invalid."], ["The selected uom is invalid."], ["Odd orphan message"]],
    )
    result = reconcile(job, Settings())
    kinds = sorted(result.anomalies["kind"].to_list())
    assert kinds == [
        "duplicate_in_errors",
        "duplicate_in_output",
        "errors_without_input",
        "output_without_input",
        "output_without_input",
    ]
    assert result.counts.anomalies == 5
    assert (result.counts.imported, result.counts.failed, result.counts.unaccounted) == (1, 1, 1)
    # the duplicate errors row is one failure with one message, the orphan's message is still classified
    assert result.failed["messages"].to_list() == [["The selected uom is invalid."]]
    orphan = result.messages.filter(pl.col("input_row").is_null())
    assert orphan["message"].to_list() == ["Odd orphan message"]
    assert orphan["category"].to_list() == ["unclassified"]


def test_categories_count_records_and_messages_with_unclassified_first() -> None:
    """A new kind of failure is shown first so it is never hidden below the familiar ones."""
    job = make_job(
        4,
        output_rows=[],
        error_rows=[1, 2, 3, 4],
        messages=[
            ["The selected bin name is invalid."],
            ["The selected bin name is invalid.", "The selected bin_name is invalid."],
            ["The selected bin name is invalid."],
            ["The moon is in the wrong phase"],
        ],
    )
    result = reconcile(job, Settings())
    table = [(c.category, c.field, c.records, c.messages, c.auto_fixed) for c in result.categories]
    assert table == [("unclassified", "", 1, 1, 0), ("unknown_reference", "bin_name", 3, 4, 0)]
    assert sum(c.messages for c in result.categories) == result.messages.height


def test_user_rule_from_settings_classifies_and_names_itself() -> None:
    """Users teach the tool new wordings in claret-errors.toml, and the report says which rule matched."""
    settings = Settings(rules=(RuleSpec(name="frozen-tank", pattern="frozen", category="not_allowed"),))
    job = make_job(1, output_rows=[], error_rows=[1], messages=[["Tank is frozen"]])
    result = reconcile(job, settings)
    assert result.messages.select("category", "rule").row(0) == ("not_allowed", "frozen-tank")


def test_owner_column_routes_each_failed_record(tmp_path: Path) -> None:
    """Failed records reach the person who can fix them, via the owners file of the settings."""
    owners = tmp_path / "owners.toml"
    owners.write_text('default = "data-team"\n[[route]]\nowner = "cellar"\nbin_name = "-2$"\n')
    job = make_job(
        3,
        output_rows=[],
        error_rows=[1, 2],
        messages=[["The selected bin name is invalid."], ["The selected bin name is invalid."]],
    )
    result = reconcile(job, Settings(owners=owners))
    assert result.failed.select("input_row", "owner").rows() == [(1, "data-team"), (2, "cellar")]


@pytest.mark.parametrize("n_input", [0, 1])
def test_empty_job_adds_up(n_input: int) -> None:
    """An empty or untouched job is still a valid accounting, not a crash."""
    result = reconcile(make_job(n_input, [], [], []), Settings())
    assert result.counts.adds_up()
    assert result.counts.unaccounted == n_input
    assert result.categories == []


def test_unaccounted_rows_say_whether_staging_saw_them() -> None:
    """A row validated in staging but missing from output points at Claret, not at the data."""
    job = make_job(2, output_rows=[], error_rows=[], messages=[], staging_rows=[2])
    result = reconcile(job, Settings())
    assert result.unaccounted.select("input_row", "in_staging").rows() == [(1, False), (2, True)]


def test_missing_artifact_frames_without_columns_reconcile_as_empty() -> None:
    """A job with no errors or output file yet must still account for its input, not crash on columns."""
    job = make_job(2, output_rows=[1], error_rows=[], messages=[])
    job.errors = pl.DataFrame()
    job.staging = pl.DataFrame()
    result = reconcile(job, Settings())
    assert (result.counts.imported, result.counts.failed, result.counts.unaccounted) == (1, 0, 1)
    assert result.messages.columns == [
        "input_row",
        "message",
        "category",
        "field",
        "fix",
        "rule",
        "confidence",
        "advice",
    ]


def test_input_column_named_like_an_added_column_is_kept_apart() -> None:
    """An input header `owner` must not be overwritten by the routed owner, nor break the join."""
    job = make_job(1, output_rows=[], error_rows=[1], messages=[["The selected uom is invalid."]])
    job.input = job.input.rename({"uom": "owner"})
    job.input_columns = ("item_name", "bin_name", "lot_name", "date_filled", "quantity", "owner")
    result = reconcile(job, Settings())
    row = result.failed.row(0, named=True)
    assert row["owner_input"] == "uom-1"
    assert row["owner"] == "unassigned"


@settings(max_examples=60, deadline=None)
@given(
    n_input=st.integers(0, 12),
    output_rows=st.lists(st.one_of(st.none(), st.integers(0, 15)), max_size=15),
    error_rows=st.lists(st.one_of(st.none(), st.integers(0, 15)), max_size=15),
)
def test_counts_always_add_up_and_buckets_partition_the_input(
    n_input: int, output_rows: list[int | None], error_rows: list[int | None]
) -> None:
    """Whatever Claret writes (repeats, strays, rows in both), the report never claims an impossible count."""
    messages = [["The selected uom is invalid."] for _ in error_rows]
    result = reconcile(make_job(n_input, output_rows, error_rows, messages), Settings())
    everyone = set(range(1, n_input + 1))
    failed = set(result.failed["input_row"].to_list())
    unaccounted = set(result.unaccounted["input_row"].to_list())
    assert result.counts.adds_up()
    assert failed == everyone & {r for r in error_rows if r is not None}
    assert unaccounted == everyone - failed - {r for r in output_rows if r is not None}
    assert result.counts.anomalies == result.anomalies.height
    assert (
        result.messages.height
        == len(error_rows) - result.anomalies.filter(pl.col("kind") == "duplicate_in_errors").height
    )


def test_generic_profile_messages_keep_the_file_own_column_names() -> None:
    """A sales import has a column `item`: its messages must point there, not at inventory's item_name."""
    job = make_job(1, output_rows=[], error_rows=[1], messages=[["The selected item is invalid."]])
    job.profile = "generic"
    result = reconcile(job, Settings())
    assert result.messages.select("category", "field").row(0) == ("unknown_reference", "item")


def test_cell_with_several_unseparated_messages_becomes_one_row_per_message() -> None:
    """A cell loading could not split must still show each reason, not one unclassified blob."""
    cell = (
        "There was an error on row 1. The selected bin name is invalid. "
        "There was an error on row 1. The uom field is required."
    )
    job = make_job(
        1,
        output_rows=[],
        error_rows=[1],
        messages=[[cell, "The moon is in the wrong phase. Call the cellar."]],
    )
    result = reconcile(job, Settings())
    assert result.messages.select("category", "field").rows() == [
        ("unknown_reference", "bin_name"),
        ("missing_value", "uom"),
        ("unclassified", ""),
    ]
    assert result.messages["message"][2] == "The moon is in the wrong phase. Call the cellar."


@settings(max_examples=40, deadline=None)
@given(
    n_input=st.integers(0, 12),
    output_rows=st.lists(st.one_of(st.none(), st.integers(0, 15)), max_size=15),
    error_rows=st.lists(st.one_of(st.none(), st.integers(0, 15)), max_size=15),
)
def test_input_rows_not_numbered_one_to_n_reconcile_the_same(
    n_input: int, output_rows: list[int | None], error_rows: list[int | None]
) -> None:
    """Rows 1..n take a fast range test; any other numbering must give the same accounting by set lookup."""
    messages = [["The selected uom is invalid."] for _ in error_rows]
    plain = reconcile(make_job(n_input, output_rows, error_rows, messages), Settings())
    job = make_job(n_input, output_rows, error_rows, messages)
    spread = pl.col("input_row") * 2 + 1  # 3, 5, 7, ...: same rows, not 1..n
    job.input, job.output, job.errors = (f.with_columns(spread) for f in (job.input, job.output, job.errors))
    renumbered = reconcile(job, Settings())
    assert renumbered.counts == plain.counts
    for name in ("failed", "unaccounted", "messages", "anomalies"):
        before = getattr(plain, name).with_columns(spread).drop("detail", strict=False)
        assert getattr(renumbered, name).drop("detail", strict=False).equals(before), name
