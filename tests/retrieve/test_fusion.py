from __future__ import annotations

from ragtune.retrieve.fusion import reciprocal_rank_fusion
from ragtune.types import Chunk, Hit


def hit(chunk_id: str, score: float) -> Hit:
    return Hit(chunk=Chunk(id=chunk_id, doc_id=chunk_id.split("::")[0], text=chunk_id), score=score)


def test_rrf_rewards_agreement() -> None:
    bm25 = [hit("a::0", 9.0), hit("b::0", 5.0), hit("c::0", 1.0)]
    dense = [hit("c::0", 0.9), hit("b::0", 0.8), hit("d::0", 0.1)]
    fused = reciprocal_rank_fusion({"bm25": bm25, "dense": dense}, k=60)
    # Found by both lists beats found by one, however high: 1/61 + 1/63 > 2/62 > 1/61.
    assert [h.chunk.id for h in fused][:2] == ["c::0", "b::0"]
    assert fused[1].scores["bm25_rank"] == 2 and fused[1].scores["dense_rank"] == 2
    assert abs(fused[0].score - (1 / 61 + 1 / 63)) < 1e-12
    assert [h.rank for h in fused] == [1, 2, 3, 4]


def test_top_k_cuts() -> None:
    fused = reciprocal_rank_fusion({"x": [hit("a::0", 1), hit("b::0", 1)]}, top_k=1)
    assert len(fused) == 1
