"""The SQLite store's derived indexes are a cache of plain files: anything but a current
cache of this store is rebuilt from SQLite, and never unpickled."""

from __future__ import annotations

import json
import pickle
import zipfile
from pathlib import Path

import numpy as np
import pytest

import ragtune.index.bm25 as bm25_module
import ragtune.index.sqlite_derived as derived_module
from ragtune.index.sqlite import SQLiteStore
from ragtune.index.sqlite_derived import CACHE_FILE, FORMAT_VERSION, read_cache
from ragtune.testing.store_contract import EMBEDDER, make_item, write_corpus

QUERIES = ["Tallinn", "router warranty", "X210 costs", "support hours"]


def answers(store: SQLiteStore) -> list[list[tuple[str, float]]]:
    out = []
    for query in QUERIES:
        out.append(store.search_bm25_ids(query, 4))
        out.append(store.search_dense_ids(EMBEDDER.embed_query(query), 4))
    return out


def built(path: Path) -> list[list[tuple[str, float]]]:
    """Write the corpus, edit it, close (saving the cache); the answers before closing."""
    store = SQLiteStore(path)
    write_corpus(store)
    store.write([make_item("x200.md", ["The X200 router now costs 999 dollars."])])
    store.delete(["x210.md"])
    expected = answers(store)
    store.close()
    return expected


