"""A model-free reranker for tests: the share of query words found in the chunk."""

from __future__ import annotations

import re
from collections.abc import Sequence

from ragtune.retrieve.rerank import Reranker

_WORD = re.compile(r"\w+")


class OverlapReranker(Reranker):
    """``score = |query words ∩ passage words| / |query words|``."""

    def __init__(self, model: str = "overlap", batch_size: int = 32) -> None:
        self.model_name = model

    def score(self, query: str, passages: Sequence[str]) -> list[float]:
        query_words = set(_WORD.findall(query.lower()))
        if not query_words:
            return [0.0] * len(passages)
        return [
            len(query_words & set(_WORD.findall(p.lower()))) / len(query_words) for p in passages
        ]
