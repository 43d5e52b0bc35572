"""The embedded store: SQLite is the source of truth, FAISS and BM25 are derived from it.

Layout of the store folder::

    store.sqlite    documents, chunks (text, offsets, metadata, vector blob), settings
    derived.npz     FAISS vectors + BM25 postings as of a write generation (a cache of
                    plain arrays and a JSON header, see ``ragtune.index.sqlite_derived``)

Every write transaction bumps ``generation`` in SQLite. An open store whose in-memory
indexes are older than SQLite's generation reloads ``derived.npz`` if it was written for
this store (``store_id``) at that generation, or rebuilds from the vectors and texts
kept in SQLite. So a process killed at any point leaves nothing to repair: the cache is
simply stale and rebuilt. SQLite runs in WAL mode: readers in other processes keep
reading while one process writes.

A rebuild writes a sibling store in ``<folder>.next`` and swaps the folders with two
renames (``ragtune.index.folder_swap``); every open finishes a swap a kill interrupted.

Hits are ordered by score, then chunk id: FAISS and BM25 are asked for the ``k`` best
*with ties* (every candidate scoring the same as the ``k``-th), and the tie is cut by
chunk id, not by rowid, which records ingest history.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

import numpy as np

from ragtune.index.base import (
    DOCUMENT_FIELDS,
    CheckReport,
    DocumentRecord,
    IndexedDocument,
    Store,
    check_items,
    normalize_filters,
)
from ragtune.index.bm25 import BM25Index
from ragtune.index.folder_swap import recover_interrupted_swap, sibling_folder, swap_folders
from ragtune.index.sqlite_derived import DerivedIndexes, read_cache, write_cache
from ragtune.index.sqlite_rows import SQLiteRows
from ragtune.types import Chunk, Hit, document_hash

SCHEMA = """
CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS documents (
    id TEXT PRIMARY KEY,
    source TEXT NOT NULL,
    title TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    text TEXT NOT NULL,
    meta TEXT NOT NULL,
    n_chunks INTEGER NOT NULL,
    updated_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS chunks (
    rowid INTEGER PRIMARY KEY AUTOINCREMENT,  -- never reused: it is the vector id
    id TEXT NOT NULL UNIQUE,
    doc_id TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    idx INTEGER NOT NULL,
    text TEXT NOT NULL,
    start_char INTEGER NOT NULL,
    end_char INTEGER NOT NULL,
    heading_path TEXT NOT NULL,
    meta TEXT NOT NULL,
    vector BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS chunks_doc ON chunks(doc_id);
"""

# Enough rowids per "IN (...)" to stay far below SQLite's bound-parameter limit.
_IN_BATCH = 500
# A metadata condition: the chunk's value for the key, else the document's, as JSON; then
# that value itself or a list's items (never an object's members) in filter_text's form.
_META_CONDITION = (
    "EXISTS (SELECT 1 FROM json_each(COALESCE(c.meta -> ?, d.meta -> ?)) e"
    " WHERE (e.key IS NULL OR typeof(e.key) = 'integer') AND (CASE e.type"
    " WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' WHEN 'text' THEN e.value"
    " WHEN 'integer' THEN CAST(e.value AS TEXT) END) IN (SELECT value FROM json_each(?)))"
)
_DOCUMENT_COLUMNS = dict(zip(DOCUMENT_FIELDS, ("d.id", "d.source", "d.title"), strict=True))


class SQLiteStore(SQLiteRows, Store):
    """SQLite + FAISS (inner product over fp16 codes) + numpy BM25, in one folder.

    store = SQLiteStore(path=Path(".ragtune/store"))
    """

    def __init__(self, path: Path | str, dim: int | None = None) -> None:
        self.path = Path(path)
        recover_interrupted_swap(self.path)
        self.path.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._db = sqlite3.connect(
            self.path / "store.sqlite", check_same_thread=False, isolation_level=None, timeout=60.0
        )
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA foreign_keys=ON")
        self._db.executescript(SCHEMA)
        # Names this store in its cache header, so a cache copied from another store
        # whose generation happens to match is never taken for this one's.
        store_id = self.get_setting("store_id")
        if store_id is None:
            self._db.execute(
                "INSERT OR IGNORE INTO settings(key, value) VALUES('store_id', ?)",
                (uuid.uuid4().hex,),
            )
            store_id = self.get_setting("store_id")
        self._store_id = str(store_id)
        self._derived = DerivedIndexes(dim)
        self._committed = (0, 0)

    # -- transactions and generations ---------------------------------------------------
    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction that bumps the generation; sets ``_committed`` to the
        generations ``(before, after)`` it went from and to."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                before = self._generation()
                yield self._db
                self._db.execute(
                    "INSERT INTO settings(key, value) VALUES('generation', '1') "
                    "ON CONFLICT(key) DO UPDATE SET value = CAST(value AS INTEGER) + 1"
                )
                after = self._generation()
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._committed = (before, after)

    def _mirror(
        self, removed: list[int], added: list[tuple[list[int], np.ndarray, list[str]]]
    ) -> None:
        """Apply the last transaction to the derived indexes, if they were current when it
        began; else (another process wrote in between) reload them at the next read."""
        before, after = self._committed
        if before == self._derived.generation:
            self._derived.apply(removed, added, after)
        else:
            self._derived.generation = -1

    def _generation(self) -> int:
        row = self._db.execute("SELECT value FROM settings WHERE key='generation'").fetchone()
        return int(row[0]) if row else 0

    # -- derived indexes ----------------------------------------------------------------
    def _ensure_fresh(self) -> None:
        """Bring FAISS and BM25 up to SQLite's generation (load the cache or rebuild)."""
        generation = self._generation()
        if generation == self._derived.generation:
            return
        state = read_cache(self.path, self._store_id, generation)
        if state is None:
            self._rebuild_from_sqlite()
        else:
            self._derived.load_state(state)

    def _rebuild_from_sqlite(self) -> None:
        # One read transaction: the rows are those of the generation they are labelled with.
        self._db.execute("BEGIN")
        try:
            generation = self._generation()
            rows = self._db.execute(
                "SELECT rowid, text, vector FROM chunks ORDER BY rowid"
            ).fetchall()
        finally:
            self._db.execute("COMMIT")
        ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
        dim = self._derived.dim or (len(rows[0][2]) // 4 if rows else 0)
        vectors = (
            np.frombuffer(b"".join(r[2] for r in rows), dtype=np.float32).reshape(len(rows), dim)
            if rows
            else np.zeros((0, dim), dtype=np.float32)
        )
        bm25 = BM25Index()
        bm25.add(ids.tolist(), [r[1] for r in rows])
        self._derived.load(ids, vectors, bm25, generation)
        self._derived.dirty = True

    def flush(self) -> None:
        """Write the derived indexes as of the current generation (atomic replace)."""
        with self._lock:
            derived = self._derived
            if not derived.dirty or derived.generation != self._generation():
                return
            write_cache(self.path, derived.state(self._store_id))
            derived.dirty = False

    def close(self) -> None:
        with self._lock:
            self.flush()
            self._db.close()

    # -- writes -------------------------------------------------------------------------
    def write(self, items: Sequence[IndexedDocument]) -> None:
        if not items:
            return
        with self._lock:
            self._ensure_fresh()
            removed: list[int] = []
            added: list[tuple[list[int], np.ndarray, list[str]]] = []
            dim = check_items(items, self._derived.dim)
            with self._transaction() as db:
                now = time.time()
                for item in items:
                    doc, chunks = item.document, item.chunks
                    vectors = np.asarray(item.vectors, np.float32)
                    removed += [
                        r[0]
                        for r in db.execute("SELECT rowid FROM chunks WHERE doc_id=?", (doc.id,))
                    ]
                    db.execute("DELETE FROM chunks WHERE doc_id=?", (doc.id,))
                    db.execute(
                        "INSERT OR REPLACE INTO documents VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        (
                            doc.id,
                            doc.source,
                            doc.title,
                            document_hash(doc),
                            doc.text,
                            json.dumps(doc.meta),
                            len(chunks),
                            now,
                        ),
                    )
                    rowids = []
                    for chunk, vector in zip(chunks, vectors, strict=True):
                        cursor = db.execute(
                            "INSERT INTO chunks(id, doc_id, idx, text, start_char, end_char, heading_path, meta, vector)"
                            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                            (
                                chunk.id,
                                doc.id,
                                chunk.index,
                                chunk.text,
                                chunk.start_char,
                                chunk.end_char,
                                json.dumps(chunk.heading_path),
                                json.dumps(chunk.meta),
                                vector.tobytes(),
                            ),
                        )
                        rowids.append(int(cursor.lastrowid or 0))
                    if chunks:
                        added.append((rowids, vectors, [c.text for c in chunks]))
            self._derived.dim = dim
            self._mirror(removed, added)

    def delete(self, doc_ids: Sequence[str]) -> int:
        if not doc_ids:
            return 0
        with self._lock:
            self._ensure_fresh()
            removed: list[int] = []
            existed = 0
            with self._transaction() as db:
                for doc_id in doc_ids:
                    removed += [
                        r[0]
                        for r in db.execute("SELECT rowid FROM chunks WHERE doc_id=?", (doc_id,))
                    ]
                    db.execute("DELETE FROM chunks WHERE doc_id=?", (doc_id,))
                    existed += db.execute("DELETE FROM documents WHERE id=?", (doc_id,)).rowcount
            self._mirror(removed, [])
            return existed

    def clear(self) -> None:
        with self._lock:
            with self._transaction() as db:
                db.execute("DELETE FROM chunks")
                db.execute("DELETE FROM documents")
            self._derived.clear(self._committed[1])

    def set_sources(self, sources: Mapping[str, str]) -> int:
        if not sources:
            return 0
        with self._lock:
            self._ensure_fresh()
            existed = 0
            with self._transaction() as db:
                for doc_id, source in sources.items():
                    existed += db.execute(
                        "UPDATE documents SET source=? WHERE id=?", (source, doc_id)
                    ).rowcount
            self._mirror([], [])
            return existed

    # -- rebuilds -----------------------------------------------------------------------
    def begin_rebuild(self) -> SQLiteStore:
        """The store in ``<folder>.next``: empty, or what a killed rebuild left there."""
        return SQLiteStore(sibling_folder(self.path))

    def commit_rebuild(self, sibling: Store) -> SQLiteStore:
        """Close both stores, swap the sibling's folder in, and open it here."""
        if not isinstance(sibling, SQLiteStore):
            raise TypeError(f"a SQLite store rebuilds from a SQLite store, not {sibling!r}")
        sibling.close()
        self.close()
        swap_folders(self.path, sibling.path)
        return SQLiteStore(self.path)

    # -- reads --------------------------------------------------------------------------
    def iter_chunks(self) -> Iterator[Chunk]:
        with self._lock:
            rows = self._db.execute(
                f"SELECT {self._CHUNK_COLUMNS} FROM chunks c JOIN documents d ON d.id = c.doc_id"
                " ORDER BY c.doc_id, c.idx"
            ).fetchall()
        for row in rows:
            yield self._chunk_from_row(row)

    def list_documents(self) -> list[DocumentRecord]:
        with self._lock:
            rows = self._db.execute(
                "SELECT id, source, title, content_hash, n_chunks, meta FROM documents ORDER BY id"
            ).fetchall()
        return [DocumentRecord(r[0], r[1], r[2], r[3], r[4], json.loads(r[5])) for r in rows]

    _CHUNK_COLUMNS = (
        "c.rowid, c.id, c.doc_id, c.idx, c.text, c.start_char, c.end_char, c.heading_path, c.meta,"
        " d.source, d.title"
    )

    def _chunk_from_row(self, row: Sequence[Any]) -> Chunk:
        return Chunk(
            id=row[1],
            doc_id=row[2],
            index=row[3],
            text=row[4],
            start_char=row[5],
            end_char=row[6],
            heading_path=json.loads(row[7]),
            meta=json.loads(row[8]),
            source=row[9],
            title=row[10],
        )

    def _select_in(self, sql: str, values: Sequence[Any]) -> list[Any]:
        """Rows of ``sql`` (one ``IN ({marks})``) for ``values``, a batch at a time."""
        rows: list[Any] = []
        for start in range(0, len(values), _IN_BATCH):
            batch = list(values[start : start + _IN_BATCH])
            rows += self._db.execute(sql.format(marks=",".join("?" * len(batch))), batch)
        return rows

    def _chunks_by_rowid(self, rowids: Sequence[int]) -> dict[int, Chunk]:
        rows = self._select_in(
            f"SELECT {self._CHUNK_COLUMNS} FROM chunks c JOIN documents d ON d.id = c.doc_id"
            " WHERE c.rowid IN ({marks})",
            rowids,
        )
        return {int(r[0]): self._chunk_from_row(r) for r in rows}

    def get_chunks(self, chunk_ids: Sequence[str]) -> list[Chunk]:
        with self._lock:
            rows = self._select_in(
                f"SELECT {self._CHUNK_COLUMNS} FROM chunks c JOIN documents d ON d.id = c.doc_id"
                " WHERE c.id IN ({marks})",
                chunk_ids,
            )
        by_id = {r[1]: self._chunk_from_row(r) for r in rows}
        return [by_id[c] for c in chunk_ids if c in by_id]

    def _allowed_rowids(self, filters: dict[str, frozenset[str]] | None) -> set[int] | None:
        """Rowids of the chunks that meet normalized filters (grammar: ``testing.store_contract``)."""
        if filters is None:
            return None
        clauses, params = [], []
        for key, texts in filters.items():
            if not texts:
                return set()
            allowed = json.dumps(sorted(texts))
            if key in _DOCUMENT_COLUMNS:
                clauses.append(f"{_DOCUMENT_COLUMNS[key]} IN (SELECT value FROM json_each(?))")
                params.append(allowed)
            else:
                # json.dumps quotes the key as SQLite's JSON paths want: "$.\"a.b\"".
                path = "$." + json.dumps(key)
                clauses.append(_META_CONDITION)
                params += [path, path, allowed]
        rows = self._db.execute(
            "SELECT c.rowid FROM chunks c JOIN documents d ON d.id = c.doc_id WHERE "
            + " AND ".join(clauses),
            params,
        ).fetchall()
        return {int(r[0]) for r in rows}

    def _ranked(self, scored: Sequence[tuple[int, float]], k: int) -> list[tuple[int, str, float]]:
        """``(rowid, chunk id, score)``: the best ``k``, equal scores in chunk-id order."""
        chunk_ids = dict(
            self._select_in(
                "SELECT rowid, id FROM chunks WHERE rowid IN ({marks})", [r for r, _ in scored]
            )
        )
        ranked = [(rowid, chunk_ids[rowid], score) for rowid, score in scored if rowid in chunk_ids]
        ranked.sort(key=lambda item: (-item[2], item[1]))
        return ranked[: max(k, 0)]

    def _search(
        self,
        kind: Literal["dense", "bm25"],
        query: np.ndarray | str,
        k: int,
        filters: dict[str, Any] | None,
    ) -> list[tuple[int, str, float]]:
        normalized = normalize_filters(filters)  # a bad filter fails even on an empty store
        self._ensure_fresh()
        allowed = self._allowed_rowids(normalized)
        if kind == "dense":
            scored = self._derived.dense(np.asarray(query), k, allowed)
        else:
            scored = self._derived.sparse(str(query), k, allowed)
        return self._ranked(scored, k)

    def _hits(self, ranked: Sequence[tuple[int, str, float]], kind: str) -> list[Hit]:
        chunks = self._chunks_by_rowid([rowid for rowid, _, _ in ranked])
        hits: list[Hit] = []
        for rowid, _, score in ranked:
            chunk = chunks.get(rowid)
            if chunk is not None:
                hits.append(Hit(chunk=chunk, score=score, rank=len(hits) + 1, scores={kind: score}))
        return hits

    def search_dense(
        self, vector: np.ndarray, k: int, filters: dict[str, Any] | None = None
    ) -> list[Hit]:
        with self._lock:
            return self._hits(self._search("dense", vector, k, filters), "dense")

    def search_bm25(self, query: str, k: int, filters: dict[str, Any] | None = None) -> list[Hit]:
        with self._lock:
            return self._hits(self._search("bm25", query, k, filters), "bm25")

    def search_dense_ids(
        self, vector: np.ndarray, k: int, filters: dict[str, Any] | None = None
    ) -> list[tuple[str, float]]:
        with self._lock:
            return [(cid, score) for _, cid, score in self._search("dense", vector, k, filters)]

    def search_bm25_ids(
        self, query: str, k: int, filters: dict[str, Any] | None = None
    ) -> list[tuple[str, float]]:
        with self._lock:
            return [(cid, score) for _, cid, score in self._search("bm25", query, k, filters)]

    def stats(self) -> dict[str, Any]:
        with self._lock:
            documents, chunks = self._db.execute(
                "SELECT (SELECT COUNT(*) FROM documents), (SELECT COUNT(*) FROM chunks)"
            ).fetchone()
            size = sum(f.stat().st_size for f in self.path.iterdir() if f.is_file())
            row = self._db.execute("SELECT length(vector) FROM chunks LIMIT 1").fetchone()
            dim = row[0] // 4 if row else self._derived.dim
        return {
            "backend": "sqlite",
            "path": str(self.path),
            "documents": documents,
            "chunks": chunks,
            "dim": dim,
            "bytes": size,
            "generation": self._generation(),
        }

    def check(self) -> CheckReport:
        with self._lock:
            self._ensure_fresh()
            db = self._db
            report = CheckReport()
            report.documents = db.execute("SELECT COUNT(*) FROM documents").fetchone()[0]
            report.chunks = db.execute("SELECT COUNT(*) FROM chunks").fetchone()[0]
            report.vectors = self._derived.n_vectors
            problems = report.problems
            if db.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
                problems.append("sqlite integrity_check failed")
            orphans = db.execute(
                "SELECT COUNT(*) FROM chunks WHERE doc_id NOT IN (SELECT id FROM documents)"
            ).fetchone()[0]
            if orphans:
                problems.append(f"{orphans} chunks belong to no document")
            for doc_id, stored, actual in db.execute(
                "SELECT d.id, d.n_chunks, COUNT(c.rowid) FROM documents d LEFT JOIN chunks c ON c.doc_id = d.id"
                " GROUP BY d.id HAVING d.n_chunks != COUNT(c.rowid)"
            ):
                problems.append(f"document {doc_id} records {stored} chunks but has {actual}")
            dims = [r[0] for r in db.execute("SELECT DISTINCT length(vector) FROM chunks")]
            if len(dims) > 1:
                problems.append(
                    f"vectors of different sizes in one index: {sorted(d // 4 for d in dims)} dims"
                )
            chunk_ids = {int(r[0]) for r in db.execute("SELECT rowid FROM chunks")}
            vector_ids = set(self._derived.vector_ids().tolist())
            if chunk_ids - vector_ids:
                problems.append(f"{len(chunk_ids - vector_ids)} chunks without a vector")
            if vector_ids - chunk_ids:
                problems.append(f"{len(vector_ids - chunk_ids)} vectors without a chunk")
            if self._derived.bm25.ids() != chunk_ids:
                problems.append("BM25 index does not match the chunks")
            return report
