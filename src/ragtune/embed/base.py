"""The embedder interface. Implementations supply ``embed_batch``; batching lives here."""

from __future__ import annotations

import inspect
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from ragtune.config import EmbedConfig


class Embedder(ABC):
    """Turns texts into L2-normalised float32 vectors of a fixed size.

    ``fingerprint`` names the model exactly (backend, model, dim): the store keeps it and
    re-indexes when it changes, so vectors of two models are never mixed.
    """

    batch_size: int = 64

    @property
    @abstractmethod
    def dim(self) -> int: ...

    @property
    @abstractmethod
    def fingerprint(self) -> str: ...

    @abstractmethod
    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        """Embed one batch; returns a (len(texts), dim) float32 array, rows unit length."""

    def embed(
        self,
        texts: Sequence[str],
        on_progress: Callable[[int], None] | None = None,
    ) -> np.ndarray:
        """Embed any number of texts in batches of ``batch_size``.

        ``on_progress(n)`` is called after each batch with the number of texts done in it.
        """
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        step = max(1, self.batch_size)
        for start in range(0, len(texts), step):
            batch = texts[start : start + step]
            out[start : start + len(batch)] = self.embed_batch(batch)
            if on_progress is not None:
                on_progress(len(batch))
        return out

    def embed_query(self, text: str) -> np.ndarray:
        """One query vector, shape (dim,)."""
        return self.embed_batch([text])[0]

    def token_counter(self) -> Callable[[str], int] | None:
        """The model's own token counter, if it has one (chunk sizes are in its tokens)."""
        return None


def normalize_rows(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return vectors / norms


def create_embedder(config: EmbedConfig) -> Embedder:
    """Build the embedder that ``config`` (an :class:`~ragtune.config.EmbedConfig`) names.

    The rule of :func:`ragtune.llm.create_generator`: each config field is passed to the
    backend's constructor if it takes an argument of that name (every field if it takes
    ``**kwargs``), so a plugin receives what it declares and nothing else. A field left
    unset (``None``) is not passed, so the backend's own default applies.

    >>> create_embedder(EmbedConfig(backend="hash", dim=64)).dim   # doctest: +SKIP
    64
    """
    from ragtune.registry import embedders

    factory = embedders.get(config.backend)
    values = config.model_dump(exclude={"backend"}, exclude_none=True)
    try:
        parameters = inspect.signature(factory).parameters
    except (TypeError, ValueError):  # a builtin or C factory: pass everything
        embedder: Embedder = factory(**values)
        return embedder
    if not any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()):
        values = {k: v for k, v in values.items() if k in parameters}
    embedder = factory(**values)
    return embedder
