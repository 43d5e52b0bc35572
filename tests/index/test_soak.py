"""The random-operations soak (``tests.index.soak``): incremental ``ingest --mirror`` with
real SIGKILLs and re-indexes ends identical to a clean ingest of the final folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.index.soak import run_soak

pytestmark = pytest.mark.integration


def test_short_soak_has_no_differences(tmp_path: Path) -> None:
    # Seed 5 kills in round 0 (a plain ingest) and round 3 (a re-index).
    result = run_soak(tmp_path / "soak", operations=100, kills=2, seed=5)
    assert result.kills_landed == 2, result.kill_points
    assert any("store.next" in p or "swap" in p for p in result.kill_points), result.kill_points
    assert result.reindexes >= 2 and result.documents > 10 and result.chunks >= result.documents
    assert result.differences == []


@pytest.mark.slow
def test_full_soak_has_no_differences(tmp_path: Path) -> None:
    result = run_soak(tmp_path / "soak", operations=1000, kills=10, seed=0, per_round=20)
    assert result.kills_landed >= 8, result.kill_points
    assert result.differences == []
