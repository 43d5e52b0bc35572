"""The same project evaluated twice gives the same records: answers, token counts and
scores, with the real default generator (greedy) and the real embedder."""

from __future__ import annotations

from pathlib import Path

import pytest

from ragtune.evaluate.runner import evaluate
from ragtune.project import Project
from ragtune.types import QAExample
from tests.test_ingest import write_docs
from tests.tune.conftest import default_model_or_skip

pytestmark = pytest.mark.integration

QUESTIONS = [
    QAExample(
        id=f"q{i}",
        question=f"How much does the P{i} model weigh in paragraph 2?",
        answers=[f"{i * 10 + 2} kilograms"],
    )
    for i in range(4)
]


def test_evaluating_twice_gives_identical_records(tmp_path: Path) -> None:
    default_model_or_skip()
    project = Project.init(
        tmp_path / "proj",
        {
            "llm": {"max_new_tokens": 16, "batch_size": 3},
            # Both passes generate: the answer cache would make the second a lookup.
            "eval": {"latency_probe": 1, "reuse_answers": False},
        },
    )
    write_docs(tmp_path / "docs", 4)
    project.ingest([tmp_path / "docs"])

    def records() -> list[tuple[str, str, str, int, dict[str, float]]]:
        run, _ = evaluate(project, ["base", "rag"], questions=QUESTIONS, write=False)
        assert run.ok_arms == ["base", "rag"]
        return [
            (r["arm"], r["qid"], r["prediction"], r["completion_tokens"], r["scores"])
            for r in run.records
        ]

    first = records()
    assert len(first) == 8 and any(prediction for _, _, prediction, _, _ in first)
    assert records() == first
    project.close()
