"""The nightly generator at sizes past the master data's free keys, and the shipped demo file it made."""

from __future__ import annotations

import csv
import io

from claret_errors.fields import INVENTORY_FIELDS
from claret_errors.resources import fixtures_dir
from claret_errors.simulator import Variant, make_nightly_csv
from claret_errors.simulator.artifacts import write_csv
from claret_errors.simulator.engine import validate
from claret_errors.simulator.master import Inventory, load_master

JOB_SIZE = 1000  # Claret's limit of records per import request


def test_a_file_larger_than_the_master_data_has_keys_still_makes_valid_jobs() -> None:
    """200k rows, past the 28,776 free item/bin/lot keys: each 1000-row job fails only its bad share."""
    data = make_nightly_csv(200_000, seed=3)
    header, *rows = list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))
    assert header == list(INVENTORY_FIELDS) and len(rows) == 200_000
    master = load_master()
    for start in (0, 28_000, 199_000):  # before, across and long after the keys start over
        job = rows[start : start + JOB_SIZE]
        outcome = validate(write_csv(header, job), master, Inventory.from_master(master), Variant())
        failed = sum(t.outcome == "failed" for t in outcome.truth)
        assert 0.03 <= failed / JOB_SIZE <= 0.15, (start, failed)


def test_the_shipped_demo_file_is_the_generators_own() -> None:
    """fixtures/README says how the demo file was made; the generator must still make exactly it."""
    shipped = (fixtures_dir() / "demo" / "nightly_inventory.csv").read_bytes()
    assert make_nightly_csv(2600, seed=2026) == shipped
