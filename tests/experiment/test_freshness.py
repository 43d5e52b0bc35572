"""The freshness test on a tiny project: RAG fresh after re-index, FT stale until retrained."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ragtune.errors import DataError, RagtuneError
from ragtune.evaluate import load_run
from ragtune.experiment import freshness as freshness_module
from ragtune.experiment.changes import freshness_questions, load_changes_file
from ragtune.experiment.freshness import run_freshness
from ragtune.project import Project
from tests.experiment.conftest import MemorizingGenerator, memory_for


def test_no_retrain_reports_ft_stale_and_rag_fresh(
    two_version_project: tuple[Project, Path],
) -> None:
    project, v2 = two_version_project
    run, path = run_freshness(project, v2, arms=["base", "rag", "ft"], retrain_arms=False)
    assert path is not None and load_run(path).kind == "freshness"
    rag, ft, base = run.arms["rag"], run.arms["ft"], run.arms["base"]
    assert rag.phases["before"].changed_old.mean == 1.0
    assert rag.phases["updated"].changed_new.mean == 1.0 and rag.after_update == "fresh"
    assert ft.phases["updated"].changed_old.mean == 1.0 and ft.after_update == "stale"
    assert ft.phases["updated"].unchanged.mean == 1.0
    assert "retrained" not in ft.phases and ft.time_to_fresh.seconds is None
    assert rag.time_to_fresh.how == "incremental re-index"
    assert rag.time_to_fresh.seconds == run.freshness.ingest.seconds
    assert base.time_to_fresh.seconds is None and base.final == "unknown"
    assert any("--no-retrain" in note for note in run.notes)
    assert run.freshness.ingest.updated == 2


def test_retraining_makes_ft_fresh(
    two_version_project: tuple[Project, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    project, v2 = two_version_project

    def fake_retrain(project: Project, modes: list[str], **_: Any) -> dict[str, Any]:
        generator = project.generator
        assert isinstance(generator, MemorizingGenerator)
        generator.memory = memory_for(2)
        return {
            "synth": {"seconds": 3.0},
            "train": {m: {"seconds": 100.0} for m in modes},
            "seconds": 103.0,
        }

    monkeypatch.setattr(freshness_module, "retrain", fake_retrain)
    monkeypatch.setattr(freshness_module, "training_available", lambda: None)
    run, _ = run_freshness(project, v2, arms=["rag", "ft", "ft+rag"], measure_before=False)
    ft = run.arms["ft"]
    assert ft.after_update == "stale" and ft.final == "fresh" and ft.final_phase == "retrained"
    assert ft.phases["retrained"].changed_new.mean == 1.0
    assert (ft.time_to_fresh.seconds, ft.time_to_fresh.how) == (
        103.0,
        "re-synthesis + retraining the 'qa' adapter",
    )
    assert "before" not in run.arms["rag"].phases
    assert run.freshness.retrain.seconds == 103.0


def test_changes_file_validation(tmp_path: Path) -> None:
    bad = tmp_path / "changes.jsonl"
    bad.write_text('{"question": "q?", "old_answers": ["a"]}\n')
    with pytest.raises(DataError, match=":1: a change needs"):
        load_changes_file(bad)
    good = tmp_path / "ours.jsonl"
    good.write_text('{"question": "What does X cost?", "old_answer": "$5", "new_answer": "$6"}\n')
    [fact] = load_changes_file(good)
    changed, unchanged = freshness_questions([fact])
    assert (
        changed[0].answers == ["$6"]
        and changed[0].meta["old_answers"] == ["$5"]
        and unchanged == []
    )


def test_update_without_changes_file_is_an_error(
    two_version_project: tuple[Project, Path], tmp_path: Path
) -> None:
    project, _ = two_version_project
    folder = tmp_path / "plain"
    folder.mkdir()
    with pytest.raises(RagtuneError, match="--changes FILE"):
        run_freshness(project, folder, arms=["rag"])


def test_an_answer_naming_both_values_counts_as_new() -> None:
    from ragtune.evaluate.records import QuestionRecord
    from ragtune.evaluate.runner import ArmResult
    from ragtune.experiment.freshness import _score_phase
    from ragtune.types import QAExample

    example = QAExample(
        "x",
        "What does the X200 cost?",
        ["$1,909"],
        meta={"old_answers": ["$1,759"], "split": "changed"},
    )
    answers = {
        "now": "It is now $1,909 (previously $1,759).",
        "old": "It costs 1759 dollars.",
        "none": "No idea.",
    }
    records = [
        QuestionRecord(
            "x",
            "rag",
            example.question,
            example.answers,
            text,
            split="changed",
            scores={"contains": float("1909" in text.replace(",", ""))},
        )
        for text in answers.values()
    ]
    rows = _score_phase(ArmResult("rag", records=records), {"x": example}, "updated")
    assert [(r["scores"]["new"], r["scores"]["old"]) for r in rows] == [
        (1.0, 0.0),
        (0.0, 1.0),
        (0.0, 0.0),
    ]


def test_only_stale_adapters_are_retrained(
    two_version_project: tuple[Project, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    project, v2 = two_version_project
    calls: list[list[str]] = []

    def fake_retrain(project: Project, modes: list[str], **_: Any) -> dict[str, Any]:
        calls.append(list(modes))
        return {
            "synth": {"seconds": 1.0},
            "train": {m: {"seconds": 10.0} for m in modes},
            "seconds": 11.0,
        }

    monkeypatch.setattr(freshness_module, "retrain", fake_retrain)
    monkeypatch.setattr(freshness_module, "training_available", lambda: None)
    # Without memory for raft questions the raft arm reads the passages: fresh after re-indexing.
    generator = project.generator
    generator.memory = {
        k: v for k, v in generator.memory.items() if "P0" not in k and "P1" not in k
    }
    run, _ = run_freshness(project, v2, arms=["rag", "raft"], measure_before=False)
    assert calls == [] and run.arms["raft"].after_update == "fresh"
    assert run.arms["raft"].time_to_fresh.how == "incremental re-index"
    assert any("nothing to retrain" in n for n in run.notes)


def _phase(new: float, old: float, low: float, high: float) -> dict[str, Any]:
    return {
        "changed_new": {"mean": new},
        "changed_old": {"mean": old},
        "new_minus_old": {"mean": new - old, "low": low, "high": high},
    }


@pytest.mark.parametrize(
    ("phase", "expected"),
    [
        (_phase(0.8, 0.0, 0.5, 1.0), "fresh"),
        (_phase(0.1, 0.7, -0.9, -0.3), "stale"),
        (_phase(0.2, 0.3, -0.4, 0.2), "stale"),  # old answers still win, not significantly
        (_phase(0.5, 0.17, -0.05, 0.7), "leaning fresh"),  # 12 changed facts: too few to call
        (_phase(0.0, 0.0, 0.0, 0.0), "unknown"),
        (_phase(0.08, 0.0, 0.0, 0.25), "unknown"),  # one lucky guess in 12 is not freshness
    ],
)
def test_verdict_names_each_state(phase: dict[str, Any], expected: str) -> None:
    assert freshness_module.verdict(phase) == expected
