"""Greedy answers already computed, reused when exactly the same model meets exactly the
same prompt again.

A team edits one document and re-runs the comparison: most prompts are what they were
(the closed-book arms' questions, the RAG prompts whose retrieved passages did not
change), and greedy decoding gives the same answer to the same prompt whatever the batch
(``ragtune.llm.rowwise``). Like LangChain's ``SQLiteCache`` or vLLM's prefix cache, the
answer is looked up instead of recomputed. The key is everything that decides the
answer: the generator's identity (backend, model, dtype, ragtune's version), the
adapter's fingerprint (its weights, so a retrained adapter never hits an old answer),
the sampling parameters and every message of the conversation::

    from ragtune.llm.answer_cache import AnswerCache, CachedGenerator

    cached = CachedGenerator(generator, AnswerCache(".ragtune/cache/answers.sqlite"),
                             identity="transformers:default", adapter_fingerprint=fp)
    cached.generate(convs)            # generated, then stored
    cached.generate(convs)            # read back: cached.hits == len(convs)
    with cached.uncached():
        cached.generate(convs[:1])    # measured afresh (a latency probe)

A reused answer keeps the latency and batch size measured when it was generated; the
evaluation counts reused answers per arm (an :class:`AnswerSpan`), keeps an arm's
latency probe beside its answers when every one of them was reused, and the report says
so. Sampled generations
(``temperature > 0``) are never cached, nor are a backend's answers when it cannot vouch
that the same prompt gets the same answer (:meth:`~ragtune.llm.base.Generator.cache_identity`
is ``None``: test doubles, decoding that is not batch-invariant).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ragtune.kvcache import KeyValueCache
from ragtune.llm.base import (
    ChatMessage,
    Conversation,
    Generation,
    GenerationParams,
    Generator,
    as_conversation,
)
from ragtune.machine import package_versions


class AnswerCache:
    """Generations by key, stored as JSON in a :class:`~ragtune.kvcache.KeyValueCache`."""

    def __init__(self, path: Path | str) -> None:
        self.store = KeyValueCache(path)

    def get_many(self, keys: Sequence[str]) -> dict[str, Generation]:
        return {k: Generation(**json.loads(v)) for k, v in self.store.get_many(keys).items()}

    def put_many(self, items: Mapping[str, Generation]) -> None:
        self.store.put_many({k: json.dumps(asdict(g)).encode() for k, g in items.items()})

    def get_measurement(self, key: str) -> dict[str, Any] | None:
        """A measurement kept beside the answers (an arm's latency probe), or ``None``."""
        found = self.store.get_many([f"measurement:{key}"])
        return json.loads(next(iter(found.values()))) if found else None

    def put_measurement(self, key: str, value: Mapping[str, Any]) -> None:
        self.store.put_many({f"measurement:{key}": json.dumps(value).encode()})

    def __len__(self) -> int:
        return len(self.store)

    def close(self) -> None:
        self.store.close()


_NOT_IDENTITY = {"timeout_s", "max_retries", "api_key_env", "load_adapters"}


def generator_identity(generator: Generator, config: Mapping[str, object]) -> str | None:
    """What decides a generator's greedy answers: the versions of ragtune and the libraries
    that compute them, the ``[llm]`` settings (not timeouts or retries) and the backend's
    own :meth:`~Generator.cache_identity`; ``None`` when the backend cannot vouch for its
    answers (then nothing is cached)."""
    own = generator.cache_identity()
    if own is None:
        return None
    settings = {k: v for k, v in config.items() if k not in _NOT_IDENTITY}
    versions = package_versions(("ragtune", "torch", "transformers", "peft"))
    return json.dumps(
        {"versions": versions, "name": generator.name, "llm": settings, "backend": own},
        sort_keys=True,
        default=str,
    )


_FINGERPRINTS: dict[tuple[str, tuple[tuple[str, int, int], ...]], str] = {}


def folder_fingerprint(folder: Path) -> str:
    """A hash of the files directly in ``folder`` (an adapter's weights and config, not
    its training checkpoints), memoized by the files' sizes and modification times."""
    files = sorted(p for p in folder.iterdir() if p.is_file())
    stamp = tuple((p.name, st.st_size, st.st_mtime_ns) for p in files for st in [p.stat()])
    key = (str(folder.resolve()), stamp)
    if key not in _FINGERPRINTS:
        digest = hashlib.sha256()
        for path in files:
            digest.update(path.name.encode() + b"\0")
            digest.update(hashlib.sha256(path.read_bytes()).digest())
        _FINGERPRINTS[key] = digest.hexdigest()
    return _FINGERPRINTS[key]


def answer_key(
    identity: str, adapter: str, params: GenerationParams, conversation: Iterable[ChatMessage]
) -> str:
    """The cache key of one greedy generation: a hash of everything that decides it."""
    material = json.dumps(
        [identity, adapter, asdict(params), [[m.role, m.content] for m in conversation]],
        ensure_ascii=False,
    )
    return hashlib.sha256(material.encode()).hexdigest()


class CachedGenerator(Generator):
    """``inner`` behind an :class:`AnswerCache`; everything but ``generate`` is delegated.

    ``identity`` names the model that answers (two generators with the same identity must
    give the same greedy answers); ``adapter_fingerprint`` maps an adapter name (or
    ``None``, the base model) to a fingerprint of its weights.
    """

    def __init__(
        self,
        inner: Generator,
        cache: AnswerCache,
        identity: str,
        adapter_fingerprint: Callable[[str | None], str],
    ) -> None:
        self.inner, self.cache, self.identity = inner, cache, identity
        self.adapter_fingerprint = adapter_fingerprint
        self.name, self.context_window = inner.name, inner.context_window
        self.default_params, self.batch_size = inner.default_params, inner.batch_size
        self.context_tokens = inner.context_tokens
        # Every key looked up, in order, and whether the cache had it.
        self.seen: list[tuple[str, bool]] = []
        self._bypass = False

    @property
    def hits(self) -> int:
        """Answers read back from the cache so far."""
        return sum(hit for _, hit in self.seen)

    def span(self) -> AnswerSpan:
        """The answers looked up from now on (one arm's pass over its questions)."""
        return AnswerSpan(self, len(self.seen))

    @contextlib.contextmanager
    def uncached(self) -> Iterator[None]:
        """Generate afresh inside the block (what a latency probe must measure)."""
        previous, self._bypass = self._bypass, True
        try:
            yield
        finally:
            self._bypass = previous

    def generate(
        self,
        conversations: Sequence[str | Conversation],
        params: GenerationParams | None = None,
        adapter: str | None = None,
    ) -> list[Generation]:
        params = params or self.default_params
        if self._bypass or not params.greedy:
            return self.inner.generate(conversations, params, adapter)
        convs = [as_conversation(c) for c in conversations]
        fingerprint = self.adapter_fingerprint(adapter)
        keys = [answer_key(self.identity, fingerprint, params, c) for c in convs]
        found = self.cache.get_many(keys)
        self.seen.extend((key, key in found) for key in keys)
        missing = [i for i, key in enumerate(keys) if key not in found]
        if missing:
            fresh = self.inner.generate([convs[i] for i in missing], params, adapter)
            made = {keys[i]: gen for i, gen in zip(missing, fresh, strict=True)}
            self.cache.put_many(made)
            found.update(made)
        return [found[key] for key in keys]

    def _generate_batch(
        self, conversations: list[list[ChatMessage]], params: GenerationParams, adapter: str | None
    ) -> list[Generation]:
        return self.inner.generate(conversations, params, adapter)

    def stream(
        self,
        conversation: str | Conversation,
        params: GenerationParams | None = None,
        adapter: str | None = None,
    ) -> Iterator[str]:
        return self.inner.stream(conversation, params, adapter)

    def plan_batches(self, conversations: list[list[ChatMessage]]) -> list[list[int]]:
        return self.inner.plan_batches(conversations)

    def count_tokens(self, text: str) -> int:
        return self.inner.count_tokens(text)

    def truncate_to_tokens(self, text: str, n: int) -> str:
        return self.inner.truncate_to_tokens(text, n)

    @property
    def prompt_budget(self) -> int:
        return self.inner.prompt_budget

    def __repr__(self) -> str:
        return f"CachedGenerator({self.inner!r})"


@dataclass(frozen=True)
class AnswerSpan:
    """The answers a :class:`CachedGenerator` looked up from ``start`` on.

    When every one of them was reused, what was measured over them in an earlier run
    (an arm's latency probe and the load it ran under) still describes them: it is kept
    beside the answers under a key of ``label`` and all their keys, and given back only
    then.
    """

    generator: CachedGenerator
    start: int

    @property
    def _seen(self) -> list[tuple[str, bool]]:
        return self.generator.seen[self.start :]

    @property
    def reused(self) -> int:
        return sum(hit for _, hit in self._seen)

    def _key(self, label: str) -> str:
        material = "\0".join([label, *(key for key, _ in self._seen)])
        return hashlib.sha256(material.encode()).hexdigest()

    def measurement(self, label: str) -> dict[str, Any] | None:
        """What :meth:`keep_measurement` kept for exactly these answers, all of them reused."""
        seen = self._seen
        if not seen or not all(hit for _, hit in seen):
            return None
        return self.generator.cache.get_measurement(self._key(label))

    def keep_measurement(self, label: str, value: Mapping[str, Any]) -> None:
        self.generator.cache.put_measurement(self._key(label), value)
