"""Retrieval metrics over distinct documents in rank order."""

from __future__ import annotations

import pytest

from ragtune.evaluate.retrieval import (
    dedupe,
    hit_at_k,
    ndcg_at_k,
    recall_at_k,
    reciprocal_rank,
    retrieval_scores,
)


def test_dedupe_keeps_first_rank() -> None:
    assert dedupe(["a", "b", "a", "c", "b"]) == ["a", "b", "c"]


def test_recall_denominator_is_capped_by_k() -> None:
    relevant = {f"d{i}" for i in range(10)}
    assert recall_at_k(["d1", "d2", "d3", "d4"], relevant, 4) == 1.0
    assert recall_at_k(["x", "d2"], {"d2", "d9"}, 4) == 0.5
    assert recall_at_k(["x"], set(), 4) == 0.0


def test_mrr_ndcg_hit() -> None:
    assert reciprocal_rank(["x", "y", "a"], {"a"}) == pytest.approx(1 / 3)
    assert reciprocal_rank(["x"], {"a"}) == 0.0
    assert ndcg_at_k(["a", "b"], {"a", "b"}) == pytest.approx(1.0)
    assert ndcg_at_k(["b", "a"], {"a"}) < ndcg_at_k(["a", "b"], {"a"})
    assert hit_at_k(["x", "a"], {"a"}, 1) == 0.0 and hit_at_k(["x", "a"], {"a"}, 2) == 1.0


def test_retrieval_scores_names() -> None:
    assert set(retrieval_scores(["a"], ["a"], 3)) == {"recall@3", "hit@3", "mrr", "ndcg@10"}
