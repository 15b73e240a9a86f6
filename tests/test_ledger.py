"""The resubmission ledger: a file is never sent twice, an unknown outcome is kept, links survive reruns."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from claret_errors.errors import ConfigError
from claret_errors.files.lock import FileLock
from claret_errors.resubmit.ledger import LOCK_NAME, Ledger, Sent


def record(tenant_dir: Path, sha: str, original: str, new_job: str | None) -> None:
    """One upload as `send` records it: the intent first, then its outcome."""

    async def go() -> None:
        async with Ledger.locked(tenant_dir) as ledger:
            ledger.begin(Sent(sha, f"{sha}.csv", original, "", "2026-11-28T01:00:00+00:00"))
            ledger.settle(sha, new_job=new_job)

    asyncio.run(go())


def test_sent_file_is_remembered_across_opens(tmp_path: Path) -> None:
    """A second run must see what the first one sent, or it would upload the same rows again."""
    tenant_dir = tmp_path / "acme"
    assert Ledger.open(tenant_dir).already_sent("abc") is None
    record(tenant_dir, "abc", "17", "23")
    sent = Ledger.open(tenant_dir).already_sent("abc")
    assert sent is not None and (sent.new_job, sent.state) == ("23", "sent")


def test_an_intent_is_on_disk_before_the_upload(tmp_path: Path) -> None:
    """A run killed mid-upload leaves `sending`, which a later run reads as an unknown outcome."""
    tenant_dir = tmp_path / "acme"

    async def go() -> None:
        async with Ledger.locked(tenant_dir) as ledger:
            ledger.begin(Sent("abc", "c.csv", "17", "", "t"))
            [entry] = json.loads((tenant_dir / "resubmissions.json").read_text())["sent"]
            assert entry["state"] == "sending" and entry["new_job"] == ""

    asyncio.run(go())
    before = Ledger.open(tenant_dir).already_sent("abc")
    assert before is not None and before.outcome_unknown
    assert Ledger.open(tenant_dir).links_for("17") == []


def test_a_lost_answer_stays_unknown_until_a_later_send_settles_it(tmp_path: Path) -> None:
    """`unknown` is kept, and only a later (forced) upload of the same bytes replaces it."""
    tenant_dir = tmp_path / "acme"
    record(tenant_dir, "abc", "17", None)
    [lost] = Ledger.open(tenant_dir).unknown()
    assert lost.state == "unknown"
    record(tenant_dir, "abc", "17", "30")
    ledger = Ledger.open(tenant_dir)
    assert ledger.unknown() == [] and ledger.already_sent("abc") == Sent(
        "abc", "abc.csv", "17", "30", "2026-11-28T01:00:00+00:00"
    )


def test_links_point_both_ways(tmp_path: Path) -> None:
    """The original job links to its resubmission and the new job links back."""
    record(tmp_path / "acme", "abc", "17", "23")
    ledger = Ledger.open(tmp_path / "acme")
    [forward] = ledger.links_for("17")
    [back] = ledger.links_for("23")
    assert (forward.relation, forward.job_log_id) == ("resubmitted_as", "23")
    assert (back.relation, back.job_log_id) == ("resubmission_of", "17")
    assert ledger.links_for("99") == []


def test_the_lock_excludes_a_second_holder(tmp_path: Path) -> None:
    """While one run holds the ledger, another cannot take it: it waits (here: gives up at once)."""
    tenant_dir = tmp_path / "acme"

    async def go() -> None:
        async with Ledger.locked(tenant_dir):
            assert not FileLock(tenant_dir / LOCK_NAME).try_acquire()

    asyncio.run(go())
    with FileLock(tenant_dir / LOCK_NAME) as after:
        assert after.try_acquire()


def test_damaged_ledger_is_a_clear_error(tmp_path: Path) -> None:
    """A hand-edited, broken ledger stops the run with its path rather than resending everything."""
    tenant_dir = tmp_path / "acme"
    tenant_dir.mkdir()
    (tenant_dir / "resubmissions.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"resubmissions\.json"):
        Ledger.open(tenant_dir)
    (tenant_dir / "resubmissions.json").write_text('{"sent": [{"state": "maybe"}]}', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"resubmissions\.json"):
        Ledger.open(tenant_dir)
