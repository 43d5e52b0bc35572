"""The embedded store: SQLite is the source of truth, FAISS and BM25 are derived from it.

Layout of the store folder::

    store.sqlite    documents, chunks (text, offsets, metadata, vector blob), settings
    derived.pkl     FAISS vectors + BM25 postings as of a write generation (a cache)

Every write transaction bumps ``generation`` in SQLite. An open store whose in-memory
indexes are older than SQLite's generation reloads ``derived.pkl`` if it matches, or
rebuilds from the vectors and texts kept in SQLite. So a process killed at any point
leaves nothing to repair: the cache is simply stale and rebuilt. SQLite runs in WAL
mode: readers in other processes keep reading while one process writes.
"""

from __future__ import annotations

import json
import os
import pickle
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from ragtune._lazy import require
from ragtune.index.base import CheckReport, DocumentRecord, IndexedDocument, Store
from ragtune.index.bm25 import BM25Index
from ragtune.types import Chunk, Document, Hit

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

DERIVED_FILE = "derived.pkl"


class SQLiteStore(Store):
    """SQLite + FAISS (inner product over fp16 codes) + numpy BM25, in one folder.

    store = SQLiteStore(path=Path(".ragtune/store"))
    """

    def __init__(self, path: Path | str, dim: int | None = None) -> None:
        self.path = Path(path)
        self.path.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._db = sqlite3.connect(
            self.path / "store.sqlite", check_same_thread=False, isolation_level=None, timeout=60.0
        )
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA foreign_keys=ON")
        self._db.executescript(SCHEMA)
        self._dim = dim
        self._loaded_generation = -1
        self._faiss_index: Any = None
        self._bm25 = BM25Index()
        self._dirty = False

    # -- transactions and generations ---------------------------------------------------
    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
                self._db.execute(
                    "INSERT INTO settings(key, value) VALUES('generation', '1') "
                    "ON CONFLICT(key) DO UPDATE SET value = CAST(value AS INTEGER) + 1"
                )
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def _generation(self) -> int:
        row = self._db.execute("SELECT value FROM settings WHERE key='generation'").fetchone()
        return int(row[0]) if row else 0

    def get_setting(self, key: str) -> str | None:
        with self._lock:
            row = self._db.execute("SELECT value FROM settings WHERE key=?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_setting(self, key: str, value: str) -> None:
        with self._lock:
            self._db.execute(
                "INSERT INTO settings(key, value) VALUES(?, ?) "
                "ON CONFLICT(key) DO UPDATE SET value=excluded.value",
                (key, value),
            )

    # -- derived indexes ----------------------------------------------------------------
    def _new_faiss(self, dim: int) -> Any:
        # Exact inner product over fp16 codes: a query reads half the bytes of fp32, and
        # the scan is memory-bound (100k x 384: 16 ms fp32 -> 4 ms fp16 on 2 cores, with
        # recall@10 = 1.0 against fp32 in benchmarks/knowledge_base.py). The fp32
        # vectors stay in SQLite.
        faiss = require("faiss", "core")
        # One query scans in one thread: splitting a 4 ms scan across OpenMP threads
        # gains little when idle and costs 6x when another job holds a core (measured
        # 100k x 384: 4 ms on 1 thread vs 24 ms on 2 threads under load).
        faiss.omp_set_num_threads(1)
        codes = faiss.IndexScalarQuantizer(
            dim, faiss.ScalarQuantizer.QT_fp16, faiss.METRIC_INNER_PRODUCT
        )
        return faiss.IndexIDMap2(codes)

    def _ensure_fresh(self) -> None:
        """Bring FAISS and BM25 up to SQLite's generation (load the cache or rebuild)."""
        generation = self._generation()
        if generation == self._loaded_generation:
            return
        cache = self.path / DERIVED_FILE
        if cache.exists():
            try:
                with cache.open("rb") as fh:
                    state = pickle.load(fh)
                if state["generation"] == generation:
                    self._install(state["ids"], state["vectors"], state["bm25"], generation)
                    return
            except (OSError, EOFError, pickle.UnpicklingError, KeyError):
                pass  # a torn or foreign cache is only a cache: rebuild below
        self._rebuild(generation)

    def _rebuild(self, generation: int) -> None:
        rows = self._db.execute("SELECT rowid, text, vector FROM chunks ORDER BY rowid").fetchall()
        ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
        dim = self._dim or (len(rows[0][2]) // 4 if rows else 0)
        vectors = (
            np.frombuffer(b"".join(r[2] for r in rows), dtype=np.float32).reshape(len(rows), dim)
            if rows
            else np.zeros((0, dim), dtype=np.float32)
        )
        bm25 = BM25Index()
        bm25.add(ids.tolist(), [r[1] for r in rows])
        self._install(ids, vectors, bm25, generation)
        self._dirty = True

    def _install(
        self, ids: np.ndarray, vectors: np.ndarray, bm25: BM25Index, generation: int
    ) -> None:
        if vectors.shape[1] and self._dim is None:
            self._dim = int(vectors.shape[1])
        self._faiss_index = self._new_faiss(self._dim) if self._dim else None
        if self._faiss_index is not None and len(ids):
            self._faiss_index.add_with_ids(np.ascontiguousarray(vectors), ids)
        self._bm25 = bm25
        self._loaded_generation = generation

    def flush(self) -> None:
        """Write the derived indexes as of the current generation (atomic replace)."""
        with self._lock:
            if not self._dirty or self._loaded_generation != self._generation():
                return
            index = self._faiss_index
            if index is not None and index.ntotal:
                faiss = require("faiss", "core")
                ids = faiss.vector_to_array(index.id_map).astype(np.int64)
                vectors = index.index.reconstruct_n(0, index.ntotal)
            else:
                ids = np.zeros(0, dtype=np.int64)
                vectors = np.zeros((0, self._dim or 0), dtype=np.float32)
            state = {
                "generation": self._loaded_generation,
                "ids": ids,
                "vectors": vectors,
                "bm25": self._bm25,
            }
            tmp = self.path / f".{DERIVED_FILE}.{os.getpid()}.tmp"
            with tmp.open("wb") as fh:
                pickle.dump(state, fh, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, self.path / DERIVED_FILE)
            self._dirty = False

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
            with self._transaction() as db:
                now = time.time()
                for item in items:
                    doc, chunks, vectors = (
                        item.document,
                        item.chunks,
                        np.asarray(item.vectors, np.float32),
                    )
                    if len(chunks) != len(vectors):
                        raise ValueError(
                            f"{doc.id}: {len(chunks)} chunks but {len(vectors)} vectors"
                        )
                    if len(chunks) and self._dim not in (None, vectors.shape[1]):
                        raise ValueError(
                            f"{doc.id}: vectors have dim {vectors.shape[1]}, store has {self._dim}"
                        )
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
                            doc.hash,
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
                        self._dim = self._dim or int(vectors.shape[1])
                        added.append((rowids, vectors, [c.text for c in chunks]))
            self._apply(removed, added)

    def _apply(
        self, removed: list[int], added: list[tuple[list[int], np.ndarray, list[str]]]
    ) -> None:
        """Mirror a committed transaction in the in-memory indexes."""
        if self._faiss_index is None and self._dim:
            self._faiss_index = self._new_faiss(self._dim)
        if removed and self._faiss_index is not None:
            self._faiss_index.remove_ids(np.asarray(removed, dtype=np.int64))
        self._bm25.remove(removed)
        for rowids, vectors, texts in added:
            self._faiss_index.add_with_ids(
                np.ascontiguousarray(vectors), np.asarray(rowids, dtype=np.int64)
            )
            self._bm25.add(rowids, texts)
        self._loaded_generation = self._generation()
        self._dirty = True

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
            self._apply(removed, [])
            return existed

    def clear(self) -> None:
        with self._lock:
            with self._transaction() as db:
                db.execute("DELETE FROM chunks")
                db.execute("DELETE FROM documents")
            self._dim = None
            self._faiss_index = None
            self._bm25 = BM25Index()
            self._loaded_generation = self._generation()
            self._dirty = True

    # -- reads --------------------------------------------------------------------------
    def document_hashes(self) -> dict[str, str]:
        with self._lock:
            return dict(self._db.execute("SELECT id, content_hash FROM documents").fetchall())

    def get_document(self, doc_id: str) -> Document | None:
        with self._lock:
            row = self._db.execute(
                "SELECT id, text, source, title, meta FROM documents WHERE id=?", (doc_id,)
            ).fetchone()
        if row is None:
            return None
        return Document(
            id=row[0], text=row[1], source=row[2], title=row[3], meta=json.loads(row[4])
        )

    def iter_documents(self) -> list[Document]:
        with self._lock:
            rows = self._db.execute(
                "SELECT id, text, source, title, meta FROM documents ORDER BY id"
            ).fetchall()
        return [
            Document(id=r[0], text=r[1], source=r[2], title=r[3], meta=json.loads(r[4]))
            for r in rows
        ]

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

    def _chunks_by_rowid(self, rowids: Sequence[int]) -> dict[int, Chunk]:
        if not rowids:
            return {}
        marks = ",".join("?" * len(rowids))
        rows = self._db.execute(
            f"SELECT {self._CHUNK_COLUMNS} FROM chunks c JOIN documents d ON d.id = c.doc_id"
            f" WHERE c.rowid IN ({marks})",
            list(rowids),
        ).fetchall()
        return {int(r[0]): self._chunk_from_row(r) for r in rows}

    def get_chunks(self, chunk_ids: Sequence[str]) -> list[Chunk]:
        if not chunk_ids:
            return []
        with self._lock:
            marks = ",".join("?" * len(chunk_ids))
            rows = self._db.execute(
                f"SELECT {self._CHUNK_COLUMNS} FROM chunks c JOIN documents d ON d.id = c.doc_id"
                f" WHERE c.id IN ({marks})",
                list(chunk_ids),
            ).fetchall()
        by_id = {r[1]: self._chunk_from_row(r) for r in rows}
        return [by_id[c] for c in chunk_ids if c in by_id]

    def _allowed_rowids(self, filters: dict[str, Any] | None) -> set[int] | None:
        """Chunk rowids whose metadata (chunk meta, then document meta) match every filter."""
        if not filters:
            return None
        clauses, params = [], []
        for key, value in filters.items():
            if key in ("doc_id", "source", "title"):
                clauses.append(f"d.{'id' if key == 'doc_id' else key} = ?")
                params.append(value)
                continue
            path = "$." + json.dumps(str(key))
            clauses.append(
                "CAST(COALESCE(json_extract(c.meta, ?), json_extract(d.meta, ?)) AS TEXT) = ?"
            )
            params += [path, path, str(value).lower() if isinstance(value, bool) else str(value)]
        rows = self._db.execute(
            "SELECT c.rowid FROM chunks c JOIN documents d ON d.id = c.doc_id WHERE "
            + " AND ".join(clauses),
            params,
        ).fetchall()
        return {int(r[0]) for r in rows}

    def _hits(self, scored: Sequence[tuple[int, float]], kind: str) -> list[Hit]:
        chunks = self._chunks_by_rowid([rowid for rowid, _ in scored])
        hits: list[Hit] = []
        for rowid, score in scored:
            chunk = chunks.get(rowid)
            if chunk is not None:
                hits.append(Hit(chunk=chunk, score=score, rank=len(hits) + 1, scores={kind: score}))
        return hits

    def _dense_rowids(
        self, vector: np.ndarray, k: int, filters: dict[str, Any] | None
    ) -> list[tuple[int, float]]:
        self._ensure_fresh()
        index = self._faiss_index
        if index is None or index.ntotal == 0:
            return []
        query = np.asarray(vector, dtype=np.float32).reshape(1, -1)
        if query.shape[1] != self._dim:
            raise ValueError(f"query vector has dim {query.shape[1]}, the index has {self._dim}")
        allowed = self._allowed_rowids(filters)
        if allowed is not None:
            if not allowed:
                return []
            faiss = require("faiss", "core")
            selector = faiss.IDSelectorBatch(
                np.fromiter(allowed, dtype=np.int64, count=len(allowed))
            )
            scores, ids = index.search(query, k, params=faiss.SearchParameters(sel=selector))
        else:
            scores, ids = index.search(query, k)
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0]

    def _bm25_rowids(
        self, query: str, k: int, filters: dict[str, Any] | None
    ) -> list[tuple[int, float]]:
        self._ensure_fresh()
        return self._bm25.search(query, k, allowed=self._allowed_rowids(filters))

    def _chunk_ids(self, scored: list[tuple[int, float]]) -> list[tuple[str, float]]:
        if not scored:
            return []
        marks = ",".join("?" * len(scored))
        rows = self._db.execute(
            f"SELECT rowid, id FROM chunks WHERE rowid IN ({marks})", [r for r, _ in scored]
        ).fetchall()
        ids = dict(rows)
        return [(ids[rowid], score) for rowid, score in scored if rowid in ids]

    def search_dense(
        self, vector: np.ndarray, k: int, filters: dict[str, Any] | None = None
    ) -> list[Hit]:
        with self._lock:
            return self._hits(self._dense_rowids(vector, k, filters), "dense")

    def search_bm25(self, query: str, k: int, filters: dict[str, Any] | None = None) -> list[Hit]:
        with self._lock:
            return self._hits(self._bm25_rowids(query, k, filters), "bm25")

    def search_dense_ids(
        self, vector: np.ndarray, k: int, filters: dict[str, Any] | None = None
    ) -> list[tuple[str, float]]:
        with self._lock:
            return self._chunk_ids(self._dense_rowids(vector, k, filters))

    def search_bm25_ids(
        self, query: str, k: int, filters: dict[str, Any] | None = None
    ) -> list[tuple[str, float]]:
        with self._lock:
            return self._chunk_ids(self._bm25_rowids(query, k, filters))

    def stats(self) -> dict[str, Any]:
        with self._lock:
            documents, chunks = self._db.execute(
                "SELECT (SELECT COUNT(*) FROM documents), (SELECT COUNT(*) FROM chunks)"
            ).fetchone()
            size = sum(f.stat().st_size for f in self.path.iterdir() if f.is_file())
            row = self._db.execute("SELECT length(vector) FROM chunks LIMIT 1").fetchone()
            dim = row[0] // 4 if row else self._dim
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
            report.vectors = 0 if self._faiss_index is None else int(self._faiss_index.ntotal)
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
            vector_ids: set[int] = set()
            if self._faiss_index is not None and self._faiss_index.ntotal:
                faiss = require("faiss", "core")
                vector_ids = set(faiss.vector_to_array(self._faiss_index.id_map).tolist())
            if chunk_ids - vector_ids:
                problems.append(f"{len(chunk_ids - vector_ids)} chunks without a vector")
            if vector_ids - chunk_ids:
                problems.append(f"{len(vector_ids - chunk_ids)} vectors without a chunk")
            if self._bm25.ids() != chunk_ids:
                problems.append("BM25 index does not match the chunks")
            return report
