from __future__ import annotations

import pytest

from ragtune.config import LLMConfig
from ragtune.llm import ChatMessage, GenerationParams, Generator, create_generator
from ragtune.testing.generator_contract import GeneratorContract
from ragtune.testing.scripted_generator import ScriptedGenerator

RAG_PROMPT = (
    "Answer from the passages and cite them.\n\n"
    "[1] Returns are accepted within 30 days. Keep the receipt.\n"
    "[2] Shipping is free over 50 EUR.\n\n"
    "Question: How long is the return window?"
)


class TestScriptedContract(GeneratorContract):
    @pytest.fixture
    def generator(self) -> Generator:
        return ScriptedGenerator(lambda conv: f"answer to {conv[-1].content} with some more words")


def test_default_cites_the_first_passage() -> None:
    llm = create_generator(LLMConfig(backend="scripted"))
    assert llm.complete(RAG_PROMPT).text == "Returns are accepted within 30 days. [1]"
    assert llm.complete("What is the capital of Mars?").text == "I don't know."


def test_dict_responses_match_last_user_message_then_substring() -> None:
    llm = ScriptedGenerator({"greet me": "hello there", "Mars": "red"})
    assert llm.complete("greet me").text == "hello there"
    assert llm.complete("Tell me about Mars please").text == "red"
    assert llm.complete(RAG_PROMPT).text.endswith("[1]")


def test_records_calls_with_adapter_and_counts_words() -> None:
    llm = ScriptedGenerator({"q": "one two three four"})
    [gen] = llm.generate(
        [[ChatMessage("system", "be brief"), ChatMessage("user", "q")]], adapter="ft"
    )
    assert gen.prompt_tokens == 3 and gen.completion_tokens == 4
    assert llm.calls[-1][1] == "ft"
    [short] = llm.generate(["q"], GenerationParams(max_new_tokens=2))
    assert (short.text, short.finish_reason) == ("one two", "length")
    assert llm.context_window == 2048