def reopened_answers(path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[list, bool]:
    """Answers of a fresh open, and whether it rebuilt from SQLite (vs. loaded the cache)."""
    rebuilds = []
    original = SQLiteStore._rebuild_from_sqlite

    def counting(self: SQLiteStore) -> None:
        rebuilds.append(1)
        original(self)

    monkeypatch.setattr(SQLiteStore, "_rebuild_from_sqlite", counting)
    store = SQLiteStore(path)
    try:
        result = answers(store)
        assert store.check().ok
    finally:
        store.close()
    monkeypatch.setattr(SQLiteStore, "_rebuild_from_sqlite", original)
    return result, bool(rebuilds)


def rewrite_header(path: Path, **changes: object) -> None:
    """Copy the cache with some header fields changed, as another writer would have."""
    with zipfile.ZipFile(path / CACHE_FILE) as zf:
        members = {name: zf.read(name) for name in zf.namelist()}
    header = json.loads(members["header.json"])
    members["header.json"] = json.dumps({**header, **changes}).encode()
    with zipfile.ZipFile(path / CACHE_FILE, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)


class Explodes:
    """Unpickling this raises: proves a cache file is never handed to pickle."""

    def __reduce__(self) -> tuple:
        return (_unpickled, ())


def _unpickled() -> None:
    raise AssertionError("the store unpickled its cache")


def test_a_current_cache_loads_with_identical_results(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = built(tmp_path)
    assert (tmp_path / CACHE_FILE).is_file()
    assert reopened_answers(tmp_path, monkeypatch) == (expected, False)
    # Plain arrays, readable by numpy with pickle refused.
    with np.load(tmp_path / CACHE_FILE, allow_pickle=False) as arrays:
        assert arrays["ids"].dtype == np.int64 and arrays["vectors"].dtype == np.float16
        assert len(arrays["ids"]) == len(arrays["bm25_ids"]) == 3


def test_a_cache_rebuilt_from_sqlite_gives_identical_results(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = built(tmp_path)
    (tmp_path / CACHE_FILE).unlink()
    assert reopened_answers(tmp_path, monkeypatch) == (expected, True)
    # The rebuild saved a cache, which the next open loads.
    assert reopened_answers(tmp_path, monkeypatch) == (expected, False)


def test_stale_cache_is_rebuilt_from_sqlite(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path)
    write_corpus(store)
    store.close()
    stale = (tmp_path / CACHE_FILE).read_bytes()
    store = SQLiteStore(tmp_path)
    store.write([make_item("new.md", ["Quokka habitats are on Rottnest."])])
    store.close()
    (tmp_path / CACHE_FILE).write_bytes(stale)  # as if killed before the cache was saved
    reopened = SQLiteStore(tmp_path)
    assert reopened.search_bm25("quokka", k=1)[0].chunk.doc_id == "new.md"
    assert reopened.check().ok
    reopened.close()


@pytest.mark.parametrize(
    "changes",
    [
        {"version": FORMAT_VERSION + 1},
        {"version": 0},
        {"format": "someone-else"},
        {"store_id": "another-store"},
        {"dim": 3},
    ],
    ids=repr,
)
def test_a_cache_of_another_version_or_store_is_rebuilt(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, changes: dict[str, object]
) -> None:
    expected = built(tmp_path)
    rewrite_header(tmp_path, **changes)
    assert reopened_answers(tmp_path, monkeypatch) == (expected, True)


@pytest.mark.parametrize(
    "damage",
    [
        lambda data: data[: len(data) // 2],  # torn mid-write
        lambda data: data[:-10],
        lambda data: b"",
        lambda data: b"\x80\x05garbage",
        lambda data: data[:200] + bytes(len(data) - 400) + data[-200:],  # zeroed middle
        lambda data: data.replace(b'"version"', b'"versi0n"'),
    ],
    ids=["half", "short", "empty", "garbage", "zeroed", "header-key"],
)
def test_a_torn_or_garbled_cache_is_rebuilt(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, damage: object
) -> None:
    expected = built(tmp_path)
    path = tmp_path / CACHE_FILE
    path.write_bytes(damage(path.read_bytes()))  # type: ignore[operator]
    assert reopened_answers(tmp_path, monkeypatch) == (expected, True)


def test_a_flipped_byte_inside_an_array_fails_the_crc(tmp_path: Path) -> None:
    built(tmp_path)
    path = tmp_path / CACHE_FILE
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo("vectors.npy")
    data[info.header_offset + 200] ^= 0xFF  # inside the vector bytes, headers intact
    path.write_bytes(bytes(data))
    store = SQLiteStore(tmp_path)
    assert read_cache(tmp_path, store._store_id, store._generation()) is None
    store.close()


def test_an_old_pickle_cache_is_never_unpickled(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = built(tmp_path)
    poison = pickle.dumps({"generation": 0, "bm25": Explodes()})
    (tmp_path / "derived.pkl").write_bytes(poison)  # what the previous version wrote
    (tmp_path / CACHE_FILE).write_bytes(poison)  # and pickle bytes under the new name
    assert reopened_answers(tmp_path, monkeypatch) == (expected, True)
    # Saving the rebuilt cache removed the legacy file.
    assert not (tmp_path / "derived.pkl").exists()
    assert reopened_answers(tmp_path, monkeypatch) == (expected, False)


def test_renaming_the_bm25_class_does_not_break_a_saved_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = built(tmp_path)
    # A refactor renames BM25Index: nothing in the cache names a class, so it still opens.
    renamed = type("RenamedBM25", (bm25_module.BM25Index,), {})
    monkeypatch.delattr(bm25_module, "BM25Index")
    monkeypatch.setattr(bm25_module, "RenamedBM25", renamed, raising=False)
    monkeypatch.setattr(derived_module, "BM25Index", renamed)
    monkeypatch.setattr("ragtune.index.sqlite.BM25Index", renamed)
    assert reopened_answers(tmp_path, monkeypatch) == (expected, False)


def test_second_process_view_follows_writes(tmp_path: Path) -> None:
    writer, reader = SQLiteStore(tmp_path), SQLiteStore(tmp_path)
    write_corpus(writer)
    assert reader.search_bm25("Tallinn", k=1)[0].chunk.doc_id == "s10.pdf"
    writer.delete(["s10.pdf"])
    assert reader.search_bm25("Tallinn", k=1) == []
    reader.write([make_item("r.md", ["The reader writes too: quokka."])])
    # The writer's indexes were current when it last wrote, but not any more.
    assert writer.search_bm25("quokka", k=1)[0].chunk.doc_id == "r.md"
    writer.write([make_item("w.md", ["Written after the reader: wombat."])])
    assert reader.search_bm25("wombat", k=1)[0].chunk.doc_id == "w.md"
    assert writer.check().ok and reader.check().ok
    writer.close()
    reader.close()
