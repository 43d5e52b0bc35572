"""The Qdrant store passes the store contract in local mode, and on a server when
``QDRANT_URL`` is set (``QDRANT_API_KEY`` too if it needs one); plus what only it has:
hybrid fusion by Qdrant's Query API, the alias swap, and recovery from a killed write."""

from __future__ import annotations

import os
import uuid
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from ragtune.config import IndexConfig
from ragtune.errors import ConfigError
from ragtune.index import open_store
from ragtune.index.base import Store
from ragtune.index.qdrant import QdrantStore
from ragtune.registry import stores
from ragtune.retrieve.fusion import fuse_ids
from ragtune.testing.store_contract import EMBEDDER, StoreContract, make_item, write_corpus

QDRANT_URL = os.environ.get("QDRANT_URL")
# Collections a server run creates start with this, so the run deletes only its own.
RUN_PREFIX = f"ragtune-test-{uuid.uuid4().hex[:8]}"


class TestQdrantLocalContract(StoreContract):
    def make_store(self, path: Path) -> Store:
        store: Store = stores.create("qdrant", path=path)
        return store


@pytest.fixture(scope="class")
def qdrant_server() -> Iterator[str]:
    if not QDRANT_URL:
        pytest.skip("QDRANT_URL is not set: the server run of the contract needs a Qdrant server")
    yield QDRANT_URL
    from qdrant_client import QdrantClient

    client = QdrantClient(url=QDRANT_URL, api_key=os.environ.get("QDRANT_API_KEY"))
    for collection in client.get_collections().collections:
        if collection.name.startswith(RUN_PREFIX):
            client.delete_collection(collection.name)
    client.close()


@pytest.mark.integration
@pytest.mark.usefixtures("qdrant_server")
class TestQdrantServerContract(StoreContract):
    def make_store(self, path: Path) -> Store:
        # The same path opens the same collection: its name is derived from the path.
        name = f"{RUN_PREFIX}-{zlib.crc32(str(path).encode()):08x}"
        return QdrantStore(path=path, url=QDRANT_URL, collection=name)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[QdrantStore]:
    backend = QdrantStore(tmp_path / "store")
    yield backend
    backend.close()


def test_hybrid_is_fused_by_qdrant_like_ragtunes_rrf(store: QdrantStore) -> None:
    write_corpus(store)
    for query, candidates in [("warranty X210", 3), ("S10 switch Tallinn", 2)]:
        vector = EMBEDDER.embed_query(query)
        dense = store.search_dense_ids(vector, candidates)
        sparse = store.search_bm25_ids(query, candidates)
        # Without ties inside a list, Qdrant ranks each list as ragtune does.
        assert all(len({s for _, s in ranked}) == len(ranked) for ranked in (dense, sparse))
        expected = fuse_ids({"dense": dense, "bm25": sparse}, k=60)
        fused = store.search_hybrid_ids(query, vector, candidates, candidates=candidates, rrf_k=60)
        assert [cid for cid, _ in fused] == [cid for cid, _, _ in expected]
        assert [score for _, score in fused] == pytest.approx([s for _, s, _ in expected])
    hits = store.search_hybrid_ids("warranty", EMBEDDER.embed_query("warranty"), 5, {"family": "s"})
    assert hits and {cid.split("::")[0] for cid, _ in hits} == {"s10.pdf"}
    with pytest.raises(ValueError, match="rrf_k"):
        store.search_hybrid_ids("warranty", EMBEDDER.embed_query("warranty"), 5, rrf_k=0)


def test_the_collection_name_is_an_alias_moved_by_a_rebuild(tmp_path: Path) -> None:
    store = QdrantStore(tmp_path / "store", collection="kb")
    write_corpus(store)
    client = store._client
    assert {(a.alias_name, a.collection_name) for a in client.get_aliases().aliases} == {
        ("kb", "kb-a")
    }
    sibling = store.begin_rebuild()
    sibling.write([make_item("new.md", ["Rebuilt."])])
    store = store.commit_rebuild(sibling)
    try:
        assert {(a.alias_name, a.collection_name) for a in client.get_aliases().aliases} == {
            ("kb", "kb-b")
        }
        assert [c.name for c in client.get_collections().collections] == ["kb-b"]
        assert sorted(p.name for p in (tmp_path / "store").glob("*.sqlite")) == ["kb-b.sqlite"]
        # The alias is a real Qdrant alias: a plain client query by name reaches the new index.
        assert client.count("kb", exact=True).count == 1
    finally:
        store.close()


def test_a_kill_after_the_alias_moved_is_finished_on_open(tmp_path: Path) -> None:
    store = QdrantStore(tmp_path / "store")
    write_corpus(store)
    sibling = store.begin_rebuild()
    sibling.write([make_item("new.md", ["Rebuilt."])])
    store._slots.point_alias_to(sibling._slot)  # commit_rebuild's first step; then a kill
    sibling.close()
    store.close()
    reopened = QdrantStore(tmp_path / "store")
    try:
        assert list(reopened.document_hashes()) == ["new.md"]
        assert reopened.begin_rebuild().document_hashes() == {}  # the old slot was dropped
        assert reopened.check().ok
    finally:
        reopened.close()


def test_a_killed_write_shows_the_old_version_and_is_cleaned_up(store: QdrantStore) -> None:
    write_corpus(store)
    new = make_item("x200.md", ["The X200 router now costs 999 dollars.", "Gone.", "Three."])
    # What a write leaves when killed after its upsert and before its SQLite commit.
    with store._transaction() as db:
        db.execute("INSERT INTO pending(doc_id) VALUES ('x200.md')")
    store._upsert([new], {"x200.md": "killed"})
    assert store.search_bm25("999", k=5) == []
    assert [h.chunk.text for h in store.search_bm25("1249", k=5)] == [
        "The X200 router costs 1249 dollars."
    ]
    assert len(store.search_dense(EMBEDDER.embed_query("X200"), k=50)) == 6
    assert not store.check().ok  # reported until the next write
    store.write([make_item("other.md", ["Another document."])])
    report = store.check()
    assert report.ok, report.problems
    assert report.vectors == 7 == store._client.count(store._name, exact=True).count


def test_config_selects_qdrant_and_rejects_its_fields_for_sqlite(tmp_path: Path) -> None:
    config = IndexConfig(backend="qdrant", collection="team-docs")
    store = open_store(config, default_path=tmp_path / "store")
    try:
        assert isinstance(store, QdrantStore) and store.stats()["collection"] == "team-docs"
    finally:
        store.close()
    with pytest.raises(ValueError, match=r"index.url is a setting of backend 'qdrant'"):
        IndexConfig(url="http://localhost:6333")
    with pytest.raises(ValueError, match="url"):
        IndexConfig(backend="qdrant", url="localhost:6333")
    with pytest.raises(ConfigError, match="unknown store backend"):
        open_store(IndexConfig(backend="qdrnt"), default_path=tmp_path / "x")
