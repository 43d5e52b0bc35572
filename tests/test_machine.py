"""The machine facts ragtune records and the thread count its models use."""

from __future__ import annotations

import os

import pytest

from ragtune.machine import LoadMeter, cpu_threads


def test_threads_come_from_the_environment_never_from_the_load(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("RAGTUNE_THREADS", raising=False)
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    assert cpu_threads() == (os.cpu_count() or 1)
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    assert cpu_threads() == 1
    monkeypatch.setenv("RAGTUNE_THREADS", "3")  # ragtune's own setting wins
    assert cpu_threads() == 3
    monkeypatch.setenv("RAGTUNE_THREADS", "many")
    with pytest.raises(ValueError, match="RAGTUNE_THREADS='many'"):
        cpu_threads()


def test_a_load_meter_records_cores_and_threads() -> None:
    meter = LoadMeter()
    meter.sample()
    summary = meter.to_dict()
    assert summary["cores"] == os.cpu_count()
    assert summary["before"] is None or summary["before"] >= 0
