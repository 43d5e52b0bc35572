"""The contract every reranker passes, as a pytest base class: subclass it and give it a
``reranker`` fixture::

    import pytest
    from ragtune.registry import rerankers
    from ragtune.testing.reranker_contract import RerankerContract

    class TestMyRerankerContract(RerankerContract):
        @pytest.fixture
        def reranker(self):
            return rerankers.create("my-reranker", model="...")

What it checks: one float score per passage, in input order, the same on every call and
whatever passages share the call; no passages, no scores; ``rerank`` returning at most
``top_k`` hits by descending score, ranked from 1, keeping the first-stage scores beside
``"rerank"``, with ties left in first-stage order. A subclass whose model judges
relevance (not a random test model) sets ``judges_relevance = True`` to also check that
the passage that answers the query comes first.

Importing this module imports pytest (``import ragtune`` never does).
"""

from __future__ import annotations

from typing import ClassVar

import pytest

from ragtune.retrieve.rerank import Reranker
from ragtune.types import Chunk, Hit

__all__ = ["PASSAGES", "QUERY", "RerankerContract"]

QUERY = "How often is a checkpoint forced by default?"
#: The first passage answers ``QUERY``; the others share few or none of its words.
PASSAGES = [
    "By default a checkpoint is forced every five minutes (checkpoint_timeout).",
    "The project was started in 1998 and moved to a community process in 1996.",
    "Logs are rotated daily and kept for seven days.",
    "The client library is written in C and weighs 300 KB.",
]


def first_stage_hits(passages: list[str]) -> list[Hit]:
    """Hits as a first-stage retriever would hand them over: ranked, with its scores."""
    return [
        Hit(
            chunk=Chunk(id=f"d{i}::0", doc_id=f"d{i}", text=text),
            score=1.0 / (i + 1),
            rank=i + 1,
            scores={"rrf": 1.0 / (i + 1)},
        )
        for i, text in enumerate(passages)
    ]


class RerankerContract:
    """Shared behaviour of rerankers; the subclass provides a ``reranker`` fixture.

    ``rel`` and ``abs_tol`` are how far float arithmetic in another batch may move a
    score (a model that pads its batches moves them by about ``1e-5``);
    ``judges_relevance`` turns on the relevance check.
    """

    judges_relevance: ClassVar[bool] = False
    rel: ClassVar[float] = 1e-4
    abs_tol: ClassVar[float] = 1e-5

    def approx(self, expected: list[float] | float) -> object:
        """``expected`` within this reranker's tolerance, for ``==``."""
        return pytest.approx(expected, rel=self.rel, abs=self.abs_tol)

    def test_one_float_score_per_passage(self, reranker: Reranker) -> None:
        scores = reranker.score(QUERY, PASSAGES)
        assert len(scores) == len(PASSAGES)
        assert all(isinstance(s, float) for s in scores)

    def test_no_passages_no_scores(self, reranker: Reranker) -> None:
        assert reranker.score(QUERY, []) == []
        assert reranker.rerank(QUERY, [], top_k=3) == []

    def test_scores_are_deterministic_and_independent_of_company(self, reranker: Reranker) -> None:
        together = reranker.score(QUERY, PASSAGES)
        assert reranker.score(QUERY, PASSAGES) == self.approx(together)
        reversed_scores = reranker.score(QUERY, PASSAGES[::-1])[::-1]
        assert reversed_scores == self.approx(together)
        alone = [reranker.score(QUERY, [p])[0] for p in PASSAGES]
        assert alone == self.approx(together)

    def test_rerank_orders_by_score_and_keeps_first_stage_scores(self, reranker: Reranker) -> None:
        hits = first_stage_hits(PASSAGES)
        ranked = reranker.rerank(QUERY, hits, top_k=3)
        assert len(ranked) == 3
        assert [h.rank for h in ranked] == [1, 2, 3]
        assert [h.score for h in ranked] == sorted((h.score for h in ranked), reverse=True)
        scores = dict(zip((h.chunk.id for h in hits), reranker.score(QUERY, PASSAGES), strict=True))
        for hit in ranked:
            assert hit.scores["rerank"] == hit.score == self.approx(scores[hit.chunk.id])
            assert hit.scores["rrf"] == next(
                h.scores["rrf"] for h in hits if h.chunk.id == hit.chunk.id
            )
        best = sorted(scores.values(), reverse=True)[:3]
        assert [h.score for h in ranked] == self.approx(best)  # the top 3 of all, not of some
        assert len(reranker.rerank(QUERY, hits, top_k=10)) == len(hits)

    def test_ties_keep_first_stage_order(self, reranker: Reranker) -> None:
        # The same text twice scores the same: the first-stage order breaks the tie.
        hits = first_stage_hits([PASSAGES[2], PASSAGES[2], PASSAGES[2]])
        ranked = reranker.rerank(QUERY, hits, top_k=3)
        assert [h.chunk.id for h in ranked] == [h.chunk.id for h in hits]

    def test_the_answering_passage_ranks_first(self, reranker: Reranker) -> None:
        if not self.judges_relevance:
            pytest.skip("this reranker's model does not judge relevance (a random test model)")
        ranked = reranker.rerank(QUERY, first_stage_hits(PASSAGES[::-1]), top_k=1)
        assert ranked[0].chunk.text == PASSAGES[0]
