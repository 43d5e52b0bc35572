"""Expected scores live in the repo (pyserini-style): a small deterministic run — demo
domain v1 (seed 0), hash embedder, the overlap-reader generator double — must reproduce
``tests/expected/demo_scripted.yaml``.

A change in metrics, retrieval, chunking or the demo corpus shows up here as a diff of
numbers. If the change is intended, regenerate and commit the file:

    python -m tests.evaluate.test_expected_scores --update
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml  # a dev dependency: this test must run, never skip

from ragtune.demo import load_qa, write_demo_corpus
from ragtune.evaluate import evaluate
from ragtune.project import Project
from ragtune.testing.scripted_generator import ScriptedGenerator
from tests.evaluate.conftest import SCRIPTED
from tests.evaluate.doubles import overlap_reader

EXPECTED = Path(__file__).parents[1] / "expected" / "demo_scripted.yaml"
QUESTIONS = 40
TOLERANCE = 1e-4


def measure(root: Path) -> dict[str, Any]:
    write_demo_corpus(root / "v1", version=1, seed=0)
    project = Project.init(
        root / "proj", {**SCRIPTED, "eval": {"bootstrap_samples": 500, "latency_probe": 0}}
    )
    project.ingest([root / "v1" / "docs"])
    generator = ScriptedGenerator(overlap_reader)
    project.generator = generator
    run, _ = evaluate(
        project,
        ["base", "rag"],
        questions=load_qa(root / "v1" / "qa.jsonl"),
        max_questions=QUESTIONS,
        write=False,
    )
    out: dict[str, Any] = {"questions": QUESTIONS, "arms": {}}
    for arm in run.ok_arms:
        summary = run.arms[arm]
        figures = {f"accuracy.{k}": v.mean for k, v in summary.accuracy.items()}
        figures.update({f"retrieval.{k}": v.mean for k, v in summary.retrieval.items()})
        if summary.groundedness is not None:
            figures["groundedness"] = summary.groundedness.mean
        figures["accuracy.contains.ci"] = [
            summary.accuracy["contains"].low,
            summary.accuracy["contains"].high,
        ]
        out["arms"][arm] = figures
    return out


def test_reproduces_expected_scores(tmp_path: Path) -> None:
    expected = yaml.safe_load(EXPECTED.read_text())
    measured = measure(tmp_path)
    assert measured["questions"] == expected["questions"]
    for arm, figures in expected["arms"].items():
        for name, value in figures.items():
            got = measured["arms"][arm][name]
            if isinstance(value, list):
                assert got == pytest.approx(value, abs=TOLERANCE), f"{arm} {name}"
            else:
                assert got == pytest.approx(value, abs=TOLERANCE), (
                    f"{arm} {name}: expected {value}, got {got}"
                )
    assert (
        measured["arms"]["rag"]["accuracy.contains"] > measured["arms"]["base"]["accuracy.contains"]
    )


if __name__ == "__main__" and "--update" in sys.argv:
    with tempfile.TemporaryDirectory() as tmp:
        scores = measure(Path(tmp))
    EXPECTED.parent.mkdir(exist_ok=True)
    header = "# Regenerate with: python -m tests.evaluate.test_expected_scores --update\n"
    EXPECTED.write_text(header + yaml.safe_dump(scores, sort_keys=True))
    print(f"wrote {EXPECTED}")
