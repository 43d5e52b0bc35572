"""The generator interface: chat conversations in, generations out.

Every backend (local transformers, an OpenAI-compatible server, the scripted test
double) implements one verb, ``_generate_batch``, for a batch the base has already
planned; the base owns what they share: default parameters, batch planning, order
restoration, stop-sequence truncation and retries::

    from ragtune.llm import ChatMessage, GenerationParams, create_generator
    from ragtune.config import LLMConfig

    llm = create_generator(LLMConfig(backend="scripted"))
    [gen] = llm.generate([[ChatMessage("user", "Hi")]], GenerationParams(max_new_tokens=8))
    gen.text, gen.finish_reason  # ("I don't know.", "stop")
"""

from __future__ import annotations

import contextlib
import random
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal, TypeVar

from ragtune.errors import ConfigError, RagtuneError

Role = Literal["system", "user", "assistant"]
FinishReason = Literal["stop", "length"]
T = TypeVar("T")


class GenerationError(RagtuneError):
    """A backend rejected a request (e.g. HTTP 400): retrying would not help."""


@dataclass(frozen=True)
class ChatMessage:
    """One turn of a chat: ``ChatMessage("user", "What is the refund window?")``."""

    role: str
    content: str

    def to_dict(self) -> dict[str, str]:
        return {"role": self.role, "content": self.content}


@dataclass(frozen=True)
class GenerationParams:
    """How to sample. ``temperature == 0`` means greedy decoding.

    ``stop`` strings end a generation early; the returned text excludes them (and the
    whitespace before them).
    ``seed`` makes sampling repeatable on backends that support it.

    >>> GenerationParams(max_new_tokens=32, stop=("\\n\\n",)).greedy
    True
    """

    max_new_tokens: int = 64
    temperature: float = 0.0
    top_p: float = 1.0
    stop: tuple[str, ...] = ()
    seed: int | None = None

    def __post_init__(self) -> None:
        if self.max_new_tokens < 1:
            raise ConfigError(f"max_new_tokens must be >= 1 (got {self.max_new_tokens})")
        if self.temperature < 0:
            raise ConfigError(f"temperature must be >= 0 (got {self.temperature})")
        if not 0 < self.top_p <= 1:
            raise ConfigError(f"top_p must be in (0, 1] (got {self.top_p})")
        if isinstance(self.stop, str):  # a lone string is a common slip; accept it
            object.__setattr__(self, "stop", (self.stop,))
        else:
            object.__setattr__(self, "stop", tuple(s for s in self.stop if s))

    @property
    def greedy(self) -> bool:
        return self.temperature == 0


@dataclass
class Generation:
    """One completion. ``finish_reason`` is ``"stop"`` (end of turn or a stop string)
    or ``"length"`` (hit ``max_new_tokens``). ``completion_tokens`` counts the tokens the
    model actually produced (the compute spent), even if a stop string cut the text.
    ``seconds`` is the wall time of the request or batch that produced it (its latency);
    ``batch_size`` is how many conversations shared that time.
    """

    text: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    finish_reason: FinishReason = "stop"
    seconds: float = 0.0
    batch_size: int = 1


Conversation = Sequence[ChatMessage]


def as_conversation(conversation: str | Conversation) -> list[ChatMessage]:
    """Accept a bare prompt string as a one-turn user conversation."""
    if isinstance(conversation, str):
        return [ChatMessage("user", conversation)]
    messages = list(conversation)
    if not messages:
        raise ConfigError("a conversation needs at least one message")
    return messages


def cut_at_stop(text: str, stop: Iterable[str]) -> tuple[str, bool]:
    """Cut ``text`` before the earliest stop string; say whether one was found.

    >>> cut_at_stop("Paris.\\nQuestion: next", ["\\nQuestion:"])
    ('Paris.', True)
    """
    cut = min((i for i in (text.find(s) for s in stop) if i >= 0), default=-1)
    return (text[:cut], True) if cut >= 0 else (text, False)


def stream_until_stop(pieces: Iterable[str], stop: Sequence[str]) -> Iterator[str]:
    """Pass streamed text through, ending before any stop string, even one split
    across pieces (the last ``len(longest stop) - 1`` characters are held back)."""
    if not stop:
        yield from (p for p in pieces if p)
        return
    hold = max(len(s) for s in stop) - 1
    buffer = ""
    for piece in pieces:
        buffer += piece
        buffer, found = cut_at_stop(buffer, stop)
        if found:
            if buffer:
                yield buffer
            return
        if len(buffer) > hold:
            yield buffer[: len(buffer) - hold]
            buffer = buffer[len(buffer) - hold :]
    if buffer:
        yield buffer


@dataclass
class RetryPolicy:
    """Exponential backoff with jitter; a server's ``Retry-After`` wins when given.

    ``run(fn)`` calls ``fn`` until it returns, retrying on :class:`Retryable`.

    >>> RetryPolicy(max_retries=2, backoff_s=0.0).run(lambda: 42)
    42
    """

    max_retries: int = 4
    backoff_s: float = 0.5
    max_backoff_s: float = 30.0
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        if retry_after is not None:
            return max(0.0, min(retry_after, 4 * self.max_backoff_s))
        base = min(self.max_backoff_s, self.backoff_s * 2**attempt)
        return base * (0.5 + random.random() / 2)

    def run(self, fn: Callable[[], T]) -> T:
        attempt = 0
        while True:
            try:
                return fn()
            except Retryable as exc:
                if attempt >= self.max_retries:
                    raise exc.final from None
                self.sleep(self.delay(attempt, exc.retry_after))
                attempt += 1


