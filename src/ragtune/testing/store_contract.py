"""The contract every ``Store`` backend passes, as a pytest base class (needs pytest).

A backend's test module subclasses ``StoreContract`` and says how to open a store::

    from ragtune.testing.store_contract import StoreContract

    class TestMyStore(StoreContract):
        def make_store(self, path):
            return MyStore(path=path)

``make_store(path)`` opens the store that lives at ``path``: a fresh path gives an empty
store, and the same path again after ``close()`` gives the same data back (a server
backend may derive a collection name from the path). Nothing here assumes files.
For detailed assertion messages, call
``pytest.register_assert_rewrite("ragtune.testing.store_contract")`` in a conftest.
Importing this module imports pytest (``import ragtune`` never does).

What the contract holds a backend to:

- ``write`` replaces a document with all its chunks and vectors; a batch with a bad item
  (chunk and vector counts differ, a vector size unlike the store's) writes nothing and
  raises ``ValueError``.
- Searches return at most ``k`` hits (none for ``k < 1``) ranked 1, 2, ... by score,
  highest first; **equal scores are ordered by chunk id** (Python string order), at the
  ``k``-th place too. So results never depend on ingest history: two stores holding the
  same documents, written in any order through any edits and deletes, return identical
  hits, ids and scores alike, and so does a store reopened.
- ``search_*_ids`` agree with ``search_*``; BM25 never returns a chunk sharing no term
  with the query.
- ``set_sources`` changes where documents came from, keeping their chunks and vectors.
- A rebuild: ``begin_rebuild()`` gives an empty sibling while the store keeps serving;
  a sibling left by an interrupted rebuild is given back with what it holds (closing
  without committing is how a kill looks); ``commit_rebuild(sibling)`` returns a store
  holding exactly the sibling's documents and settings, and so does a reopen at ``path``.

The metadata filter grammar (``filters=`` of every search; checked for every backend
by ``ragtune.index.base.normalize_filters``, whose ``matches_filters`` is the reference):

- ``None`` or ``{}``: no restriction. Otherwise ``{key: condition, ...}``: a chunk is
  kept when it meets every condition (AND).
- ``doc_id``, ``source`` and ``title`` are the document's own fields. Any other key is a
  metadata key: the chunk's ``meta`` value if the chunk has the key (even ``None``),
  else its document's ``meta`` value. Keys are literal top-level names: ``"a.b"`` is
  the key ``"a.b"``, not a path into ``{"a": {"b": ...}}``.
- A condition is a ``str``, ``int`` or ``bool`` (equality), or a ``list``, ``tuple``,
  ``set`` or ``frozenset`` of them (any of; an empty one matches nothing).
- Values compare by their text: a ``str`` as is, an ``int`` in decimal, a ``bool`` as
  ``true``/``false``. So ``{"year": "2024"}`` (what ``--filter year=2024`` passes)
  matches a stored ``2024``, ``{"draft": True}`` a stored ``"true"``, and ``"007"``
  does not match ``7``.
- A stored list matches when any of its str, int or bool items does: ``{"tags": "x"}``
  keeps ``meta={"tags": ["x", "y"]}``. Stored floats, ``None``, dicts and missing keys
  never match.
- ``FilterError`` (a ``ValueError`` and a ``RagtuneError``) rejects, before any search:
  filters that are not a mapping; a key that is not a non-empty ``str`` or that holds
  ``"``; a float, ``None``, dict, bytes or nested list as a value; an int outside the
  signed 64-bit range.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from ragtune.index.base import (
    FilterError,
    IndexedDocument,
    Store,
    matches_filters,
    normalize_filters,
)
from ragtune.testing.hash_embedder import HashEmbedder
from ragtune.types import Chunk, Document, Hit

__all__ = ["EMBEDDER", "FILTER_CASES", "StoreContract", "make_item", "write_corpus"]

#: The embedder of every item the contract writes (64-d hashed bag of words).
EMBEDDER = HashEmbedder(dim=64)


def make_item(
    doc_id: str,
    paragraphs: list[str],
    meta: dict[str, Any] | None = None,
    chunk_meta: dict[int, dict[str, Any]] | None = None,
) -> IndexedDocument:
    """A document of one chunk per paragraph (ids ``doc_id::0``, ...) with hash vectors.

    Chunks carry ``meta`` unless ``chunk_meta`` gives chunk ``i`` its own dict.
    """
    text = "\n\n".join(paragraphs)
    doc = Document(id=doc_id, text=text, source=f"/data/{doc_id}", title=doc_id, meta=meta or {})
    chunks, offset = [], 0
    for i, para in enumerate(paragraphs):
        start = text.index(para, offset)
        own = (chunk_meta or {}).get(i, meta or {})
        chunks.append(
            Chunk(
                id=f"{doc_id}::{i}",
                doc_id=doc_id,
                text=para,
                index=i,
                start_char=start,
                end_char=start + len(para),
                meta=dict(own),
            )
        )
        offset = start + len(para)
    return IndexedDocument(doc, chunks, EMBEDDER.embed([c.text for c in chunks]))


def write_corpus(store: Store) -> None:
    """Three small documents (routers and a switch) with ``format`` and ``family`` meta."""
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


# -- filters: a corpus whose meta exercises every rule of the grammar ------------------
# Every chunk holds the word "item", so a BM25 search for it sees every chunk.
FILTER_DOCUMENTS = [
    make_item(
        "a.md",
        ["Item one of a.", "Item two of a."],
        {
            "format": "md",
            "year": 2024,
            "draft": True,
            "tags": ["x", "y"],
            "price": 9.5,
            "owner": None,
            "nested": {"k": "v"},
            "a.b": "dotted",
            "größe": "L",
        },
        chunk_meta={1: {"format": "pdf", "year": None}},
    ),
    make_item(
        "b.md",
        ["Item of b."],
        {"format": "md", "year": "2023", "draft": False, "tags": ["y"], "code": "007"},
    ),
    make_item(
        "c.txt", ["Item of c."], {"format": "txt", "year": 2023, "draft": "true", "tags": []}
    ),
]
ALL_FILTER_CHUNKS = {"a.md::0", "a.md::1", "b.md::0", "c.txt::0"}

# (filters, the chunk ids they keep)
FILTER_CASES: list[tuple[dict[str, Any] | None, set[str]]] = [
    (None, ALL_FILTER_CHUNKS),
    ({}, ALL_FILTER_CHUNKS),
    ({"format": "md"}, {"a.md::0", "b.md::0"}),  # a.md::1's own meta says pdf
    ({"format": "pdf"}, {"a.md::1"}),
    ({"format": ["pdf", "txt"]}, {"a.md::1", "c.txt::0"}),
    ({"format": ("pdf",)}, {"a.md::1"}),
    ({"format": {"txt"}}, {"c.txt::0"}),
    ({"format": frozenset({"md", "txt"})}, {"a.md::0", "b.md::0", "c.txt::0"}),
    ({"format": []}, set()),
    ({"year": 2024}, {"a.md::0"}),  # a.md::1 has its own year: None
    ({"year": "2024"}, {"a.md::0"}),
    ({"year": 2023}, {"b.md::0", "c.txt::0"}),  # b.md stores the string "2023"
    ({"year": ["2023", 2024]}, {"a.md::0", "b.md::0", "c.txt::0"}),
    ({"draft": True}, {"a.md::0", "a.md::1", "c.txt::0"}),  # c.txt stores "true"
    ({"draft": "false"}, {"b.md::0"}),
    ({"draft": 1}, set()),  # "1" is not "true"
    ({"tags": "x"}, {"a.md::0", "a.md::1"}),
    ({"tags": "y"}, {"a.md::0", "a.md::1", "b.md::0"}),
    ({"tags": ["x", "z"]}, {"a.md::0", "a.md::1"}),
    ({"price": "9.5"}, set()),  # stored floats never match
    ({"owner": "None"}, set()),
    ({"nested": "v"}, set()),  # stored dicts never match
    ({"nested.k": "v"}, set()),  # a key is a name, not a path
    ({"missing": "x"}, set()),
    ({"code": "007"}, {"b.md::0"}),
    ({"code": 7}, set()),
    ({"a.b": "dotted"}, {"a.md::0", "a.md::1"}),
    ({"größe": "L"}, {"a.md::0", "a.md::1"}),
    ({"doc_id": "b.md"}, {"b.md::0"}),
    ({"doc_id": ["b.md", "c.txt"]}, {"b.md::0", "c.txt::0"}),
    ({"source": "/data/c.txt"}, {"c.txt::0"}),
    ({"title": "a.md"}, {"a.md::0", "a.md::1"}),
    ({"format": "md", "year": 2024}, {"a.md::0"}),
    ({"format": "md", "doc_id": "c.txt"}, set()),
]


def _case_id(filters: dict[str, Any] | None) -> str:
    """A test id that is the same in every process (sets are shown sorted)."""
    if filters is None:
        return "None"
    shown = {k: sorted(v) if isinstance(v, set | frozenset) else v for k, v in filters.items()}
    return repr(shown)


BAD_FILTERS: list[Any] = [
    ["format"],
    {1: "x"},
    {"": "x"},
    {'a"b': "x"},
    {"price": 9.5},
    {"owner": None},
    {"nested": {"k": "v"}},
    {"tags": [["x"]]},
    {"format": b"md"},
    {"year": 2**63},
]

# -- history: the same final documents, however they got there ------------------------
BOILERPLATE = "Support hours are 9 to 5 on weekdays."


def _history_item(doc_id: str, version: int = 2) -> IndexedDocument:
    n = int(doc_id[1:])
    paragraphs = [
        f"The D{n} unit costs {100 * n + version} crowns and ships from depot {n % 3}.",
        BOILERPLATE,  # the same chunk text in every document: exact score ties
        f"Warranty on unit D{n} is {n % 4 + 1} years, version {version}.",
    ]
    return make_item(doc_id, paragraphs, {"kind": "manual" if n % 2 else "note"})


HISTORY_IDS = [f"d{n}" for n in range(1, 9)]
HISTORY_QUERIES = [
    "support hours weekdays",
    "unit costs crowns",
    "warranty years version",
    "depot 1",
    "D3 unit",
    "nothing matches zebra",
]


def _signature(hits: list[Hit]) -> list[tuple[int, str, float, str]]:
    return [(h.rank, h.chunk.id, h.score, h.chunk.text) for h in hits]


def _answers(store: Store) -> list[Any]:
    """Every search the history test compares, in a fixed order."""
    out: list[Any] = []
    for query in HISTORY_QUERIES:
        vector = EMBEDDER.embed_query(query)
        for k in (1, 3, 5, 30):
            for filters in (None, {"kind": "manual"}):
                out.append(_signature(store.search_dense(vector, k, filters)))
                out.append(_signature(store.search_bm25(query, k, filters)))
                out.append(store.search_dense_ids(vector, k, filters))
                out.append(store.search_bm25_ids(query, k, filters))
    return out


class StoreContract:
    """Pytest tests every ``Store`` backend passes; subclass and define ``make_store``.

    See the module docstring for what the tests hold a backend to, filters included.
    """

    def make_store(self, path: Path) -> Store:
        """Open the store at ``path`` (empty when new, the same data when reopened)."""
        raise NotImplementedError(f"{type(self).__name__} must define make_store(path)")

    @pytest.fixture
    def store(self, tmp_path: Path) -> Iterator[Store]:
        backend = self.make_store(tmp_path / "store")
        yield backend
        backend.close()

    # -- writes and reads ---------------------------------------------------------------
    def test_write_and_read_back(self, store: Store) -> None:
        write_corpus(store)
        assert sorted(store.document_hashes()) == ["s10.pdf", "x200.md", "x210.md"]
        doc = store.get_document("x200.md")
        assert doc is not None and doc.text.startswith("The X200 router")
        chunks = store.get_chunks(["x200.md::1", "x210.md::0", "missing::0"])
        assert [c.id for c in chunks] == ["x200.md::1", "x210.md::0"]
        assert doc.text[chunks[0].start_char : chunks[0].end_char] == chunks[0].text
        assert {r.id: r.n_chunks for r in store.list_documents()} == {
            "s10.pdf": 2,
            "x200.md": 2,
            "x210.md": 2,
        }
        assert [c.id for c in store.iter_chunks()][:2] == ["s10.pdf::0", "s10.pdf::1"]
        assert [d.id for d in store.iter_documents()] == ["s10.pdf", "x200.md", "x210.md"]

    def test_rewrite_replaces_chunks_and_vectors(self, store: Store) -> None:
        write_corpus(store)
        store.write([make_item("x200.md", ["The X200 router now costs 999 dollars."])])
        assert [r.n_chunks for r in store.list_documents() if r.id == "x200.md"] == [1]
        assert store.search_bm25("1249", k=5) == []
        assert store.search_bm25("999", k=5)[0].chunk.id == "x200.md::0"
        report = store.check()
        assert report.ok, report.problems
        assert report.chunks == report.vectors == 5

    def test_delete_removes_everything_of_a_document(self, store: Store) -> None:
        write_corpus(store)
        assert store.delete(["x210.md", "missing.md"]) == 1
        assert "x210.md" not in store.document_hashes()
        sparse = store.search_bm25("X210 warranty router", k=10)
        dense = store.search_dense(EMBEDDER.embed_query("X210"), k=10)
        assert sparse and dense
        assert all(h.chunk.doc_id != "x210.md" for h in sparse + dense)
        assert store.check().ok

    def test_clear_keeps_settings(self, store: Store) -> None:
        write_corpus(store)
        store.set_setting("index_key", "abc")
        assert store.get_setting("index_key") == "abc"
        assert store.get_setting("never_set") is None
        store.clear()
        assert store.document_hashes() == {}
        assert store.search_bm25("router", k=3) == []
        assert store.get_setting("index_key") == "abc"
        # After a clear the store takes vectors of another size (another embedder).
        item = make_item("new.md", ["A new embedder."])
        item.vectors = np.ones((1, 32), dtype=np.float32) / np.sqrt(32)
        store.write([item])
        assert store.search_dense(item.vectors[0], k=1)[0].chunk.id == "new.md::0"

    def test_bad_batches_write_nothing(self, store: Store) -> None:
        short = make_item("a.md", ["one", "two"])
        short.vectors = short.vectors[:1]
        with pytest.raises(ValueError, match="2 chunks but 1 vectors"):
            store.write([make_item("ok.md", ["fine"]), short])
        assert store.document_hashes() == {}
        write_corpus(store)
        narrow = make_item("b.md", ["three"])
        narrow.vectors = np.ones((1, 32), dtype=np.float32)
        with pytest.raises(ValueError, match="dim 32"):
            store.write([narrow])
        assert "b.md" not in store.document_hashes()
        with pytest.raises(ValueError, match="dim"):
            store.search_dense(np.ones(32, dtype=np.float32), k=3)

    def test_reopen_gives_identical_hits(self, tmp_path: Path) -> None:
        store = self.make_store(tmp_path / "reopen")
        write_corpus(store)
        store.delete(["x210.md"])
        before = _answers(store)
        store.close()
        reopened = self.make_store(tmp_path / "reopen")
        try:
            assert _answers(reopened) == before
            assert reopened.check().ok
        finally:
            reopened.close()

    def test_set_sources_keeps_chunks_and_vectors(self, store: Store) -> None:
        write_corpus(store)
        before = store.search_dense(EMBEDDER.embed_query("X200 router costs"), k=3)
        assert store.set_sources({"x200.md": "/moved/x200.md", "missing.md": "/x"}) == 1
        record = {r.id: r for r in store.list_documents()}["x200.md"]
        assert record.source == "/moved/x200.md" and record.n_chunks == 2
        after = store.search_dense(EMBEDDER.embed_query("X200 router costs"), k=3)
        assert [(h.chunk.id, h.score) for h in after] == [(h.chunk.id, h.score) for h in before]
        assert after[0].chunk.source == "/moved/x200.md"
        assert store.search_bm25("1249", k=1, filters={"source": "/moved/x200.md"})
        assert store.check().ok

    # -- rebuilds -----------------------------------------------------------------------
    def test_rebuild_serves_the_old_index_then_swaps_in_the_new(self, tmp_path: Path) -> None:
        store = self.make_store(tmp_path / "main")
        write_corpus(store)
        store.set_setting("index_key", "old")
        sibling = store.begin_rebuild()
        assert sibling.document_hashes() == {}
        sibling.set_setting("index_key", "new")
        sibling.write([make_item("new.md", ["A rebuilt index about gliders."])])
        # The old index serves, untouched, until the commit.
        assert sorted(store.document_hashes()) == ["s10.pdf", "x200.md", "x210.md"]
        assert store.search_bm25("gliders", k=3) == []
        store = store.commit_rebuild(sibling)
        try:
            assert list(store.document_hashes()) == ["new.md"]
            assert store.get_setting("index_key") == "new"
            assert store.search_bm25("gliders", k=1)[0].chunk.id == "new.md::0"
            assert store.check().ok
            assert store.begin_rebuild().document_hashes() == {}  # the next one starts empty
        finally:
            store.close()
        reopened = self.make_store(tmp_path / "main")
        try:
            assert list(reopened.document_hashes()) == ["new.md"]
            assert reopened.search_bm25("router", k=3) == []
        finally:
            reopened.close()

    def test_an_interrupted_rebuild_is_resumed_not_lost(self, tmp_path: Path) -> None:
        store = self.make_store(tmp_path / "main")
        write_corpus(store)
        sibling = store.begin_rebuild()
        sibling.set_setting("index_key", "new")
        sibling.write([make_item("half.md", ["Written before the kill."])])
        sibling.close()  # no commit: what a killed rebuild leaves
        store.close()
        store = self.make_store(tmp_path / "main")
        try:
            assert sorted(store.document_hashes()) == ["s10.pdf", "x200.md", "x210.md"]
            resumed = store.begin_rebuild()
            assert list(resumed.document_hashes()) == ["half.md"]
            assert resumed.get_setting("index_key") == "new"
            store = store.commit_rebuild(resumed)
            assert list(store.document_hashes()) == ["half.md"] and store.check().ok
        finally:
            store.close()

    # -- searches -----------------------------------------------------------------------
    def test_dense_search_finds_the_matching_chunk(self, store: Store) -> None:
        write_corpus(store)
        hits = store.search_dense(EMBEDDER.embed_query("S10 switch ships from"), k=3)
        assert hits[0].chunk.id == "s10.pdf::0"
        assert [h.rank for h in hits] == [1, 2, 3]
        assert hits[0].score >= hits[1].score >= hits[2].score
        assert all(h.scores["dense"] == h.score for h in hits)

    def test_bm25_search_ranks_exact_terms_first(self, store: Store) -> None:
        write_corpus(store)
        hits = store.search_bm25("warranty X210", k=5)
        assert hits[0].chunk.id == "x210.md::1"
        assert all(h.scores["bm25"] == h.score > 0 for h in hits)
        assert {h.chunk.id for h in hits} == {"x200.md::1", "x210.md::0", "x210.md::1"}
        assert store.search_bm25("zebra", k=5) == []

    def test_empty_store_and_no_k_return_nothing(self, store: Store) -> None:
        assert store.search_bm25("anything", k=3) == []
        assert store.search_dense(np.ones(64, dtype=np.float32) / 8, k=3) == []
        assert store.check().ok
        write_corpus(store)
        assert store.search_bm25("router", k=0) == []
        assert store.search_dense(EMBEDDER.embed_query("router"), k=0) == []

    def test_id_searches_agree_with_hit_searches(self, store: Store) -> None:
        write_corpus(store)
        vector = EMBEDDER.embed_query("router warranty")
        assert store.search_dense_ids(vector, 4) == [
            (h.chunk.id, h.score) for h in store.search_dense(vector, 4)
        ]
        assert store.search_bm25_ids("warranty X210", 4, {"family": "x"}) == [
            (h.chunk.id, h.score) for h in store.search_bm25("warranty X210", 4, {"family": "x"})
        ]

    def test_equal_scores_are_ordered_by_chunk_id(self, store: Store) -> None:
        # Written in reverse id order: insertion order must not decide ties.
        for doc_id in ["c.md", "a.md", "b.md"]:
            store.write([make_item(doc_id, [f"Intro of {doc_id}.", BOILERPLATE])])
        vector = EMBEDDER.embed_query(BOILERPLATE)
        for hits in (store.search_dense(vector, k=3), store.search_bm25(BOILERPLATE, k=3)):
            assert [h.chunk.id for h in hits] == ["a.md::1", "b.md::1", "c.md::1"]
            assert len({h.score for h in hits}) == 1  # an exact tie
        # The tie cut at the k-th place keeps the smallest ids.
        assert [cid for cid, _ in store.search_dense_ids(vector, 2)] == ["a.md::1", "b.md::1"]
        assert [cid for cid, _ in store.search_bm25_ids("support hours", 1)] == ["a.md::1"]
        store.delete(["a.md"])
        store.write([make_item("a.md", ["Intro of a.md.", BOILERPLATE])])
        assert [h.chunk.id for h in store.search_bm25("support hours", k=1)] == ["a.md::1"]
        assert [h.chunk.id for h in store.search_dense(vector, k=1)] == ["a.md::1"]

    def test_hits_do_not_depend_on_ingest_history(self, tmp_path: Path) -> None:
        clean = self.make_store(tmp_path / "clean")
        edited = self.make_store(tmp_path / "edited")
        try:
            clean.write([_history_item(doc_id) for doc_id in HISTORY_IDS])
            # The same final documents, reached through other orders, edits and deletes.
            for doc_id in reversed(HISTORY_IDS):
                edited.write([_history_item(doc_id, version=1)])
            edited.write([_history_item("d9"), _history_item("d10")])
            edited.delete(["d3", "d9"])
            for doc_id in HISTORY_IDS[::2] + HISTORY_IDS[1::2]:
                edited.write([_history_item(doc_id)])
            edited.delete(["d10", "d5"])
            edited.write([_history_item("d5")])
            assert edited.document_hashes() == clean.document_hashes()
            assert _answers(edited) == _answers(clean)
            tied = clean.search_bm25("support hours", k=3)
            assert len({h.score for h in tied}) == 1, "the queries must include exact ties"
        finally:
            clean.close()
            edited.close()

    # -- filters ------------------------------------------------------------------------
    def test_filters_restrict_both_retrievers(self, store: Store) -> None:
        write_corpus(store)
        query = EMBEDDER.embed_query("router costs")
        dense = store.search_dense(query, k=10, filters={"format": "pdf"})
        assert dense and {h.chunk.doc_id for h in dense} == {"s10.pdf"}
        sparse = store.search_bm25("router warranty support", k=10, filters={"family": "x"})
        assert sparse and {h.chunk.doc_id for h in sparse} <= {"x200.md", "x210.md"}
        top = store.search_bm25("router", k=10, filters={"doc_id": "x210.md"})
        assert top[0].chunk.doc_id == "x210.md"
        assert store.search_dense(query, k=10, filters={"format": "docx"}) == []

    @pytest.mark.parametrize(
        ("filters", "expected"), FILTER_CASES, ids=[_case_id(f) for f, _ in FILTER_CASES]
    )
    def test_filter_grammar(
        self, store: Store, filters: dict[str, Any] | None, expected: set[str]
    ) -> None:
        store.write(FILTER_DOCUMENTS)
        dense = store.search_dense(EMBEDDER.embed_query("item"), k=50, filters=filters)
        sparse = store.search_bm25("item", k=50, filters=filters)
        assert {h.chunk.id for h in dense} == expected
        assert {h.chunk.id for h in sparse} == expected
        # The reference predicate in ragtune.index.base means the same.
        documents = {item.document.id: item.document for item in FILTER_DOCUMENTS}
        chunks = [c for item in FILTER_DOCUMENTS for c in item.chunks]
        normalized = normalize_filters(filters)
        kept = {c.id for c in chunks if matches_filters(normalized, c, documents[c.doc_id])}
        assert kept == expected

    @pytest.mark.parametrize("filters", BAD_FILTERS, ids=repr)
    def test_bad_filters_are_rejected(self, store: Store, filters: Any) -> None:
        vector = EMBEDDER.embed_query("item")
        searches = [
            lambda: store.search_dense(vector, k=5, filters=filters),
            lambda: store.search_bm25("item", k=5, filters=filters),
            lambda: store.search_dense_ids(vector, k=5, filters=filters),
            lambda: store.search_bm25_ids("item", k=5, filters=filters),
        ]
        for populated in (False, True):  # an empty store checks its filters too
            if populated:
                store.write(FILTER_DOCUMENTS)
            for search in searches:
                with pytest.raises(FilterError) as caught:
                    search()
                assert isinstance(caught.value, ValueError)
