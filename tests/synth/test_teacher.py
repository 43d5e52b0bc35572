"""The teacher option through the generator registry, and the extractive default in synthesize."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ragtune.config import load_config
from ragtune.errors import ConfigError
from ragtune.llm.base import ChatMessage
from ragtune.project import Project
from ragtune.registry import generators
from ragtune.synth import synthesize
from ragtune.synth.files import read_examples
from ragtune.synth.teacher import resolve_teacher, teacher_questions
from ragtune.testing.scripted_generator import ScriptedGenerator
from ragtune.types import Chunk

DOCS = {
    "server.md": "# Server\n\nThe server listens on port 8080 unless the config file names another port.\n\n"
    "The archive was released on May 2, 2021 by the maintainers of the project.",
    "cache.md": "# Cache\n\nThe cache holds at most 512 MB on disk before old entries are evicted.\n\n"
    "Support for remote caches was added in version 2.4 of the client library.",
    "install.md": "# Install\n\nThe installer requires network access to the package index on port 443.\n\n"
    "Lock files are used to pin exact versions of every dependency in the tree.",
}


def teacher_reply(conversation: list[ChatMessage]) -> str:
    """A teacher double: a preamble, one good pair, one answer not in the passage."""
    prompt = conversation[-1].content
    if "Rewrite" in prompt:
        question = prompt.split("Question:", 1)[1].strip().rstrip("?")
        return f"Here are two rewrites:\n1. Tell me, {question}?\n2. Do you know {question}?"
    passage = prompt.split("Passage:\n", 1)[1]
    number = next(w for w in passage.split() if w[:1].isdigit()).rstrip(".,")
    heading = passage.split("\n", 1)[0].lstrip("# ").strip().lower()
    return (
        "Here are two questions about the passage:\n"
        f"Q: Which number does the {heading} page state?\nA: {number}\n"
        f"Q: Who wrote the {heading} page?\nA: Jane Roe"
    )


@pytest.fixture
def teacher_backend(monkeypatch: pytest.MonkeyPatch) -> None:
    """A 'scripted-teacher' backend, registered the way a plugin registers one."""

    def factory(model: str = "scripted-teacher", batch_size: int = 16) -> ScriptedGenerator:
        return ScriptedGenerator(teacher_reply, model=model, batch_size=batch_size)

    monkeypatch.setitem(generators._entries, "scripted-teacher", factory)


@pytest.fixture
def project(tmp_path: Path) -> Project:
    docs = tmp_path / "docs"
    docs.mkdir()
    for name, text in DOCS.items():
        (docs / name).write_text(text)
    proj = Project.init(
        tmp_path / "proj", {"embed": {"backend": "hash"}, "llm": {"backend": "scripted"}}
    )
    proj.ingest([docs])
    return proj


def test_without_a_teacher_the_corpus_is_read_extractively(project: Project) -> None:
    manifest = synthesize(project, source="corpus", seed=0, raft=False)
    assert manifest.settings["question_writer"] == "extractive"
    assert manifest.settings["paraphraser"] is None and manifest.counts.train_paraphrases == 0
    generated = manifest.counts.generated
    assert generated["kept"] > 0 and generated["facts"] >= 5 and generated["unparsed"] == 0
    rows = read_examples(project.data_dir / "train_qa.jsonl") + read_examples(
        project.data_dir / "heldout.jsonl"
    )
    assert len(rows) == generated["kept"]
    assert all(r.meta["source"] == "extractive" and r.answers[0] in r.context for r in rows)
    assert manifest.counts.heldout_unseen_phrasing > 0  # templates give a fact several phrasings
    on_disk = json.loads((project.data_dir / "manifest.json").read_text())
    assert on_disk["counts"]["generated_kept"] == generated["kept"]
    # The evaluated model (the scripted generator) was never asked to write anything.
    assert "generator" not in project.__dict__ or not project.generator.calls


def test_a_configured_teacher_writes_and_paraphrases_under_the_same_filters(
    project: Project, teacher_backend: None
) -> None:
    project.config.synth.teacher = project.config.llm.model_copy(
        update={"backend": "scripted-teacher", "model": "teacher-model"}
    )
    manifest = synthesize(project, source="corpus", paraphrases=2, seed=0, raft=False)
    generated = manifest.counts.generated
    chunks = generated["chunks"]
    assert manifest.settings["question_writer"] == "teacher-model"
    assert manifest.settings["paraphraser"] == "teacher-model"
    assert generated["proposed"] == 2 * chunks
    assert generated["kept"] == chunks and generated["not_span"] == chunks  # "Jane Roe" is nowhere
    rows = read_examples(project.data_dir / "train_qa.jsonl") + read_examples(
        project.data_dir / "heldout.jsonl"
    )
    assert all("Here are" not in r.question and r.question.endswith("?") for r in rows)
    assert manifest.counts.train_paraphrases > 0


def test_the_evaluated_model_is_never_silently_its_own_teacher(tmp_path: Path) -> None:
    same = {"llm": {"backend": "scripted"}, "synth": {"teacher": {"backend": "scripted"}}}
    with pytest.raises(ConfigError, match=r"synth\.teacher is the evaluated model itself"):
        resolve_teacher(load_config(tmp_path, same))
    allowed = {**same, "synth": {**same["synth"], "allow_base_as_teacher": True}}
    assert resolve_teacher(load_config(tmp_path, allowed)) is not None
    off = {**same, "synth": {**same["synth"], "generator": "extractive"}}
    assert resolve_teacher(load_config(tmp_path, off)) is None
    with pytest.raises(ConfigError, match=r"needs a \[synth\.teacher\]"):
        load_config(tmp_path, {"synth": {"generator": "teacher"}})


def test_teacher_replies_that_never_parse_are_counted() -> None:
    chunk = Chunk(id="a#0", doc_id="a", text=DOCS["server.md"])
    silent = ScriptedGenerator(lambda c: "I am sorry, I cannot help with that request today.")
    result = teacher_questions([chunk], silent, questions_per_chunk=2)
    assert result.examples == [] and result.counts.unparsed == 2 and result.counts.proposed == 2
