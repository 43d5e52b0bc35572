"""A tiny two-version project and a generator double whose ``qa`` adapter "remembers"
the facts it was trained on (so fine-tuned arms go stale like real ones)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import pytest

from ragtune.llm.base import ChatMessage, Generation, GenerationParams
from ragtune.project import Project
from ragtune.testing.scripted_generator import DONT_KNOW, ScriptedGenerator, cite_first_passage
from tests.evaluate.conftest import CITIES, SCRIPTED, tiny_questions, write_tiny_docs


class MemorizingGenerator(ScriptedGenerator):
    """With an adapter: answers questions it was "trained" on from ``memory``; without:
    the scripted rule (passage [1], or "I don't know.")."""

    def __init__(self, memory: dict[str, str], **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.memory = dict(memory)
        self._adapter: str | None = None

    def _generate_batch(
        self, conversations: list[list[ChatMessage]], params: GenerationParams, adapter: str | None
    ) -> list[Generation]:
        self._adapter = adapter
        return super()._generate_batch(conversations, params, adapter)

    def respond(self, conversation: Sequence[ChatMessage]) -> str:
        if self._adapter is not None:
            user = conversation[-1].content
            for key, answer in self.memory.items():
                if key in user:
                    return f"It is {answer}."
            if "Passages:" not in user:
                return DONT_KNOW
        return cite_first_passage(list(conversation))


def memory_for(version: int) -> dict[str, str]:
    out = {}
    for i, city in enumerate(CITIES):
        if version == 2 and i < 2:
            city = CITIES[-1 - i] + "ville"
        out[f"P{i} router assembled"] = city
        out[f"P{i} router cost"] = f"${1000 + i * 250:,}"
    return out


def write_changes(path: Path) -> None:
    rows = []
    for i in range(2):
        rows.append(
            {
                "fact_id": f"p{i}.city",
                "question_ids": [f"p{i}.city"],
                "questions": [f"Where is the P{i} router assembled?"],
                "old_answers": [CITIES[i]],
                "new_answers": [CITIES[-1 - i] + "ville"],
                "doc_ids": [f"p{i}.md"],
            }
        )
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))


def fake_adapter(project: Project, name: str) -> None:
    folder = project.adapters_dir / name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "adapter_config.json").write_text("{}")
    (folder / "ragtune_manifest.json").write_text(
        json.dumps(
            {
                "mode": name,
                "train_seconds": 120.0,
                "cpu_seconds": 230.0,
                "tokens_seen": 50000,
                "peak_rss_mb": 900.0,
                "steps": 40,
                "final_loss": 0.3,
                "examples": 300,
            }
        )
    )


@pytest.fixture
def two_version_project(tmp_path: Path) -> tuple[Project, Path]:
    """A project indexed on version 1 with fake ``qa``/``raft`` adapters; returns it and
    the version-2 folder (``docs/`` + ``changes.jsonl``)."""
    write_tiny_docs(tmp_path / "v1" / "docs", version=1)
    write_tiny_docs(tmp_path / "v2" / "docs", version=2)
    write_changes(tmp_path / "v2" / "changes.jsonl")
    project = Project.init(tmp_path / "proj", SCRIPTED)
    project.ingest([tmp_path / "v1" / "docs"])
    rows = tiny_questions()
    (project.data_dir / "heldout.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (project.data_dir / "train_qa.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    for name in ("qa", "raft"):
        fake_adapter(project, name)
    project.generator = MemorizingGenerator(memory_for(1))
    return project, tmp_path / "v2"
