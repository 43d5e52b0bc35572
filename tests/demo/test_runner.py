"""The demo end to end with test doubles: hash embedder, scripted generator, no training."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.evaluate.conftest import SCRIPTED
from tests.evaluate.doubles import overlap_reader

from ragtune.demo.runner import DemoPlan, run_demo
from ragtune.evaluate import load_run
from ragtune.experiment import refresh
from ragtune.testing.scripted_generator import ScriptedGenerator


def test_demo_runs_every_stage_and_marks_training_skipped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        refresh, "training_available", lambda: "training libraries not installed (test)"
    )
    monkeypatch.setattr(
        ScriptedGenerator, "respond", lambda self, conversation: overlap_reader(conversation)
    )
    messages: list[str] = []
    plan = DemoPlan(eval_questions=12, freshness_questions=6, latency_probe=1, measure_before=True)
    result = run_demo(tmp_path / "demo", plan, say=messages.append, overrides=SCRIPTED)

    ran = [s["stage"] for s in result.stages if s["status"] == "ran"]
    assert ran == ["corpus", "ingest", "questions", "evaluate", "freshness", "report"]
    assert set(result.skipped) >= {"train qa", "train raft", "ft", "ft+rag", "raft"}
    assert "training libraries not installed" in result.skipped["train qa"]
    assert "needs the fine-tuned" in result.skipped["ft"]
    assert result.report_html is not None and result.report_html.is_file()
    assert any(m.startswith("Plan:") for m in messages)

    eval_run = load_run(result.eval_run)  # type: ignore[arg-type]
    assert eval_run.ok_arms == ["base", "rag"]
    assert (
        eval_run.arms["rag"].accuracy["contains"].mean
        > eval_run.arms["base"].accuracy["contains"].mean
    )
    fresh = load_run(result.freshness_run)  # type: ignore[arg-type]
    rag = fresh.arms["rag"].phases
    # Before the update rag reads the old values; a new value can still turn up by chance
    # in an old passage ("24 months" is another model's warranty), so not exactly 0.
    assert rag["updated"].changed_new.mean > rag["before"].changed_new.mean
    assert rag["before"].changed_old.mean > rag["before"].changed_new.mean
    assert fresh.freshness.ingest.updated > 0
    assert fresh.arms["rag"].phases["before"].changed_old.mean > 0
    assert fresh.arms["rag"].phases["updated"].unchanged.n > 0
    summary = json.loads(
        (tmp_path / "demo" / ".ragtune" / "runs" / "demo-summary.json").read_text()
    )
    assert summary["recommendation"] == result.recommendation

    # A second run in the same folder reuses every stage: the same run files, nothing redone.
    again = run_demo(tmp_path / "demo", plan, overrides=SCRIPTED)
    assert again.eval_run == result.eval_run and again.freshness_run == result.freshness_run
    assert {s["stage"]: s["status"] for s in again.stages}["evaluate"] == "cached"
    assert load_run(again.eval_run).ok_arms == ["base", "rag"]  # type: ignore[arg-type]
