"""The contract every store backend must pass. Add a backend to STORE_FACTORIES."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from ragtune.index.base import IndexedDocument, Store
from ragtune.registry import stores
from ragtune.testing.hash_embedder import HashEmbedder
from ragtune.types import Chunk, Document

STORE_FACTORIES: dict[str, Callable[[Path], Store]] = {
    "sqlite": lambda path: stores.create("sqlite", path=path),
}

EMBEDDER = HashEmbedder(dim=64)


def make_item(doc_id: str, paragraphs: list[str], meta: dict | None = None) -> IndexedDocument:
    text = "\n\n".join(paragraphs)
    doc = Document(id=doc_id, text=text, source=f"/data/{doc_id}", title=doc_id, meta=meta or {})
    chunks, offset = [], 0
    for i, para in enumerate(paragraphs):
        start = text.index(para, offset)
        chunks.append(
            Chunk(
                id=f"{doc_id}::{i}",
                doc_id=doc_id,
                text=para,
                index=i,
                start_char=start,
                end_char=start + len(para),
                meta=dict(meta or {}),
            )
        )
        offset = start + len(para)
    return IndexedDocument(doc, chunks, EMBEDDER.embed([c.text for c in chunks]))


@pytest.fixture(params=sorted(STORE_FACTORIES))
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    backend = STORE_FACTORIES[request.param](tmp_path / "store")
    yield backend
    backend.close()


def corpus(store: Store) -> None:
    store.write(
        [
            make_item(
                "x200.md",
                ["The X200 router costs 1249 dollars.", "Warranty on the X200 is 3 years."],
                {"format": "md", "family": "x"},
            ),
            make_item(
                "x210.md",
                ["The X210 router costs 1399 dollars.", "Warranty on the X210 is 5 years."],
                {"format": "md", "family": "x"},
            ),
            make_item(
                "s10.pdf",
                ["The S10 switch ships from Tallinn.", "Support hours are 9 to 5."],
                {"format": "pdf", "family": "s"},
            ),
        ]
    )


def test_write_and_read_back(store: Store) -> None:
    corpus(store)
    assert sorted(store.document_hashes()) == ["s10.pdf", "x200.md", "x210.md"]
    doc = store.get_document("x200.md")
    assert doc is not None and doc.text.startswith("The X200 router")
    chunks = store.get_chunks(["x200.md::1", "x210.md::0"])
    assert [c.id for c in chunks] == ["x200.md::1", "x210.md::0"]
    assert doc.text[chunks[0].start_char : chunks[0].end_char] == chunks[0].text
    assert {r.id: r.n_chunks for r in store.list_documents()} == {
        "s10.pdf": 2,
        "x200.md": 2,
        "x210.md": 2,
    }


def test_dense_search_finds_the_matching_chunk(store: Store) -> None:
    corpus(store)
    hits = store.search_dense(EMBEDDER.embed_query("S10 switch ships from"), k=3)
    assert hits[0].chunk.id == "s10.pdf::0"
    assert [h.rank for h in hits] == [1, 2, 3]
    assert hits[0].score >= hits[1].score >= hits[2].score


def test_bm25_search_ranks_exact_terms_first(store: Store) -> None:
    corpus(store)
    hits = store.search_bm25("warranty X210", k=5)
    assert hits[0].chunk.id == "x210.md::1"
    assert all("bm25" in h.scores for h in hits)
    assert store.search_bm25("zebra", k=5) == []


def test_filters_restrict_both_retrievers(store: Store) -> None:
    corpus(store)
    dense = store.search_dense(
        EMBEDDER.embed_query("router costs"), k=10, filters={"format": "pdf"}
    )
    assert dense and {h.chunk.doc_id for h in dense} == {"s10.pdf"}
    sparse = store.search_bm25("router warranty support", k=10, filters={"family": "x"})
    assert sparse and {h.chunk.doc_id for h in sparse} <= {"x200.md", "x210.md"}
    assert (
        store.search_bm25("router", k=10, filters={"doc_id": "x210.md"})[0].chunk.doc_id
        == "x210.md"
    )
    assert (
        store.search_dense(EMBEDDER.embed_query("router"), k=10, filters={"format": "docx"}) == []
    )


def test_rewrite_replaces_chunks_and_vectors(store: Store) -> None:
    corpus(store)
    store.write([make_item("x200.md", ["The X200 router now costs 999 dollars."])])
    assert [r.n_chunks for r in store.list_documents() if r.id == "x200.md"] == [1]
    assert store.search_bm25("1249", k=5) == []
    assert store.search_bm25("999", k=5)[0].chunk.id == "x200.md::0"
    report = store.check()
    assert report.ok, report.problems
    assert report.chunks == report.vectors == 5


def test_delete_removes_everything_of_a_document(store: Store) -> None:
    corpus(store)
    assert store.delete(["x210.md", "missing.md"]) == 1
    assert "x210.md" not in store.document_hashes()
    assert all(h.chunk.doc_id != "x210.md" for h in store.search_bm25("X210 warranty router", k=10))
    assert all(
        h.chunk.doc_id != "x210.md" for h in store.search_dense(EMBEDDER.embed_query("X210"), k=10)
    )
    assert store.check().ok


def test_reopen_sees_the_same_index(store: Store, tmp_path: Path) -> None:
    corpus(store)
    store.close()
    reopened = STORE_FACTORIES["sqlite"](tmp_path / "store")
    assert reopened.search_bm25("Tallinn", k=1)[0].chunk.id == "s10.pdf::0"
    assert reopened.check().ok
    reopened.close()


def test_clear_and_settings(store: Store) -> None:
    corpus(store)
    store.set_setting("index_key", "abc")
    assert store.get_setting("index_key") == "abc"
    store.clear()
    assert store.document_hashes() == {}
    assert store.search_bm25("router", k=3) == []
    assert store.get_setting("index_key") == "abc"


def test_vector_count_must_match_chunks(store: Store) -> None:
    item = make_item("a.md", ["one", "two"])
    item.vectors = item.vectors[:1]
    with pytest.raises(ValueError, match="2 chunks but 1 vectors"):
        store.write([item])
    assert store.document_hashes() == {}


def test_empty_store_searches_return_nothing(store: Store) -> None:
    assert store.search_bm25("anything", k=3) == []
    assert store.search_dense(np.ones(64, dtype=np.float32) / 8, k=3) == []
    assert store.check().ok


def test_id_searches_agree_with_hit_searches(store: Store) -> None:
    corpus(store)
    vector = EMBEDDER.embed_query("router warranty")
    assert store.search_dense_ids(vector, 4) == [
        (h.chunk.id, h.score) for h in store.search_dense(vector, 4)
    ]
    assert store.search_bm25_ids("warranty X210", 4, {"family": "x"}) == [
        (h.chunk.id, h.score) for h in store.search_bm25("warranty X210", 4, {"family": "x"})
    ]
