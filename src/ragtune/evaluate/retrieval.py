"""Retrieval metrics against the documents that state the answer (``QAExample.doc_ids``).

Rankings are of document ids, taken from ``Answer.hits`` in rank order; several chunks
of one document count once, at the rank of its best chunk::

    >>> ranked = dedupe(["a.md", "b.md", "a.md", "c.md"])
    >>> ranked
    ['a.md', 'b.md', 'c.md']
    >>> recall_at_k(ranked, {"c.md", "z.md"}, k=3), reciprocal_rank(ranked, {"c.md"})
    (0.5, 0.3333333333333333)
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

from ragtune.types import Hit


def dedupe(doc_ids: Iterable[str]) -> list[str]:
    """Document ids in first-seen order, each once."""
    seen: dict[str, None] = {}
    for doc_id in doc_ids:
        seen.setdefault(doc_id, None)
    return list(seen)


def ranked_doc_ids(hits: Sequence[Hit]) -> list[str]:
    """The distinct documents of ``hits`` in rank order."""
    return dedupe(h.chunk.doc_id for h in sorted(hits, key=lambda h: h.rank or 0))


def recall_at_k(ranked: Sequence[str], relevant: set[str], k: int) -> float:
    """Share of the relevant documents found in the top ``k``.

    Questions whose fact is stated in many documents (a company's founding year is in
    every press release) could never reach 1.0 with a small ``k``; the denominator is
    ``min(k, |relevant|)`` so a top-k that is all relevant scores 1.0.
    """
    if not relevant:
        return 0.0
    found = len(set(ranked[:k]) & relevant)
    return found / min(k, len(relevant))


def hit_at_k(ranked: Sequence[str], relevant: set[str], k: int) -> float:
    """1.0 when any relevant document is in the top ``k``."""
    return float(any(d in relevant for d in ranked[:k]))


def reciprocal_rank(ranked: Sequence[str], relevant: set[str]) -> float:
    """1 / rank of the first relevant document (0.0 if none was retrieved)."""
    for position, doc_id in enumerate(ranked, start=1):
        if doc_id in relevant:
            return 1.0 / position
    return 0.0


def ndcg_at_k(ranked: Sequence[str], relevant: set[str], k: int = 10) -> float:
    """Binary-relevance nDCG@k.

    >>> round(ndcg_at_k(["x", "a"], {"a"}, k=10), 3)
    0.631
    """
    if not relevant:
        return 0.0
    dcg = sum(1.0 / math.log2(i + 2) for i, d in enumerate(ranked[:k]) if d in relevant)
    ideal = sum(1.0 / math.log2(i + 2) for i in range(min(k, len(relevant))))
    return dcg / ideal


def retrieval_scores(ranked: Sequence[str], relevant: Iterable[str], k: int) -> dict[str, float]:
    """``recall@k``, ``hit@k``, ``mrr`` and ``ndcg@10`` for one question."""
    gold = set(relevant)
    return {
        f"recall@{k}": round(recall_at_k(ranked, gold, k), 4),
        f"hit@{k}": hit_at_k(ranked, gold, k),
        "mrr": round(reciprocal_rank(ranked, gold), 4),
        "ndcg@10": round(ndcg_at_k(ranked, gold, 10), 4),
    }
