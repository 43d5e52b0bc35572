"""Named backends: every embedder, store, generator and reranker is found by a string.

Built-ins register through the same door as plugins. A registration names either the
class itself or a ``"module:attr"`` path, so that heavy backends (torch, transformers)
are imported only when a config asks for them::

    from ragtune.registry import embedders

    embedders.register("my-embedder", "my_pkg.embed:MyEmbedder")
    embedder = embedders.create("my-embedder", model="...")

Third-party packages declare an entry point in the ``ragtune.plugins`` group whose
module calls ``register`` on import; ``load_plugins()`` imports them once.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from ragtune.arms import ArmRegistry, ArmSpec
from ragtune.errors import ConfigError
from ragtune.plugins import load_plugins

T = TypeVar("T")


class Registry(Generic[T]):
    """A mapping from backend name to a factory, resolved lazily."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: dict[str, Callable[..., T] | str] = {}

    def register(self, name: str, target: Callable[..., T] | str | None = None) -> Any:
        """Register ``target`` (a class, a factory, or ``"module:attr"``) under ``name``.

        Used bare it is a class decorator: ``@embedders.register("hash")``.
        """
        if target is not None:
            self._entries[name] = target
            return target

        def decorator(obj: Callable[..., T]) -> Callable[..., T]:
            self._entries[name] = obj
            return obj

        return decorator

    def names(self) -> list[str]:
        load_plugins()
        return sorted(self._entries)

    def get(self, name: str) -> Callable[..., T]:
        load_plugins()
        try:
            target = self._entries[name]
        except KeyError:
            known = ", ".join(sorted(self._entries)) or "none"
            raise ConfigError(f"unknown {self.kind} backend {name!r}; known: {known}") from None
        if isinstance(target, str):
            module_name, _, attr = target.partition(":")
            target = getattr(importlib.import_module(module_name), attr)
            self._entries[name] = target
        return target

    def create(self, name: str, /, **kwargs: Any) -> T:
        return self.get(name)(**kwargs)


# The registries. Built-in backends are listed here by import path, so nothing heavy
# is imported until a backend is created.
embedders: Registry[Any] = Registry("embedder")
embedders.register(
    "sentence-transformers", "ragtune.embed.sentence_transformers:SentenceTransformerEmbedder"
)
embedders.register("openai", "ragtune.embed.openai:OpenAIEmbedder")
embedders.register("hash", "ragtune.testing.hash_embedder:HashEmbedder")

stores: Registry[Any] = Registry("store")
stores.register("sqlite", "ragtune.index.sqlite:SQLiteStore")
stores.register("qdrant", "ragtune.index.qdrant:QdrantStore")

rerankers: Registry[Any] = Registry("reranker")
rerankers.register("cross-encoder", "ragtune.retrieve.rerank:CrossEncoderReranker")
rerankers.register("overlap", "ragtune.testing.overlap_reranker:OverlapReranker")

generators: Registry[Any] = Registry("generator")
generators.register("transformers", "ragtune.llm.transformers:TransformersGenerator")
generators.register("openai", "ragtune.llm.openai:OpenAIGenerator")
generators.register("scripted", "ragtune.testing.scripted_generator:ScriptedGenerator")

# The arms. A spec is data, not a backend, so it is registered as itself.
arms = ArmRegistry()
arms.register(
    ArmSpec(
        "base",
        retrieves=False,
        order=10,
        color="#8a8f98",
        description="the base model alone, closed book: the floor",
    )
)
arms.register(
    ArmSpec(
        "rag",
        retrieves=True,
        order=20,
        color="#2f6fdb",
        description="the base model with retrieved passages, citing them",
    )
)
arms.register(
    ArmSpec(
        "ft",
        retrieves=False,
        adapter="qa",
        order=30,
        color="#e07b24",
        description="fine-tuned on QA synthesized from the documents, closed book",
    )
)
arms.register(
    ArmSpec(
        "ft+rag",
        retrieves=True,
        adapter="qa",
        order=40,
        color="#8a4fd0",
        description="the fine-tuned model with retrieved passages",
    )
)
arms.register(
    ArmSpec(
        "raft",
        retrieves=True,
        adapter="raft",
        order=50,
        color="#1c9a6c",
        description="fine-tuned RAFT-style (oracle + distractor passages), with retrieval",
    )
)
