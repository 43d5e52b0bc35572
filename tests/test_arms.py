"""The arm registry: built-in specs, display order, adapters, and errors naming the arm."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ragtune.arms import ArmSpec
from ragtune.errors import ConfigError
from ragtune.registry import arms

SIXTH = ArmSpec(
    "raft-closed",
    retrieves=False,
    adapter="raft",
    order=60,
    description="the RAFT adapter asked without passages",
)


@pytest.fixture
def sixth_arm() -> Iterator[ArmSpec]:
    arms.register(SIXTH)
    try:
        yield SIXTH
    finally:
        arms.unregister(SIXTH.name)


def test_builtin_arms_in_display_order() -> None:
    assert arms.names() == ["base", "rag", "ft", "ft+rag", "raft"]
    assert [s.name for s in arms.specs() if s.retrieves] == ["rag", "ft+rag", "raft"]
    assert arms.adapters_for(arms.names()) == ["qa", "raft"]
    assert arms.arm_for_adapter("qa") == "ft" and arms.arm_for_adapter("raft") == "raft"
    with pytest.raises(ConfigError, match="unknown arm 'nope'; choose one of: base, rag"):
        arms.get("nope")


def test_recorded_spec_wins_and_unknown_unrecorded_arm_is_named() -> None:
    recorded = arms.recorded("gone", {"spec": {"retrieves": True, "adapter": "qa"}})
    assert recorded.retrieves and recorded.adapter == "qa"
    with pytest.raises(ConfigError, match="arm 'gone' in this run file is not registered"):
        arms.recorded("gone", {"status": "ok"})
