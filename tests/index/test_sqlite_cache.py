"""The SQLite store's derived indexes are a cache: stale or torn files are rebuilt."""

from __future__ import annotations

from pathlib import Path

from ragtune.index.sqlite import DERIVED_FILE, SQLiteStore
from tests.index.test_store_contract import corpus, make_item


def test_stale_cache_is_rebuilt_from_sqlite(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path)
    corpus(store)
    store.close()
    stale = (tmp_path / DERIVED_FILE).read_bytes()
    store = SQLiteStore(tmp_path)
    store.write([make_item("new.md", ["Quokka habitats are on Rottnest."])])
    store.close()
    (tmp_path / DERIVED_FILE).write_bytes(stale)  # as if killed before the cache was saved
    reopened = SQLiteStore(tmp_path)
    assert reopened.search_bm25("quokka", k=1)[0].chunk.doc_id == "new.md"
    assert reopened.check().ok


def test_torn_cache_is_ignored(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path)
    corpus(store)
    store.close()
    (tmp_path / DERIVED_FILE).write_bytes(b"\x80\x05garbage")
    reopened = SQLiteStore(tmp_path)
    assert reopened.search_bm25("Tallinn", k=1)[0].chunk.doc_id == "s10.pdf"
    assert reopened.check().ok


def test_second_process_view_follows_writes(tmp_path: Path) -> None:
    writer, reader = SQLiteStore(tmp_path), SQLiteStore(tmp_path)
    corpus(writer)
    assert reader.search_bm25("Tallinn", k=1)[0].chunk.doc_id == "s10.pdf"
    writer.delete(["s10.pdf"])
    assert reader.search_bm25("Tallinn", k=1) == []
    writer.close()
    reader.close()
