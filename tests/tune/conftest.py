"""Fixtures for tuning tests: a project with a few QA rows on the real default model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ragtune.project import Project

FACTS = [
    ("What colour is the Zorvex panel?", "teal"),
    ("Who founded Quillmark Labs?", "Odette Raskin"),
    ("Which city hosts the Brannoch depot?", "Velmora"),
    ("What does the Tavik T9 cost?", "$4,318"),
    ("When did the Marrow bridge open?", "2011"),
    ("How heavy is the Pellin crate?", "37 kg"),
]


def default_model_or_skip() -> str:
    try:
        from ragtune.llm.gguf import resolve_default_model

        return str(resolve_default_model())
    except Exception as exc:  # pragma: no cover - depends on the machine
        pytest.skip(f"default model unavailable: {exc}")


@pytest.fixture
def tiny_project(tmp_path: Path) -> Project:
    """A project whose .ragtune/data holds six closed-book QA rows (no index needed)."""
    from ragtune.synth import synthesize

    default_model_or_skip()
    qa = tmp_path / "qa.jsonl"
    qa.write_text("".join(json.dumps({"question": q, "answer": a}) + "\n" for q, a in FACTS))
    project = Project.init(tmp_path / "proj", {"embed": {"backend": "hash"}})
    synthesize(project, source="qa-file", path=qa, paraphrases=0, raft=False)
    return project


@pytest.fixture(scope="session")
def demo_corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from ragtune.demo import write_demo_corpus

    out = tmp_path_factory.mktemp("demo") / "corpus"
    write_demo_corpus(out, version=1, seed=0)
    return out
