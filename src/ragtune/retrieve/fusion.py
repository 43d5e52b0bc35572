"""Reciprocal rank fusion (Cormack et al. 2009): ``score = sum 1 / (k + rank)``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ragtune.types import Hit


def reciprocal_rank_fusion(
    rankings: Mapping[str, Sequence[Hit]], k: int = 60, top_k: int | None = None
) -> list[Hit]:
    """Fuse ranked lists of hits (by chunk id). Each fused hit keeps every list's score.

    >>> fused = reciprocal_rank_fusion({"bm25": bm25_hits, "dense": dense_hits})  # doctest: +SKIP
    """
    fused: dict[str, Hit] = {}
    for name, hits in rankings.items():
        for rank, hit in enumerate(hits, start=1):
            entry = fused.get(hit.chunk.id)
            if entry is None:
                entry = fused[hit.chunk.id] = Hit(chunk=hit.chunk, score=0.0, scores={})
            entry.score += 1.0 / (k + rank)
            entry.scores[name] = hit.scores.get(name, hit.score)
            entry.scores[f"{name}_rank"] = float(rank)
    ordered = sorted(fused.values(), key=lambda h: (-h.score, h.chunk.id))
    for rank, hit in enumerate(ordered, start=1):
        hit.rank = rank
        hit.scores["rrf"] = hit.score
    return ordered[:top_k] if top_k else ordered
