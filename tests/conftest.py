"""Shared fixtures: JobResult values built from small, realistic polars frames, as the pipeline makes them,
and the environment of a run (no CLARET_* variables, retries without waits, a logged-in simulator, a
scripted server, a test CA). A fixture used by more than one test file belongs here.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import polars as pl
import pytest
import stamina
import trustme
from cli_rounds import MASTER, Resubmit, common
from hypothesis import settings as hypothesis_settings
from scripted import TOKEN, Scripted, scripted_server

from claret_errors.claret.models import JobStatus
from claret_errors.results import (
    CategoryCount,
    Counts,
    Detection,
    Finding,
    FixResult,
    JobInfo,
    JobLink,
    JobResult,
    Reconciliation,
)
from claret_errors.simulator import Simulator

# Hypothesis's per-example deadline is a timing assertion, and these machines are shared and noisy.
hypothesis_settings.register_profile("suite", deadline=None)
hypothesis_settings.load_profile("suite")

COLUMNS = ("item_name", "bin_name", "lot_name", "date_filled", "quantity", "uom")

GUESSED_MESSAGE = "Item 999-XX was not found in this cellar."  # no rule's wording: read by its cue words
# (input_row, item, bin, lot, date, qty, uom, [(message, category, field, fix)], owner)
FAILED_ROWS: list[tuple[int, str, str, str, str, str, str, list[tuple[str, str, str, str]], str]] = [
    (
        3,
        "122-16",
        "SS-99",
        "RM19CASRUT.ZAM",
        "2023-08-01",
        "120",
        "Gallon",
        [("The selected bin name is invalid.", "unknown_reference", "bin_name", "suggested")],
        "cellar",
    ),
    (
        5,
        "124",
        "SS-01",
        "RM20PN.ZAM",
        "08/01/2023",
        "40",
        "9LE Case",
        [("The date filled field must match the format Y-m-d.", "invalid_date", "date_filled", "auto")],
        "warehouse",
    ),
    (
        8,
        "ZAMNVCAS19",
        "SS-99",
        "RM19CAS.ZAM",
        "2023-13-45",
        "-5",
        "Gallon",
        [
            ("The selected bin name is invalid.", "unknown_reference", "bin_name", "suggested"),
            ("The date filled field must match the format Y-m-d.", "invalid_date", "date_filled", "manual"),
            ("The quantity field must be greater than 0.", "out_of_range", "quantity", "manual"),
        ],
        "cellar",
    ),
    (
        11,
        "999-XX",
        "T-04",
        "RM21SB.ZAM",
        "2023-09-12",
        "300",
        "Gallon",
        [(GUESSED_MESSAGE, "unknown_reference", "item_name", "manual")],
        "sales",
    ),
    (
        12,
        "124",
        "T-04",
        "RM21SB.ZAM",
        "2023-09-12",
        "12",
        "9LE Case",
        [("Tank T-04 is locked for maintenance", "unclassified", "", "manual")],
        "cellar",
    ),
]


def _confidence(message: str, category: str) -> str:
    """How the classifier read a fixture message: the one guess, the unclassified one, or by a rule."""
    if message == GUESSED_MESSAGE:
        return "guessed"
    return "none" if category == "unclassified" else "rule"


def _frames() -> tuple[pl.DataFrame, pl.DataFrame]:
    failed_rows = []
    message_rows = []
    for row, item, bin_, lot, date, qty, uom, messages, owner in FAILED_ROWS:
        failed_rows.append(
            {
                "input_row": row,
                "item_name": item,
                "bin_name": bin_,
                "lot_name": lot,
                "date_filled": date,
                "quantity": qty,
                "uom": uom,
                "messages": [m[0] for m in messages],
                "categories": sorted({m[1] for m in messages}),
                "fields": [m[2] for m in messages if m[2]],
                "confidences": [_confidence(m[0], m[1]) for m in messages],
                "owner": owner,
            }
        )
        for message, category, fld, fix in messages:
            message_rows.append(
                {
                    "input_row": row,
                    "message": message,
                    "category": category,
                    "field": fld,
                    "fix": fix,
                    "rule": f"builtin.{category}" if _confidence(message, category) == "rule" else "",
                    "confidence": _confidence(message, category),
                }
            )
    return pl.DataFrame(failed_rows), pl.DataFrame(message_rows)


def make_result(tmp: Path, *, job_log_id: str = "4711") -> JobResult:
    """A finished job of 20 rows: 14 imported, 5 failed (3 categories + unclassified), 1 unaccounted."""
    failed, messages = _frames()
    counts = Counts(input_rows=20, imported=14, failed=5, unaccounted=1, anomalies=1)
    categories = [
        CategoryCount("unknown_reference", "bin_name", records=2, messages=2, auto_fixed=0),
        CategoryCount("unknown_reference", "item_name", records=1, messages=1, auto_fixed=0, guessed=1),
        CategoryCount("invalid_date", "date_filled", records=2, messages=2, auto_fixed=1),
        CategoryCount("out_of_range", "quantity", records=1, messages=1, auto_fixed=0),
        CategoryCount("unclassified", "", records=1, messages=1, auto_fixed=0),
    ]
    recon = Reconciliation(
        counts=counts,
        failed=failed,
        messages=messages,
        anomalies=pl.DataFrame(
            {
                "kind": ["in_output_and_errors"],
                "input_row": [7],
                "source": ["inventory_errors.csv:9"],
                "detail": ["row 7 is both imported and failed"],
            }
        ),
        unaccounted=pl.DataFrame({"input_row": [17], "item_name": ["122-16"], "bin_name": ["SS-02"]}),
        categories=categories,
    )
    fixes = FixResult(
        rows=pl.DataFrame(
            {
                "input_row": [3, 5, 8, 11, 12],
                "fix": ["suggested", "auto", "manual", "manual", "manual"],
                "suggestion": ["bin_name: SS-09?", "", "", "item_name: 999-XY?", ""],
            }
        ),
        corrections=pl.DataFrame(
            {
                "input_row": [5],
                "field": ["date_filled"],
                "before": ["08/01/2023"],
                "after": ["2023-08-01"],
                "rule": ["date.us_to_iso"],
            }
        ),
        needs_attention=pl.DataFrame(
            {
                "input_row": [3, 8, 11, 12],
                "item_name": ["122-16", "ZAMNVCAS19", "999-XX", "124"],
                "reason": [
                    "unknown bin SS-99",
                    "bad date and non-positive quantity",
                    "unknown item 999-XX",
                    "unclassified message",
                ],
                "owner": ["cellar", "cellar", "sales", "cellar"],
                "suggestion": ["bin_name: SS-09?", "", "item_name: 999-XY?", ""],
            }
        ),
        corrected_files=[tmp / "corrected" / "inventory_corrected_001.csv"],
        auto_fixed_rows=1,
        suggested_rows=1,
        manual_rows=3,
    )
    return JobResult(
        info=JobInfo(
            tenant="acme-wines",
            job_log_id=job_log_id,
            claret=JobStatus(
                type="inventory-import",
                description="Inventory Import",
                status="completed",
                started_at="2026-11-27T02:00:05+00:00",
                completed_at="2026-11-27T02:03:17+00:00",
                job_status_link=f"https://plan.claret.app/acme-wines/imports/{job_log_id}",
            ),
        ),
        folder=tmp,
        counts=counts,
        categories=categories,
        findings=[
            Finding(
                file="inventory_input.csv",
                check="quantity_is_number",
                message="quantity is not a number",
                column="quantity",
                row=8,
                value="-5",
                severity="warning",
            )
        ],
        detection=Detection(
            encodings={"inventory_input.csv": "utf-8", "inventory_errors.csv": "utf-8"},
            row_column={"errors": "row"},
            row_base={"errors": "1"},
            join={"errors": "row reference"},
            message_columns=("error",),
            message_layout="one message per cell",
            notes=("row numbers in the errors file start at 1",),
        ),
        reconciliation=recon,
        fixes=fixes,
        links=[JobLink("resubmitted_as", "acme-wines", "4712", "inventory_corrected_001.csv")],
        exit_code=3,
    )


@pytest.fixture
def job_result(tmp_path: Path) -> JobResult:
    """A realistic analysed job with failures, corrections and owners."""
    return make_result(tmp_path / "acme-wines" / "4711")


@pytest.fixture
def result_factory(tmp_path: Path) -> Callable[..., JobResult]:
    """Build more job results under the same tenant folder."""

    def build(job_log_id: str = "4711") -> JobResult:
        return make_result(tmp_path / "acme-wines" / job_log_id, job_log_id=job_log_id)

    return build


HOSTILE_CSV = Path(__file__).resolve().parent.parent / "fixtures" / "hostile" / "failed_records.csv"


def make_hostile_result(tmp: Path) -> JobResult:
    """A job whose every cell, message, owner, fact and link tries to escape its report."""
    raw = pl.read_csv(HOSTILE_CSV, infer_schema=False).with_columns(pl.col("input_row").cast(pl.Int64))
    failed = raw.select(
        "input_row",
        *COLUMNS,
        pl.concat_list(pl.col("message")).alias("messages"),
        pl.concat_list(pl.col("category")).alias("categories"),
        pl.concat_list(pl.col("field").fill_null("")).list.filter(pl.element() != "").alias("fields"),
        "owner",
    )
    messages = raw.select(
        "input_row",
        "message",
        "category",
        pl.col("field").fill_null(""),
        pl.lit("manual").alias("fix"),
        pl.lit("<script>rule</script>").alias("rule"),
    )
    counts = Counts(input_rows=6, imported=3, failed=3, unaccounted=0, anomalies=0)
    categories = [
        CategoryCount("unknown_reference", "bin_name", 1, 1),
        CategoryCount("unclassified", "", 1, 1),
        CategoryCount("out_of_range", "quantity", 1, 1),
    ]
    hostile = "<script>alert(7)</script>|`x`"
    return JobResult(
        info=JobInfo(
            tenant="acme-wines",
            job_log_id="666",
            claret=JobStatus(
                type="<b>inventory-import</b>",
                status="completed|`x`",
                started_at="2026-11-27T02:00:00+00:00",
                completed_at="2026-11-27T02:01:00+00:00",
                job_status_link="javascript:alert(6)",
            ),
        ),
        folder=tmp,
        counts=counts,
        categories=categories,
        findings=[Finding(file="</table>.csv", check="x", message=hostile, column="|", value="=1+1")],
        detection=Detection(encodings={"<script>.csv": "utf-8"}, notes=(hostile,)),
        reconciliation=Reconciliation(
            counts=counts,
            failed=failed,
            messages=messages,
            anomalies=pl.DataFrame(
                schema={"kind": pl.String, "input_row": pl.Int64, "source": pl.String, "detail": pl.String}
            ),
            unaccounted=pl.DataFrame(schema={"input_row": pl.Int64}),
            categories=categories,
        ),
        fixes=FixResult(
            rows=pl.DataFrame(
                {
                    "input_row": [2, 4, 6],
                    "fix": ["manual"] * 3,
                    "suggestion": [hostile, "=cmd|' /C calc'!A0", ""],
                }
            ),
            corrections=pl.DataFrame(
                {
                    "input_row": [6],
                    "field": ["quantity"],
                    "before": ["5"],
                    "after": ["</td><script>alert(8)</script>"],
                    "rule": ["x"],
                }
            ),
            needs_attention=pl.DataFrame(
                {
                    "input_row": [2, 4],
                    "reason": [hostile, "</table>"],
                    "owner": ["../../etc/<script>", "cellar|ops"],
                    "suggestion": ["", ""],
                }
            ),
            corrected_files=[],
            auto_fixed_rows=0,
            suggested_rows=0,
            manual_rows=3,
        ),
        exit_code=3,
    )


@pytest.fixture
def hostile_result(tmp_path: Path) -> JobResult:
    """The hostile fixture as a JobResult."""
    return make_hostile_result(tmp_path / "acme-wines" / "666")


@pytest.fixture
def no_backoff(request: pytest.FixtureRequest) -> Iterator[None]:
    """Retries without sleeping: fast tests that still take every retry path. Three attempts, or as many
    as the test's `retry_attempts(n)` mark says."""
    marker = request.node.get_closest_marker("retry_attempts")
    with stamina.set_testing(True, attempts=marker.args[0] if marker else 3):
        yield


