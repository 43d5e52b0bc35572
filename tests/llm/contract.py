"""The contract every generator backend passes (mix into a class with a ``generator`` fixture)."""

from __future__ import annotations

from ragtune.llm import ChatMessage, Generation, GenerationParams, Generator

QUESTIONS = [
    "What colour is the sky on a clear day?",
    "Name a fruit that is yellow.",
    "Say hello to the team.",
]


def convs(questions: list[str] = QUESTIONS) -> list[list[ChatMessage]]:
    return [[ChatMessage("user", q)] for q in questions]


class GeneratorContract:
    """Shared behaviour: order, lengths, stop strings, streaming, token helpers."""

    params = GenerationParams(max_new_tokens=12)

    def test_one_generation_per_conversation_in_order(self, generator: Generator) -> None:
        out = generator.generate(convs(), self.params)
        assert len(out) == len(QUESTIONS)
        assert all(isinstance(g, Generation) and g.text for g in out)
        assert all(g.prompt_tokens > 0 and 0 < g.completion_tokens <= 12 for g in out)
        assert all(g.finish_reason in ("stop", "length") for g in out)
        # Order is the input order, whatever batching did: each answer equals its solo run.
        solo = generator.generate(convs([QUESTIONS[1]]), self.params)[0]
        assert out[1].text == solo.text

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
