"""The simulator's import engine, artifact variants, message catalogue and nightly generator, without HTTP."""

from __future__ import annotations

import csv
import io
import json

import pytest

from claret_errors.config import CATEGORIES
from claret_errors.fields import INVENTORY_FIELDS
from claret_errors.simulator import Simulator, Variant, make_nightly_csv
from claret_errors.simulator import messages as catalogue
from claret_errors.simulator.artifacts import error_files
from claret_errors.simulator.engine import validate
from claret_errors.simulator.master import Inventory, load_master

HEADER = ",".join(INVENTORY_FIELDS)


def run(lines: list[str], variant: Variant | None = None, **flags: bool):  # type: ignore[no-untyped-def]
    """Validate a small file against the fixture master data and a fresh inventory."""
    master = load_master()
    data = "\n".join([HEADER, *lines]).encode()
    return validate(data, master, Inventory.from_master(master), variant or Variant(), **flags)


def rows_of(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8"), newline="")))


def test_each_rule_yields_its_category_field_and_laravel_10_message() -> None:
    """Ground truth is what classify is scored against: category, field and text must be exact."""
    outcome = run(
        [
            "124,SS-01,RM19CASRUT.ZAM,2023-08-01,40,Each",
            ",SS-01,RM19CASRUT.ZAM,2023-08-01,40,Each",
            "124,SS-99,RM19CASRUT.ZAM,2023-08-01,40,Each",
            "124,SS-02,RM19CASRUT.ZAM,08/01/2023,40,Each",
            "124,SS-03,RM19CASRUT.ZAM,2023-02-30,40,Each",
            '124,SS-04,RM19CASRUT.ZAM,2023-08-01,"1,200",Each',
            "124,SS-05,RM19CASRUT.ZAM,2023-08-01,0,Each",
            f"124,SS-06,{'L' * 256},2023-08-01,4,Each",
            "124,SS-07,RM19CASRUT.ZAM,2023-08-01,4,gal",
        ]
    )
    got = [
        (t.input_row, t.outcome, [(r.category, r.field, r.message) for r in t.reasons]) for t in outcome.truth
    ]
    assert got == [
        (1, "imported", []),
        (2, "failed", [("missing_value", "item_name", "The item name field is required.")]),
        (3, "failed", [("unknown_reference", "bin_name", "The selected bin name is invalid.")]),
        (
            4,
            "failed",
            [("invalid_date", "date_filled", "The date filled field must match the format Y-m-d.")],
        ),
        (
            5,
            "failed",
            [("invalid_date", "date_filled", "The date filled field must match the format Y-m-d.")],
        ),
        (6, "failed", [("invalid_number", "quantity", "The quantity field must be a number.")]),
        (7, "failed", [("out_of_range", "quantity", "The quantity field must be greater than 0.")]),
        (
            8,
            "failed",
            [("out_of_range", "lot_name", "The lot name field must not be greater than 255 characters.")],
        ),
        (9, "failed", [("unknown_reference", "uom", "The selected uom is invalid.")]),
    ]


def test_a_row_with_several_failures_gets_every_message_in_field_order() -> None:
    """Several messages per row is the hard case for loaders; the truth must list them all."""
    outcome = run(["999,SS-01,RM19CASRUT.ZAM,yesterday,-1,Each"])
    assert [(r.category, r.field) for r in outcome.truth[0].reasons] == [
        ("unknown_reference", "item_name"),
        ("invalid_date", "date_filled"),
        ("out_of_range", "quantity"),
    ]


def test_cells_are_trimmed_but_references_match_case_and_inner_spaces_exactly() -> None:
    """Outer spaces land (staging is trimmed); wrong case and doubled spaces are what a fixer fixes."""
    outcome = run(
        [
            " 124 ,SS-01 ,RM19CASRUT.ZAM,2023-08-01, 40,Each",
            "124,ss-02,RM19CASRUT.ZAM,2023-08-01,40,Each",
            "124,SS-03,RM19CASRUT.ZAM,2023-08-01,40,9LE  Case",
        ]
    )
    assert [t.outcome for t in outcome.truth] == ["imported", "failed", "failed"]
    assert outcome.values[0]["item_name"] == "124" and outcome.values[0]["quantity"] == "40"


def test_unit_abbreviations_are_accepted_like_names() -> None:
    """uom is 'name or abbreviation' per the spec."""
    assert [t.outcome for t in run(["124,SS-01,BT19CHA01,2023-08-01,4,GAL"]).truth] == ["imported"]


def test_a_repeated_record_within_a_file_is_a_duplicate_after_its_first_occurrence() -> None:
    """Only the later copy fails: the first one lands, as Claret's unique check would do."""
    outcome = run(["124,SS-01,BT19CHA01,2023-08-01,4,Each", "124,SS-01,BT19CHA01,2023-09-01,5,Each"])
    assert outcome.truth[0].outcome == "imported"
    assert [(r.category, r.field) for r in outcome.truth[1].reasons] == [("duplicate", "item_name")]


def test_creation_and_update_rights_are_checked_against_the_inventory() -> None:
    """allow_record_creation / allow_record_update decide not_allowed against the tenant's inventory."""
    existing = load_master().inventory[0]
    known = ",".join(existing[f] for f in INVENTORY_FIELDS)
    new = "124,SS-01,BT19CHA01,2023-08-01,4,Each"
    refused = run([known, new], allow_record_creation=False, allow_record_update=False)
    assert [r.message for t in refused.truth for r in t.reasons] == [
        "Record update is not allowed for this import.",
        "Record creation is not allowed for this import.",
    ]
    assert {r.category for t in refused.truth for r in t.reasons} == {"not_allowed"}
    allowed = run([known, new], allow_record_update=True)
    assert [t.action for t in allowed.truth] == ["updated", "created"]


@pytest.mark.parametrize(
    "data",
    [b"", b"\xff\xfe\x00garbage", b'item_name,bin_name\n"open,SS-01\n', b"item_name,quantity\n124,4\n"],
    ids=["empty", "not-utf8", "unterminated-quote", "missing-columns"],
)
def test_a_file_that_cannot_be_read_is_a_parse_error(data: bytes) -> None:
    """These make the whole job fail: the outcome must say so and why."""
    master = load_master()
    outcome = validate(data, master, Inventory.from_master(master), Variant())
    assert outcome.failed and outcome.parse_error


def test_ragged_rows_are_a_parse_error_naming_the_line() -> None:
    """A row with the wrong number of fields fails the file, with the line a person can find."""
    outcome = run(["124,SS-01,BT19CHA01,2023-08-01,4,Each", "124,SS-01,BT19CHA01"])
    assert outcome.parse_error is not None and "line 3" in outcome.parse_error


def test_laravel_9_variant_with_underscores_prefix_and_zero_based_rows() -> None:
    """The older tenant's errors file: prefixed messages, 0-based row_number, ' | ' between messages."""
    variant = Variant(wording="laravel9", attribute_style="underscores", row_prefix=True, row_base=0,
                      row_column="row_number", message_column="errors", separator=" | ")  # fmt: skip
    outcome = run(["124,SS-01,BT19CHA01,2023-08-01,4,Each", "124,SS-99,BT19CHA01,2023/08/01,4,Each"], variant)
    [(name, data)] = error_files(outcome, variant, "inventory_20240101").items()
    assert name == "inventory_20240101_errors.csv"
    [row] = rows_of(data)
    assert row["row_number"] == "1"
    assert row["errors"] == (
        "There was an error on row 1. The selected bin_name is invalid. | "
        "There was an error on row 1. The date_filled does not match the format Y-m-d."
    )


@pytest.mark.parametrize("layout", ["rows", "columns", "json"])
def test_several_messages_per_row_in_every_layout(layout: str) -> None:
    """Loaders must cope with one row per message, one column per message, or a JSON list."""
    variant = Variant(layout=layout, row_base=2, row_column="line")  # type: ignore[arg-type]
    outcome = run(["124,SS-99,BT19CHA01,2023/08/01,4,Each"], variant)
    data = next(iter(error_files(outcome, variant, "x").values()))
    rows = rows_of(data)
    messages = ["The selected bin name is invalid.", "The date filled field must match the format Y-m-d."]
    if layout == "rows":
        assert [r["error"] for r in rows] == messages and {r["line"] for r in rows} == {"2"}
    elif layout == "columns":
        assert [rows[0]["error_1"], rows[0]["error_2"]] == messages
    else:
        assert json.loads(rows[0]["error"]) == messages


def test_newline_joined_messages_stay_in_one_quoted_cell() -> None:
    """RFC 4180 quoting must keep a multi-line cell to one record."""
    variant = Variant(separator="\n")
    outcome = run(["124,SS-99,BT19CHA01,2023/08/01,4,Each"], variant)
    [row] = rows_of(next(iter(error_files(outcome, variant, "x").values())))
    assert row["error"].count("\n") == 1


def test_errors_can_be_split_over_several_numbered_files() -> None:
    """Several files per category: the loader must read them all and keep every row once."""
    variant = Variant(files_per_category=2)
    outcome = run([f"124,SS-99,BT19CHA01,2023-08-01,{n},Each" for n in range(1, 6)], variant)
    files = error_files(outcome, variant, "inv")
    assert sorted(files) == ["inv_errors_1.csv", "inv_errors_2.csv"]
    assert sorted(int(r["row"]) for d in files.values() for r in rows_of(d)) == [1, 2, 3, 4, 5]


def test_errors_file_keeps_the_input_columns_as_sent() -> None:
    """The errors file repeats the raw input (untrimmed, own headers), then the row reference and messages."""
    master = load_master()
    data = b"Item Name,bin_name,lot_name,date_filled,quantity,uom\n 999 ,SS-01,BT19CHA01,2023-08-01,4,Each\n"
    outcome = validate(data, master, Inventory.from_master(master), Variant())
    [row] = rows_of(next(iter(error_files(outcome, Variant(), "x").values())))
    assert list(row)[:2] == ["Item Name", "bin_name"] and row["Item Name"] == " 999 "


def test_catalogue_has_every_rule_in_every_wording_and_only_taxonomy_categories() -> None:
    """Tests enumerate the catalogue; a rule missing from one wording would crash a variant."""
    for wording in catalogue.WORDINGS:
        assert set(catalogue.TEMPLATES[wording]) == set(catalogue.CATEGORY_OF_RULE)
    assert set(catalogue.CATEGORY_OF_RULE.values()) <= set(CATEGORIES)
    assert catalogue.render("gt", "quantity", "laravel9", "spaces") == "The quantity must be greater than 0."
    assert catalogue.render("date_format", "date_filled", "laravel10", "underscores") == (
        "The date_filled field must match the format Y-m-d."
    )


def test_nightly_csv_is_deterministic_by_seed() -> None:
    """The demo and other tests rely on the same file for the same seed."""
    assert make_nightly_csv(200, seed=3) == make_nightly_csv(200, seed=3)
    assert make_nightly_csv(200, seed=3) != make_nightly_csv(200, seed=4)


def test_nightly_csv_has_every_error_category_and_auto_fixable_forms() -> None:
    """A realistic night: most rows land, every taxonomy category fails somewhere, and some are fixable."""
    data = make_nightly_csv(300, seed=11)
    rows = rows_of(data)
    assert len(rows) == 300 and list(rows[0]) == list(INVENTORY_FIELDS)
    with Simulator(speed=0) as sim:
        truth = sim.ground_truth(sim.submit_csv(data))
    failed = [t for t in truth if t.outcome == "failed"]
    assert 0.05 <= len(failed) / len(truth) <= 0.15
    categories = {r.category for t in failed for r in t.reasons}
    assert categories == set(CATEGORIES) - {"unclassified"}
    cells = {c for r in rows for c in r.values()}
    assert any("/" in c and c[:2].isdigit() for c in cells)  # 08/01/2023-style dates
    assert any("," in c for c in cells) or any(c.endswith(" gal") for c in cells)  # "1,200" or "12 gal"


def test_nightly_csv_without_errors_lands_every_row() -> None:
    """error_share=0 gives a clean file: the 'every record landed' path (exit 0)."""
    with Simulator(speed=0) as sim:
        truth = sim.ground_truth(sim.submit_csv(make_nightly_csv(120, seed=5, error_share=0)))
    assert {t.outcome for t in truth} == {"imported"} and len(truth) == 120


def test_each_tenant_writes_its_own_variant() -> None:
    """Two tenants of one simulator can disagree on layout; per-tenant detection must be possible."""
    data = b"item_name,bin_name,lot_name,date_filled,quantity,uom\n124,SS-99,BT19CHA01,2023/08/01,4,Each\n"
    with Simulator("json-messages", speed=0, tenants=("demo", "north", "south")) as sim:
        sim.set_variant("south", Variant(row_column="line_no", message_column="problem"))
        headers = {}
        for tenant in sim.tenants:
            files = sim.job(sim.submit_csv(data, tenant=tenant), tenant).files["errors"]
            headers[tenant] = list(rows_of(next(iter(files.values())))[0])[6:]
    assert headers == {
        "demo": ["row", "error_message"],
        "north": ["row", "error_message_1", "error_message_2"],
        "south": ["line_no", "problem"],
    }


def test_the_uploaded_file_name_is_kept_while_the_stored_copy_is_renamed() -> None:
    """Claret stores uploads as inventory_YYYYMMDD_untouched.csv whatever they were called."""
    with Simulator(speed=0) as sim:
        job = sim.job(sim.submit_csv(make_nightly_csv(3, seed=1), "night shift.csv"))
    assert job.upload_name == "night shift.csv"
    [name] = job.files["input"]
    assert name.startswith("inventory_") and name.endswith("_untouched.csv")


def test_nightly_csv_of_zero_rows_is_just_the_header() -> None:
    """An empty night is legal and must not invent rows."""
    assert make_nightly_csv(0, seed=1).decode().strip() == HEADER


def test_bom_variant_starts_every_generated_file_with_a_byte_order_mark() -> None:
    """Excel-made exports carry a BOM; the loader must not read it into the first header."""
    with Simulator("laravel9-prefixed", speed=0) as sim:
        job = sim.job(sim.submit_csv(make_nightly_csv(20, seed=1)))
    for category in ("staging", "output", "errors"):
        assert all(data.startswith(b"\xef\xbb\xbf") for data in job.files[category].values()), category
    assert not next(iter(job.files["input"].values())).startswith(b"\xef\xbb\xbf")  # input stays as sent


def test_anomalies_scenario_makes_files_disagree_with_the_truth() -> None:
    """Reconcile's anomaly checks need files that lie: unaccounted, in both, twice in output."""
    data = make_nightly_csv(6, seed=4, error_share=0)
    with Simulator("anomalies", speed=0) as sim:
        job_id = sim.submit_csv(data)
        job, truth = sim.job(job_id), sim.ground_truth(job_id)
    output = [int(r["row"]) for d in job.files["output"].values() for r in rows_of(d)]
    errors = [(int(r["row"]), r["error"]) for d in job.files["errors"].values() for r in rows_of(d)]
    assert {t.outcome for t in truth} == {"imported"}
    assert output == [1, 3, 4, 4, 5, 6]
    assert errors == [(3, catalogue.NOT_CONFIRMED)]
