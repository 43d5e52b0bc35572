"""Reciprocal rank fusion (Cormack et al. 2009): ``score = sum 1 / (k + rank)``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ragtune.types import Chunk, Hit

Fused = tuple[str, float, dict[str, float]]


def fuse_ids(
    rankings: Mapping[str, Sequence[tuple[str, float]]], k: int = 60, top_k: int | None = None
) -> list[Fused]:
    """Fuse ranked ``(chunk id, score)`` lists: ``(chunk id, rrf score, scores)``, best first.

    ``scores`` keeps each list's own score and rank (``"bm25"``, ``"bm25_rank"``, ...) and
    the fused one (``"rrf"``). Working on ids lets a caller fetch only the chunks that
    survive the cut.
    """
    fused: dict[str, float] = {}
    scores: dict[str, dict[str, float]] = {}
    for name, ranking in rankings.items():
        for rank, (chunk_id, score) in enumerate(ranking, start=1):
            fused[chunk_id] = fused.get(chunk_id, 0.0) + 1.0 / (k + rank)
            scores.setdefault(chunk_id, {}).update({name: score, f"{name}_rank": float(rank)})
    ordered = sorted(fused, key=lambda cid: (-fused[cid], cid))[: top_k or None]
    return [(cid, fused[cid], {**scores[cid], "rrf": fused[cid]}) for cid in ordered]


def reciprocal_rank_fusion(
    rankings: Mapping[str, Sequence[Hit]], k: int = 60, top_k: int | None = None
) -> list[Hit]:
    """Fuse ranked lists of hits (by chunk id). Each fused hit keeps every list's score.

    >>> fused = reciprocal_rank_fusion({"bm25": bm25_hits, "dense": dense_hits})  # doctest: +SKIP
    """
    chunks: dict[str, Chunk] = {}
    ids: dict[str, list[tuple[str, float]]] = {}
    for name, hits in rankings.items():
        for hit in hits:
            chunks.setdefault(hit.chunk.id, hit.chunk)
        ids[name] = [(h.chunk.id, h.scores.get(name, h.score)) for h in hits]
    return hits_from_fused(fuse_ids(ids, k, top_k), chunks)


def hits_from_fused(fused: Sequence[Fused], chunks: Mapping[str, Chunk]) -> list[Hit]:
    """Hits for the fused ids that ``chunks`` holds, ranked 1, 2, ... in fused order."""
    kept = [(cid, score, scores) for cid, score, scores in fused if cid in chunks]
    return [
        Hit(chunk=chunks[cid], score=score, rank=rank, scores=scores)
        for rank, (cid, score, scores) in enumerate(kept, start=1)
    ]
