"""Query -> hits: dense, BM25, or hybrid (RRF), then an optional rerank."""

from __future__ import annotations

from typing import Any, Literal

from ragtune.embed.base import Embedder
from ragtune.index.base import Store
from ragtune.retrieve.fusion import fuse_ids, hits_from_fused
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

    def retrieve(
        self,
        query: str,
        k: int = 5,
        filters: dict[str, Any] | None = None,
        mode: Mode | None = None,
    ) -> list[Hit]:
        mode = mode or self.mode
        depth = max(k, self.candidates)
        keep = depth if self.reranker is not None else k
        if mode == "bm25":
            hits = self.store.search_bm25(query, depth, filters)[:keep]
        else:
            assert self.embedder is not None
            vector = self.embedder.embed_query(query)
            if mode == "dense":
                hits = self.store.search_dense(vector, depth, filters)[:keep]
            else:
                # Fuse on chunk ids, then fetch only the chunks that survive: reading
                # and decoding every candidate row costs more than both searches.
                fused = fuse_ids(
                    {
                        "dense": self.store.search_dense_ids(vector, depth, filters),
                        "bm25": self.store.search_bm25_ids(query, depth, filters),
                    },
                    k=self.rrf_k,
                    top_k=keep,
                )
                chunks = self.store.get_chunks([cid for cid, _, _ in fused])
                hits = hits_from_fused(fused, {c.id: c for c in chunks})
        if self.reranker is not None:
            hits = self.reranker.rerank(query, hits, top_k=k)
        return hits
