"""The answer cache: a greedy answer is computed once per model, adapter and prompt."""

from __future__ import annotations

from pathlib import Path

from ragtune.llm.answer_cache import AnswerCache, CachedGenerator, folder_fingerprint
from ragtune.llm.base import ChatMessage, GenerationParams
from ragtune.testing.scripted_generator import ScriptedGenerator

QUESTIONS = [[ChatMessage("user", f"What is item {i}?")] for i in range(5)]


def cached(tmp_path: Path, fingerprints: dict[str | None, str] | None = None) -> CachedGenerator:
    prints = fingerprints if fingerprints is not None else {None: "base", "qa": "w1"}
    inner = ScriptedGenerator(lambda conv: f"answer to {conv[-1].content}")
    return CachedGenerator(
        inner, AnswerCache(tmp_path / "answers.sqlite"), "scripted", lambda a: prints[a]
    )


def test_second_pass_reads_back_the_same_generations(tmp_path: Path) -> None:
    llm = cached(tmp_path)
    first = llm.generate(QUESTIONS)
    assert len(llm.inner.calls) == 5 and llm.hits == 0  # type: ignore[attr-defined]
    again = llm.generate(list(reversed(QUESTIONS)))
    assert again == list(reversed(first))
    assert len(llm.inner.calls) == 5 and llm.hits == 5  # type: ignore[attr-defined]


def test_only_new_prompts_are_generated(tmp_path: Path) -> None:
    llm = cached(tmp_path)
    llm.generate(QUESTIONS[:3])
    out = llm.generate(QUESTIONS)
    assert [g.text for g in out] == [f"answer to What is item {i}?" for i in range(5)]
    asked = [conv[-1].content for conv, _ in llm.inner.calls]  # type: ignore[attr-defined]
    assert asked == [f"What is item {i}?" for i in (0, 1, 2, 3, 4)]


def test_the_cache_outlives_the_process_that_wrote_it(tmp_path: Path) -> None:
    cached(tmp_path).generate(QUESTIONS)
    later = cached(tmp_path)  # a new generator on the same file: a re-run
    later.generate(QUESTIONS)
    assert later.hits == 5 and later.inner.calls == []  # type: ignore[attr-defined]


def test_new_adapter_weights_or_params_or_sampling_miss(tmp_path: Path) -> None:
    prints: dict[str | None, str] = {None: "base", "qa": "w1"}
    llm = cached(tmp_path, prints)
    llm.generate(QUESTIONS, adapter="qa")
    prints["qa"] = "w2"  # the adapter was retrained
    llm.generate(QUESTIONS, adapter="qa")
    llm.generate(QUESTIONS, GenerationParams(max_new_tokens=3))
    llm.generate(QUESTIONS, GenerationParams(temperature=0.7))  # sampled: never cached
    llm.generate(QUESTIONS, GenerationParams(temperature=0.7))
    assert llm.hits == 0 and len(llm.inner.calls) == 25  # type: ignore[attr-defined]


def test_uncached_block_generates_afresh(tmp_path: Path) -> None:
    llm = cached(tmp_path)
    llm.generate(QUESTIONS)
    with llm.uncached():
        llm.generate(QUESTIONS[:1])
    assert llm.hits == 0 and len(llm.inner.calls) == 6  # type: ignore[attr-defined]
    llm.generate(QUESTIONS[:1])
    assert llm.hits == 1


def test_an_unreadable_cache_file_is_set_aside(tmp_path: Path) -> None:
    (tmp_path / "answers.sqlite").write_bytes(b"not a database" * 100)
    llm = cached(tmp_path)
    llm.generate(QUESTIONS)
    assert (tmp_path / "answers.unreadable").is_file() and len(llm.cache) == 5


def test_folder_fingerprint_follows_the_weights(tmp_path: Path) -> None:
    (tmp_path / "adapter_model.safetensors").write_bytes(b"weights-1")
    first = folder_fingerprint(tmp_path)
    assert folder_fingerprint(tmp_path) == first
    (tmp_path / "adapter_model.safetensors").write_bytes(b"weights-22")
    assert folder_fingerprint(tmp_path) != first
