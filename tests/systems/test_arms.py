"""The base and rag arms over a real store, with the scripted generator (no model)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ragtune.errors import ConfigError, RagtuneError
from ragtune.llm.base import ChatMessage
from ragtune.project import Project
from ragtune.prompts import NOT_FOUND, rag_messages
from ragtune.systems import RAGSystem, build_system
from ragtune.systems.citations import resolve_citations
from ragtune.testing.scripted_generator import DONT_KNOW, ScriptedGenerator
from tests.retrieve.test_fusion import hit
from tests.test_ingest import FAST, write_docs

SCRIPTED = {**FAST, "llm": {"backend": "scripted"}}


@pytest.fixture
def project(tmp_path: Path) -> Project:
    project = Project.init(tmp_path / "proj", SCRIPTED)
    write_docs(tmp_path / "docs", 4)
    project.ingest([tmp_path / "docs"])
    return project


def test_rag_answers_with_a_citation_to_a_retrieved_chunk(project: Project) -> None:
    rag = build_system(project, "rag")
    answer = rag.answer("How much does the P3 model weigh?")
    assert answer.arm == "rag" and answer.hits
    assert answer.citations, answer.text
    cited = answer.citations[0]
    assert cited.chunk_id == answer.hits[cited.marker - 1].chunk.id
    doc = project.store.get_document(cited.doc_id)
    assert (
        doc is not None
        and doc.text[cited.start_char : cited.end_char] == answer.hits[cited.marker - 1].chunk.text
    )
    assert set(answer.timings) == {"retrieve", "generate", "total"}
    assert answer.prompt_tokens > 0 and answer.completion_tokens > 0


def test_base_arm_is_closed_book(project: Project) -> None:
    answer = build_system(project, "base").answer("How much does the P3 model weigh?")
    assert answer.arm == "base" and answer.hits == [] and answer.citations == []
    assert answer.timings["retrieve"] == 0.0


def test_batch_keeps_order(project: Project) -> None:
    rag = build_system(project, "rag")
    questions = [f"Where does the P{i} ship from?" for i in range(4)]
    answers = rag.answer_batch(questions)
    assert [a.question for a in answers] == questions


def test_stream_yields_pieces_then_the_answer(project: Project) -> None:
    rag = build_system(project, "rag")
    assert isinstance(rag, RAGSystem)
    items = list(rag.stream("How much does the P2 model weigh?"))
    *pieces, final = items
    assert "".join(pieces) == final.text  # type: ignore[union-attr]
    assert final.citations  # type: ignore[union-attr]


def test_unknown_arm_and_missing_adapter(project: Project) -> None:
    with pytest.raises(ConfigError, match="unknown arm"):
        build_system(project, "gpt")
    with pytest.raises(RagtuneError, match="ragtune tune --mode qa"):
        build_system(project, "ft")


def test_prompt_is_cut_by_tokens_and_keeps_the_question() -> None:
    llm = ScriptedGenerator(context_tokens=160)
    long_text = " ".join(f"word{i}" for i in range(400))
    hits = [hit(f"d{i}::0", 1.0) for i in range(3)]
    for h in hits:
        h.chunk.text = long_text
    messages, kept = rag_messages("What is word7?", hits, llm, max_new_tokens=16)
    user = messages[-1].content
    assert user.endswith("Question: What is word7?\nAnswer:")
    assert len(kept) == 1  # the first passage was cut to fit; the others left out
    assert sum(llm.count_tokens(m.content) for m in messages) <= 160 - 16
    with pytest.raises(RagtuneError, match="shorten the question"):
        rag_messages("why " * 300, hits, llm, max_new_tokens=16)


def test_citation_markers_resolve_and_out_of_range_is_ignored() -> None:
    hits = [hit("a::0", 1.0), hit("b::0", 1.0)]
    citations, inferred = resolve_citations("It is 5 kg [2] [2] [7].", hits)
    assert [c.chunk_id for c in citations] == ["b::0"] and not inferred
    hits[0].chunk.text = "The Q7 weighs 12 kilograms."
    citations, inferred = resolve_citations("12 kilograms", hits)
    assert [c.chunk_id for c in citations] == ["a::0"] and inferred
    assert resolve_citations(NOT_FOUND, [hit("z::0", 1.0)]) == ([], False)


def test_scripted_generator_is_reachable_by_name() -> None:
    from ragtune.registry import generators

    llm = generators.create("scripted")
    # Closed book, no passages to read: the scripted rule says it does not know.
    assert llm.generate([[ChatMessage("user", "hi")]])[0].text == DONT_KNOW