class Retryable(Exception):
    """Raised inside ``RetryPolicy.run``: try again; ``final`` is raised when out of tries."""

    def __init__(self, final: Exception, retry_after: float | None = None) -> None:
        super().__init__(str(final))
        self.final = final
        self.retry_after = retry_after


class Generator(ABC):
    """A chat model behind one verb: ``generate(conversations, params, adapter)``.

    Subclasses set ``name`` and ``context_window`` and implement ``_generate_batch``
    (and ``count_tokens``; ``stream`` and ``truncate_to_tokens`` have fallbacks).
    The constructor arguments mirror :class:`ragtune.config.LLMConfig`.
    """

    name: str = "generator"
    context_window: int = 2048

    def __init__(
        self,
        *,
        max_new_tokens: int = 64,
        temperature: float = 0.0,
        batch_size: int = 16,
        context_tokens: int | None = None,
    ) -> None:
        if batch_size < 1:
            raise ConfigError(f"llm.batch_size must be >= 1 (got {batch_size})")
        self.default_params = GenerationParams(
            max_new_tokens=max_new_tokens, temperature=temperature
        )
        self.batch_size = batch_size
        self.context_tokens = context_tokens

    # -- the verb -------------------------------------------------------------------
    def generate(
        self,
        conversations: Sequence[str | Conversation],
        params: GenerationParams | None = None,
        adapter: str | None = None,
    ) -> list[Generation]:
        """Complete every conversation; results come back in input order.

        >>> llm.generate([[ChatMessage("user", "2+2?")]], GenerationParams(max_new_tokens=4))
        [Generation(text='4', ...)]
        """
        params = params or self.default_params
        convs = [as_conversation(c) for c in conversations]
        results: list[Generation | None] = [None] * len(convs)
        for indices in self.plan_batches(convs):
            batch = self._generate_batch([convs[i] for i in indices], params, adapter)
            for i, gen in zip(indices, batch, strict=True):
                results[i] = self._apply_stop(gen, params.stop)
        return [r for r in results if r is not None]

    def complete(
        self,
        prompt: str,
        params: GenerationParams | None = None,
        system: str | None = None,
        adapter: str | None = None,
    ) -> Generation:
        """One prompt, one answer: ``llm.complete("Name a colour.").text``."""
        conv = [ChatMessage("system", system)] if system else []
        return self.generate([[*conv, ChatMessage("user", prompt)]], params, adapter)[0]

    def stream(
        self,
        conversation: str | Conversation,
        params: GenerationParams | None = None,
        adapter: str | None = None,
    ) -> Iterator[str]:
        """Yield the answer to one conversation piece by piece.

        >>> "".join(llm.stream([ChatMessage("user", "Hi")]))
        """
        yield self.generate([conversation], params, adapter)[0].text

    def cache_identity(self) -> str | None:
        """What decides this generator's greedy answers (model, weights, dtype, threads),
        or ``None`` when it cannot vouch that the same prompt gets the same answer: then
        its answers are never cached. A backend that can, says so here."""
        return None

    @contextlib.contextmanager
    def uncached(self) -> Iterator[None]:
        """Inside the block every answer is computed afresh (a latency probe's need);
        a no-op here, honoured by :class:`~ragtune.llm.answer_cache.CachedGenerator`."""
        yield

    # -- what a backend provides ----------------------------------------------------
    @abstractmethod
    def _generate_batch(
        self, conversations: list[list[ChatMessage]], params: GenerationParams, adapter: str | None
    ) -> list[Generation]:
        """Generate for one planned batch, in the order given."""

    def plan_batches(self, conversations: list[list[ChatMessage]]) -> list[list[int]]:
        """Group conversation indices into batches; default: ``batch_size`` in order."""
        n = len(conversations)
        return [list(range(s, min(n, s + self.batch_size))) for s in range(0, n, self.batch_size)]

    def count_tokens(self, text: str) -> int:
        """Tokens in ``text`` by this model's tokenizer (fallback: ~4 characters each)."""
        return max(len(text.split()), (len(text) + 3) // 4) if text else 0

    def truncate_to_tokens(self, text: str, n: int) -> str:
        """The longest prefix of ``text`` with at most ``n`` tokens (cut at a word end).

        >>> llm.truncate_to_tokens("one two three four", 2)
        'one two'
        """
        if n <= 0:
            return ""
        if self.count_tokens(text) <= n:
            return text
        words = text.split(" ")
        lo, hi = 0, len(words)  # binary search on the number of words kept
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if self.count_tokens(" ".join(words[:mid])) <= n:
                lo = mid
            else:
                hi = mid - 1
        return " ".join(words[:lo])

    @property
    def prompt_budget(self) -> int:
        """Tokens a prompt may use: ``context_tokens`` if configured, else the window."""
        return min(self.context_tokens or self.context_window, self.context_window)

    # -- shared helpers -------------------------------------------------------------
    @staticmethod
    def _apply_stop(gen: Generation, stop: Sequence[str]) -> Generation:
        if not stop:
            return gen
        text, found = cut_at_stop(gen.text, stop)
        return replace(gen, text=text.rstrip(), finish_reason="stop") if found else gen

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"
