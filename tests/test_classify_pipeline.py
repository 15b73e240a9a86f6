"""Classification as the rest of the run sees it: confidence in messages.csv and summary.json, advice on
each message, and guesses never fixed automatically. Plain job folders on disk, analysed for real."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from plain_jobs import plain_job

from claret_errors.config import Settings, load_settings
from claret_errors.pipeline import analyze_job
from claret_errors.reconcile.advice import advice_for, builtin_advice
from claret_errors.reconcile.classify import RulePack


def _job(folder: Path, errors: list[tuple[str, str]]) -> Path:
    """A plain folder: rows 1 and 4 imported, the rows of `errors` (values, message) failed."""
    rows = [
        "122-16,SS-01,L1,2023-08-01,10,Gallon",
        "124,ss-01,L2,2023-08-02,5,Gallon",
        "125,ss-01,L3,2023-08-03,3,Gallon",
        "126,SS-01,L4,2023-08-04,3,Gallon",
    ]
    return plain_job(folder, rows, [rows[0], rows[3]], errors)


def _csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_guessed_reference_is_left_to_a_person_while_the_rule_match_is_fixed(tmp_path: Path) -> None:
    """The same bad bin is fixed when a rule read the message and left alone when only a guess did."""
    job = _job(
        tmp_path / "job",
        [
            ("124,ss-01,L2,2023-08-02,5,Gallon", "The selected bin name is invalid."),
            ("125,ss-01,L3,2023-08-03,3,Gallon", "The bin name does not exist in the system."),
        ],
    )
    result = analyze_job(job, Settings(out=tmp_path / "out"), use_history=False)
    folder = result.folder
    messages = _csv(folder / "messages.csv")
    assert [(m["input_row"], m["category"], m["field"], m["confidence"]) for m in messages] == [
        ("2", "unknown_reference", "bin_name", "rule"),
        ("3", "unknown_reference", "bin_name", "guessed"),
    ]
    assert [(c["input_row"], c["field"], c["after"]) for c in _csv(folder / "corrections_log.csv")] == [
        ("2", "bin_name", "SS-01")
    ]
    assert [row["input_row"] for row in _csv(folder / "needs_attention.csv")] == ["3"]
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    assert summary["classification"] == {"rule": 1, "guessed": 1, "none": 0}


def test_each_message_carries_its_rule_and_plain_advice(tmp_path: Path) -> None:
    """Reports and worksheets show the advice beside the message: it comes with the classification."""
    job = _job(
        tmp_path / "job",
        [
            ("124,ss-01,L2,2023-08-02,5,Gallon", "Record update is not allowed for this import."),
            ("125,ss-01,L3,2023-08-03,3,Gallon", "The moon is in the wrong phase."),
        ],
    )
    result = analyze_job(job, Settings(out=tmp_path / "out"), use_history=False)
    assert result.reconciliation is not None
    rows = result.reconciliation.messages.select("rule", "confidence", "advice").rows()
    assert rows == [
        ("claret.update_not_allowed", "rule", builtin_advice().by_rule["claret.update_not_allowed"]),
        ("", "none", advice_for("unclassified")),
    ]
    assert "ask the data team to re-run it with updates allowed" in rows[0][2]


def test_user_rule_advice_from_the_config_is_shown_for_its_wording(tmp_path: Path) -> None:
    """A tenant's own wording gets the tenant's own advice, placeholders and all."""
    (tmp_path / "claret-errors.toml").write_text(
        '[[rules]]\nname = "tank-frozen"\npattern = "^The (?P<attr>[a-z ]+) is frozen"\n'
        'category = "not_allowed"\nadvice = "Ask the cellar to unfreeze the {field}."\n',
        encoding="utf-8",
    )
    pack = RulePack.from_settings(load_settings(env={}, cwd=tmp_path))
    got = pack.classify("The bin name is frozen until Monday.")
    assert (got.rule, got.field, got.advice) == (
        "tank-frozen",
        "bin_name",
        "Ask the cellar to unfreeze the bin.",
    )


def test_advice_names_the_limits_the_message_gave() -> None:
    """ "Make the quantity greater than 0" says what to do; a bare category sentence would not."""
    got = RulePack.builtin().classify(
        "There was an error on row 3. The quantity field must be greater than 0."
    )
    assert got.advice == "Make the quantity greater than 0."
    got = RulePack.builtin().classify("The lot name must not be greater than 255 characters.")
    assert got.advice == "Shorten the lot to at most 255 characters."


def test_guess_reads_the_files_own_header_names(tmp_path: Path) -> None:
    """A sales file's own "Ship From" column is the field of a message that names it."""
    job = tmp_path / "sales"
    job.mkdir()
    header = "item,Ship From,date,quantity,supply_type\n"
    rows = ["122-16,WH-1,2024-01-02,5,po", "124,WH-9,2024-01-03,2,po"]
    (job / "input.csv").write_text(header + "\n".join(rows) + "\n", encoding="utf-8")
    (job / "output.csv").write_text(header + rows[0] + "\n", encoding="utf-8")
    (job / "errors.csv").write_text(
        header.strip() + ",Error Message\n" + rows[1] + ",Ship From WH-9 was not found.\n", encoding="utf-8"
    )
    result = analyze_job(job, Settings(out=tmp_path / "out"), use_history=False)
    assert result.reconciliation is not None
    assert result.reconciliation.messages.select("field", "category", "confidence").rows() == [
        ("ship_from", "unknown_reference", "guessed")
    ]
