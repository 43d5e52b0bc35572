"""Retrieval: dense, BM25, hybrid fusion (RRF), cross-encoder rerank."""

from __future__ import annotations

from ragtune.retrieve.fusion import reciprocal_rank_fusion
from ragtune.retrieve.rerank import Reranker
from ragtune.retrieve.retriever import Retriever

__all__ = ["Reranker", "Retriever", "reciprocal_rank_fusion"]
