"""The contract every generator backend passes: a pytest base class to subclass.

ragtune runs it against each of its own backends (transformers, OpenAI-compatible,
scripted); a plugin author runs it against theirs by giving it a ``generator`` fixture::

    import pytest
    from ragtune.testing.generator_contract import GeneratorContract

    class TestMyBackend(GeneratorContract):
        @pytest.fixture
        def generator(self):
            return MyGenerator(model="my-model")

It checks what callers rely on: one answer per conversation in input order, lengths and
finish reasons, stop strings, streaming, token counting, and that a greedy answer does
not depend on the other conversations in its batch. A backend that cannot promise the
last (a remote server that batches requests its own way) sets ``batch_invariant = False``.

For detailed assertion messages, call
``pytest.register_assert_rewrite("ragtune.testing.generator_contract")`` in a conftest.
Importing this module imports pytest (``import ragtune`` never does).
"""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from ragtune.llm.base import ChatMessage, Generation, GenerationParams, Generator

__all__ = ["NEIGHBOURS", "QUESTIONS", "GeneratorContract", "convs"]

QUESTIONS = [
    "What colour is the sky on a clear day?",
    "Name a fruit that is yellow.",
    "Say hello to the team.",
]
# Neighbours of other lengths and topics, so a batch holding one of QUESTIONS is padded.
NEIGHBOURS = [
    "Hi!",
    "List three colours of the rainbow, separated by commas, and nothing else please.",
    "Explain in two sentences why the sea is salty.",
    "What is the capital of France? Answer in one word.",
]


def convs(questions: Sequence[str] = QUESTIONS) -> list[list[ChatMessage]]:
    """One single-turn user conversation per question."""
    return [[ChatMessage("user", q)] for q in questions]


class GeneratorContract:
    """Shared behaviour: order, lengths, stop strings, streaming, token helpers and
    answers that do not depend on their batch. Subclasses provide a ``generator``
    fixture; ``params`` is what most checks generate with."""

    params = GenerationParams(max_new_tokens=12)
    batch_invariant = True

    def test_one_generation_per_conversation_in_order(self, generator: Generator) -> None:
        out = generator.generate(convs(), self.params)
        assert len(out) == len(QUESTIONS)
        assert all(isinstance(g, Generation) and g.text for g in out)
        assert all(g.prompt_tokens > 0 and 0 < g.completion_tokens <= 12 for g in out)
        assert all(g.finish_reason in ("stop", "length") for g in out)
        assert all(g.seconds >= 0 and g.batch_size >= 1 for g in out)
        # Order is the input order, whatever batching did: each answer equals its solo run.
        solo = [generator.generate(convs([q]), self.params)[0] for q in QUESTIONS]
        assert [g.text for g in out] == [g.text for g in solo]

    def test_greedy_answer_does_not_depend_on_its_batch(self, generator: Generator) -> None:
        if not self.batch_invariant:
            pytest.skip(f"{type(generator).__name__} does not promise batch-invariant answers")
        question = QUESTIONS[1]
        [alone] = generator.generate(convs([question]), self.params)
        for batch in (
            [question, *NEIGHBOURS[:2]],
            [*NEIGHBOURS[2:], question],
            [*NEIGHBOURS, *QUESTIONS],
        ):
            out = generator.generate(convs(batch), self.params)
            together = out[batch.index(question)]
            assert (together.text, together.completion_tokens) == (
                alone.text,
                alone.completion_tokens,
            ), f"answer changed beside {batch}"

    def test_empty_batch(self, generator: Generator) -> None:
        assert generator.generate([], self.params) == []

    def test_max_new_tokens_ends_with_length(self, generator: Generator) -> None:
        [gen] = generator.generate(convs([QUESTIONS[0]]), GenerationParams(max_new_tokens=2))
        assert gen.completion_tokens <= 2
        assert gen.finish_reason == "length" or gen.completion_tokens < 2

    def test_stop_string_cuts_the_text(self, generator: Generator) -> None:
        full = generator.generate(convs([QUESTIONS[2]]), self.params)[0].text
        words = full.split()
        assert len(words) >= 2, full
        stop = words[1]
        expected = full[: full.index(stop)].rstrip()
        [cut] = generator.generate(
            convs([QUESTIONS[2]]), GenerationParams(max_new_tokens=12, stop=(stop,))
        )
        assert cut.text == expected
        assert cut.finish_reason == "stop"

    def test_stream_matches_generate(self, generator: Generator) -> None:
        whole = generator.generate(convs([QUESTIONS[0]]), self.params)[0].text
        pieces = list(generator.stream(convs([QUESTIONS[0]])[0], self.params))
        assert len(pieces) >= 2
        assert "".join(pieces).strip() == whole.strip()

    def test_count_and_truncate_tokens(self, generator: Generator) -> None:
        text = "Refunds are issued within thirty days of purchase, provided the receipt is kept."
        n = generator.count_tokens(text)
        assert n > 5
        cut = generator.truncate_to_tokens(text, 4)
        assert text.startswith(cut) and 0 < generator.count_tokens(cut) <= 4
        assert generator.truncate_to_tokens(text, n) == text
        assert generator.truncate_to_tokens(text, 0) == ""
        assert generator.context_window > 0 and generator.name
