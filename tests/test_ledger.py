"""The resubmission ledger: a file is never sent twice, and links survive reruns."""

from __future__ import annotations

from pathlib import Path

import pytest

from claret_errors.errors import ConfigError
from claret_errors.resubmit.ledger import Ledger, Sent


def test_sent_file_is_remembered_across_opens(tmp_path: Path) -> None:
    """A second run must see what the first one sent, or it would upload the same rows again."""
    tenant_dir = tmp_path / "acme"
    ledger = Ledger.open(tenant_dir)
    assert ledger.already_sent("abc") is None
    ledger.add(Sent("abc", "corrected_001.csv", "17", "23", "2026-11-28T01:00:00Z"))
    again = Ledger.open(tenant_dir)
    sent = again.already_sent("abc")
    assert sent is not None
    assert sent.new_job == "23"


def test_links_point_both_ways(tmp_path: Path) -> None:
    """The original job links to its resubmission and the new job links back."""
    ledger = Ledger.open(tmp_path / "acme")
    ledger.add(Sent("abc", "c.csv", "17", "23", "t"))
    [forward] = ledger.links_for("17")
    [back] = ledger.links_for("23")
    assert (forward.relation, forward.job_log_id) == ("resubmitted_as", "23")
    assert (back.relation, back.job_log_id) == ("resubmission_of", "17")
    assert ledger.links_for("99") == []


def test_damaged_ledger_is_a_clear_error(tmp_path: Path) -> None:
    """A hand-edited, broken ledger stops the run with its path rather than resending everything."""
    tenant_dir = tmp_path / "acme"
    tenant_dir.mkdir()
    (tenant_dir / "resubmissions.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"resubmissions\.json"):
        Ledger.open(tenant_dir)
