"""A deterministic, model-free embedder for tests: hashed bag of words."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence

import numpy as np

from ragtune.embed.base import Embedder, normalize_rows

_WORD = re.compile(r"\w+")


class HashEmbedder(Embedder):
    """Each lower-cased word adds +1 to one of ``dim`` buckets chosen by its hash.

    HashEmbedder(dim=64).embed(["red router", "router red"])  # two equal rows
    """

    def __init__(self, model: str = "hash", dim: int = 256, batch_size: int = 256) -> None:
        self.model_name = model
        self._dim = dim
        self.batch_size = batch_size
        self.calls = 0
        self.texts_embedded = 0

    @property
    def dim(self) -> int:
        return self._dim

    @property
    def fingerprint(self) -> str:
        return f"hash:{self.model_name}:{self._dim}"

    def _bucket(self, word: str) -> int:
        return (
            int.from_bytes(hashlib.blake2b(word.encode(), digest_size=8).digest(), "little")
            % self._dim
        )

    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        self.calls += 1
        self.texts_embedded += len(texts)
        out = np.zeros((len(texts), self._dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in _WORD.findall(text.lower()):
                out[row, self._bucket(word)] += 1.0
        return normalize_rows(out)

    def token_counter(self) -> Callable[[str], int]:
        return lambda text: len(_WORD.findall(text))
