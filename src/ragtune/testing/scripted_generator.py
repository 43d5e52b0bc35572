"""A deterministic, model-free generator for tests: canned or rule-based answers.

Registered as ``"scripted"``, so tests build it through the same door as users::

    from ragtune.config import LLMConfig
    from ragtune.llm import ChatMessage, create_generator

    llm = create_generator(LLMConfig(backend="scripted"))
    prompt = "Passages:\\n[1] Returns are accepted within 30 days. Keep the receipt.\\n\\nQ: window?"
    llm.complete(prompt).text  # 'Returns are accepted within 30 days. [1]'
    llm.complete("What is the capital of Mars?").text  # "I don't know."
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator

from ragtune.llm.base import (
    ChatMessage,
    Conversation,
    Generation,
    GenerationParams,
    Generator,
    as_conversation,
)

DONT_KNOW = "I don't know."
_FIRST_PASSAGE = re.compile(r"(?:^|\n)\s*\[1\][ \t]*:?\s*(.+?)(?=\n\s*\[\d+\]|\n\s*\n|\Z)", re.S)
_SENTENCE_END = re.compile(r"(?<=[.!?])(?=\s|$)")

Responder = Callable[[list[ChatMessage]], str]


def cite_first_passage(conversation: list[ChatMessage]) -> str:
    """The default rule: the first sentence of passage ``[1]`` plus ``" [1]"``, or
    ``"I don't know."`` when the prompt has no numbered passages."""
    for message in reversed(conversation):
        match = _FIRST_PASSAGE.search(message.content)
        if match:
            passage = " ".join(match.group(1).split())
            sentence = _SENTENCE_END.split(passage, maxsplit=1)[0].strip()
            return f"{sentence} [1]" if sentence else DONT_KNOW
    return DONT_KNOW


class ScriptedGenerator(Generator):
    """Answers from ``responses`` without a model.

    ``responses`` is a dict (matched first against the last user message exactly, then
    as a substring of any message, in insertion order), a function of the conversation,
    or ``None`` for :func:`cite_first_passage`. Unmatched dict lookups fall back to that
    rule too. Tokens are whitespace-separated words; ``max_new_tokens`` cuts the answer
    to that many words. Every call is recorded in ``calls`` as ``(conversation, adapter)``.
    """

    name = "scripted"
    context_window = 2048

    def __init__(
        self,
        responses: dict[str, str] | Responder | None = None,
        *,
        model: str = "scripted",
        max_new_tokens: int = 64,
        temperature: float = 0.0,
        batch_size: int = 16,
        context_tokens: int | None = None,
        adapters: dict[str, str] | None = None,
    ) -> None:
        super().__init__(
            max_new_tokens=max_new_tokens,
            temperature=temperature,
            batch_size=batch_size,
            context_tokens=context_tokens,
        )
        self.responses = responses
        self.name = model
        self.adapters = dict(adapters or {})
        self.calls: list[tuple[list[ChatMessage], str | None]] = []

    def load_adapter(self, name: str, path: str) -> None:
        """Record an adapter name (answers do not change; calls record which was used)."""
        self.adapters[name] = str(path)

    def respond(self, conversation: list[ChatMessage]) -> str:
        """The full answer for ``conversation``, before ``max_new_tokens`` applies."""
        if callable(self.responses):
            return self.responses(conversation)
        if self.responses:
            users = [m.content for m in conversation if m.role == "user"]
            if users and users[-1] in self.responses:
                return self.responses[users[-1]]
            for key, answer in self.responses.items():
                if any(key in m.content for m in conversation):
                    return answer
        return cite_first_passage(conversation)

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    def _generate_batch(
        self, conversations: list[list[ChatMessage]], params: GenerationParams, adapter: str | None
    ) -> list[Generation]:
        results = []
        for conversation in conversations:
            start = time.perf_counter()
            self.calls.append((conversation, adapter))
            words = self.respond(conversation).split()
            text = " ".join(words[: params.max_new_tokens])
            results.append(
                Generation(
                    text=text,
                    prompt_tokens=sum(self.count_tokens(m.content) for m in conversation),
                    completion_tokens=min(len(words), params.max_new_tokens),
                    finish_reason="length" if len(words) > params.max_new_tokens else "stop",
                    seconds=time.perf_counter() - start,
                )
            )
        return results

    def stream(
        self,
        conversation: str | Conversation,
        params: GenerationParams | None = None,
        adapter: str | None = None,
    ) -> Iterator[str]:
        """Yield the answer word by word (each piece but the first starts with a space)."""
        text = self.generate([as_conversation(conversation)], params, adapter)[0].text
        for i, word in enumerate(text.split()):
            yield word if i == 0 else f" {word}"
