"""Query -> hits: dense, BM25, or hybrid (RRF), then an optional rerank."""

from __future__ import annotations

import time
from typing import Any, Literal

from ragtune.embed.base import Embedder
from ragtune.index.base import Store
from ragtune.retrieve.fusion import reciprocal_rank_fusion
from ragtune.retrieve.rerank import Reranker
from ragtune.types import Hit

Mode = Literal["dense", "bm25", "hybrid"]


class Retriever:
    """Hybrid retrieval over a store.

        retriever = Retriever(store, embedder, mode="hybrid", candidates=50)
        hits = retriever.retrieve("How long is the X200 warranty?", k=5)

    ``embedder`` may be ``None`` for BM25-only use (no model loaded).
    """

    def __init__(
        self,
        store: Store,
        embedder: Embedder | None,
        mode: Mode = "hybrid",
        candidates: int = 50,
        rrf_k: int = 60,
        reranker: Reranker | None = None,
    ) -> None:
        if mode != "bm25" and embedder is None:
            raise ValueError(f"retrieve mode {mode!r} needs an embedder")
        self.store = store
        self.embedder = embedder
        self.mode: Mode = mode
        self.candidates = candidates
        self.rrf_k = rrf_k
        self.reranker = reranker
        self.last_timings: dict[str, float] = {}

    def retrieve(
        self,
        query: str,
        k: int = 5,
        filters: dict[str, Any] | None = None,
        mode: Mode | None = None,
    ) -> list[Hit]:
        mode = mode or self.mode
        depth = max(k, self.candidates)
        timings: dict[str, float] = {}
        start = time.perf_counter()
        rankings: dict[str, list[Hit]] = {}
        if mode in ("dense", "hybrid"):
            assert self.embedder is not None
            vector = self.embedder.embed_query(query)
            timings["embed_query"] = time.perf_counter() - start
            rankings["dense"] = self.store.search_dense(vector, depth, filters)
        if mode in ("bm25", "hybrid"):
            rankings["bm25"] = self.store.search_bm25(query, depth, filters)
        keep = depth if self.reranker is not None else k
        if mode == "hybrid":
            hits = reciprocal_rank_fusion(rankings, k=self.rrf_k, top_k=keep)
        else:
            hits = rankings[mode][:keep]
        if self.reranker is not None:
            before = time.perf_counter()
            hits = self.reranker.rerank(query, hits, top_k=k)
            timings["rerank"] = time.perf_counter() - before
        timings["total"] = time.perf_counter() - start
        self.last_timings = timings
        return hits