@pytest.fixture
def no_claret_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, no_backoff: None) -> None:
    """A run in tmp_path with no CLARET_* variable of the machine's, and retries without waits."""
    monkeypatch.chdir(tmp_path)
    for var in [v for v in os.environ if v.startswith("CLARET_")]:
        monkeypatch.delenv(var)


@pytest.fixture
def token_env(no_claret_env: None, monkeypatch: pytest.MonkeyPatch) -> str:
    """A run in tmp_path whose only credential is a token in the environment (CLARET_TOKEN); the token."""
    monkeypatch.setenv("CLARET_TOKEN", TOKEN)
    return TOKEN


@pytest.fixture
def logged_in_sim(no_claret_env: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[Simulator]:
    """A fast simulator whose login (CLARET_EMAIL, CLARET_PASSWORD) is in the environment, as cron has it."""
    with Simulator(seed=21, speed=0.0) as simulator:
        monkeypatch.setenv("CLARET_EMAIL", simulator.email)
        monkeypatch.setenv("CLARET_PASSWORD", simulator.password)
        yield simulator


@pytest.fixture
def sim(logged_in_sim: Simulator, tmp_path: Path) -> Simulator:
    """The logged-in simulator, with the master data in the working directory's config file, as the CLI
    tests run it (a module that needs another tenant or seed defines its own `sim`)."""
    (tmp_path / "claret-errors.toml").write_text(f'master_data = "{MASTER}"\n')
    return logged_in_sim


@pytest.fixture
def resubmit(sim: Simulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Resubmit:
    """`claret-errors resubmit ARGS...` against the simulator: exit code, stdout, stderr."""
    from claret_errors.cli import main

    def run(*args: str) -> tuple[int, str, str]:
        code = main(["resubmit", *args, *common(sim, tmp_path)])
        out, err = capsys.readouterr()
        return code, out, err

    return run


@pytest.fixture
def server() -> Iterator[Scripted]:
    """A scripted HTTP server on loopback, for answers the simulator cannot give on purpose."""
    with scripted_server() as script:
        yield script


@pytest.fixture(scope="session")
def ca() -> trustme.CA:
    """A throwaway certificate authority for the TLS servers the tests start."""
    return trustme.CA()
