"""Rerank with the real CrossEncoder class on a tiny random model, and the test double;
both pass :class:`~ragtune.testing.reranker_contract.RerankerContract`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ragtune.project import Project
from ragtune.registry import rerankers
from ragtune.retrieve.rerank import Reranker
from ragtune.testing.reranker_contract import RerankerContract
from ragtune.testing.tiny_models import build_tiny_cross_encoder
from tests.retrieve.test_fusion import hit
from tests.test_ingest import FAST, write_docs


@pytest.mark.integration
def test_cross_encoder_reranks_project_search(tmp_path: Path) -> None:
    model_dir = build_tiny_cross_encoder(tmp_path / "ce")
    project = Project.init(
        tmp_path / "proj", {**FAST, "retrieve": {"reranker": str(model_dir), "candidates": 10}}
    )
    write_docs(tmp_path / "docs", 3)
    project.ingest([tmp_path / "docs"])
    hits = project.search("P1 kilograms", k=3)
    assert len(hits) == 3
    assert all("rerank" in h.scores and "rrf" in h.scores for h in hits)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    # The random model's order is its own: scores come from the model, not fusion.
    model = rerankers.create("cross-encoder", model=str(model_dir))
    direct = model.score("P1 kilograms", [h.chunk.text for h in hits])
    assert direct == pytest.approx([h.score for h in hits], rel=1e-4)


def test_overlap_reranker_double_orders_by_shared_words() -> None:
    reranker = rerankers.create("overlap")
    hits = [hit("a::0", 1.0), hit("b::0", 0.5)]
    hits[0].chunk.text, hits[1].chunk.text = "nothing relevant", "warranty of the X200"
    ranked = reranker.rerank("X200 warranty", hits, top_k=2)
    assert [h.chunk.id for h in ranked] == ["b::0", "a::0"]
    assert ranked[0].rank == 1 and ranked[0].scores["rerank"] == 1.0


class TestOverlapRerankerContract(RerankerContract):
    judges_relevance = True  # shared words: the answering passage shares the most

    @pytest.fixture
    def reranker(self) -> Reranker:
        return rerankers.create("overlap")


@pytest.mark.integration
class TestCrossEncoderContract(RerankerContract):
    @pytest.fixture(scope="class")
    def reranker(self, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Reranker]:
        model_dir = build_tiny_cross_encoder(tmp_path_factory.mktemp("ce"))
        yield rerankers.create("cross-encoder", model=str(model_dir))


def test_every_built_in_reranker_has_a_contract_test() -> None:
    contracted = {"overlap": TestOverlapRerankerContract, "cross-encoder": TestCrossEncoderContract}
    built_in = {
        name for name in rerankers.names() if rerankers.get(name).__module__.startswith("ragtune.")
    }
    assert built_in == set(contracted)
