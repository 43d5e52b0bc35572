"""Rerankers rescore (query, passage) pairs; the cross-encoder is the real one.

No cross-encoder weights ship offline, so none is configured by default; set
``retrieve.reranker`` to a model id or folder (e.g. ``cross-encoder/ms-marco-MiniLM-L-6-v2``).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from pathlib import Path

from ragtune._lazy import require
from ragtune.errors import BackendUnavailableError
from ragtune.types import Hit


class Reranker(ABC):
    """Scores passages against a query; higher is more relevant."""

    @abstractmethod
    def score(self, query: str, passages: Sequence[str]) -> list[float]: ...

    def rerank(self, query: str, hits: Sequence[Hit], top_k: int) -> list[Hit]:
        """Reorder ``hits`` by this reranker's score, keeping the first-stage scores."""
        if not hits:
            return []
        scores = self.score(query, [h.chunk.text for h in hits])
        ranked = sorted(zip(hits, scores, strict=True), key=lambda pair: -pair[1])[:top_k]
        out = []
        for rank, (hit, score) in enumerate(ranked, start=1):
            out.append(
                Hit(
                    chunk=hit.chunk,
                    score=float(score),
                    rank=rank,
                    scores={**hit.scores, "rerank": float(score)},
                )
            )
        return out


class CrossEncoderReranker(Reranker):
    """A sentence-transformers ``CrossEncoder`` from a hub id or a local folder."""

    def __init__(self, model: str, batch_size: int = 32) -> None:
        st = require("sentence_transformers", "rag")
        kwargs = {"local_files_only": True} if Path(model).exists() else {}
        try:
            self._model = st.CrossEncoder(model, device="cpu", **kwargs)
        except OSError as exc:
            raise BackendUnavailableError(f"cannot load reranker model {model!r}: {exc}") from exc
        self.batch_size = batch_size

    def score(self, query: str, passages: Sequence[str]) -> list[float]:
        pairs = [(query, p) for p in passages]
        return [
            float(s)
            for s in self._model.predict(pairs, batch_size=self.batch_size, show_progress_bar=False)
        ]
