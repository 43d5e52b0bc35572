"""The scale-out store: chunks, dense and BM25 vectors in a Qdrant collection.

    store = QdrantStore(path=Path(".ragtune/store"))                       # local mode
    store = QdrantStore(path, url="http://qdrant:6333", collection="docs")  # a server
    store.search_hybrid_ids("warranty X200", query_vector, k=5)              # Qdrant's RRF

**Where the truth is.** Qdrant holds what is searched: one point per chunk with its
dense vector (inner product), a sparse BM25 vector and the chunk as payload. A small
SQLite file beside it (``<collection>-<slot>.sqlite`` in ``path``) holds what the
project decides: settings, each document's hash, text, metadata and *committed
version*, and the chunk ids of that version. SQLite is the source of truth for which
chunks are visible, because Qdrant has no transaction over many points: a write upserts
the new version's points (ids derived from chunk id and version), commits the version
in SQLite (the one atomic step; a batch's documents change together), then deletes the
old version's points. Until that last step the document is in ``pending``; searches
leave out points of pending documents whose version is not committed, and drop any hit
whose version SQLite does not hold (a reader racing a writer in another process), so a
killed write shows each document wholly old or wholly new, and the next write deletes
what it left. Document texts stay in SQLite (``iter_documents`` re-chunks without the
files) instead of in payloads that every search would carry.

**Rebuilds** write the other of two collections behind the collection's name, an
alias moved by ``commit_rebuild`` in one request (``ragtune.index.qdrant_slots``).
**BM25** weights and **filters** are computed here, with the embedded store's tokenizer
and filter grammar (``ragtune.index.qdrant_points``); a server's global IDF counts
deleted points until its optimizer vacuums them, so on a server the IDF is taken over
the visible points (``IdfCorpusParams``). Ties are cut by chunk id here: a search asks
Qdrant for more than ``k`` until the ``k``-th score is followed by a lower one.

Local mode (no ``url``) keeps Qdrant's data in ``path/qdrant`` with exact search; it
serves one process at a time. A server's HNSW is approximate past its indexing
threshold.
"""

from __future__ import annotations

import fcntl
import json
import sqlite3
import threading
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from ragtune.errors import RagtuneError
from ragtune.index.base import (
    CheckReport,
    DocumentRecord,
    IndexedDocument,
    Store,
    check_items,
)
from ragtune.index.sqlite_rows import SQLiteRows
from ragtune.types import Chunk, Hit, document_hash

try:
    from qdrant_client import models as qm
except ImportError as error:  # pragma: no cover - the message is the point
    raise ImportError(
        "index.backend = 'qdrant' needs qdrant-client: pip install 'ragtune[qdrant]'"
    ) from error

from ragtune.index.qdrant_points import (
    CHUNK_PAYLOAD,
    DENSE,
    ID_PAYLOAD,
    SPARSE,
    bm25_query_vector,
    chunk_from_payload,
    chunk_point,
    conditions,
    doc_terms,
    point_id,
)
from ragtune.index.qdrant_slots import Connection, Slots, open_sidecar

_UPSERT_BATCH = 256
_IN_BATCH = 500
# Asked for beyond k, so the k-th place's ties usually arrive in the first answer.
_TIE_SLACK = 8
Ask = Callable[[qm.Filter | None, int], list[qm.ScoredPoint]]


class QdrantStore(SQLiteRows, Store):
    """Dense + BM25 in one Qdrant collection, documents and hashes in SQLite beside it.

    ``url`` unset: local mode in ``path/qdrant``. ``api_key_env`` names the environment
    variable holding the server's API key (the key is never in the config).
    """

    def __init__(
        self,
        path: Path | str,
        url: str | None = None,
        api_key_env: str = "QDRANT_API_KEY",
        collection: str = "ragtune",
        *,
        _slot: str | None = None,
        _connection: Connection | None = None,
    ) -> None:
        self.path = Path(path)
        self.path.mkdir(parents=True, exist_ok=True)
        self.url, self.api_key_env, self.collection = url, api_key_env, collection
        if _connection is None:
            self._connection = Connection.open(self.path, url, api_key_env)
        else:
            self._connection = _connection.share()
        self._client = self._connection.client
        self._lock = threading.RLock()
        self._slots = Slots(self._client, self.path, collection)
        self._slot = _slot or self._slots.live()
        self._name = self._slots.name(self._slot)
        self._db = open_sidecar(self._slots.sidecar(self._slot))
        self._dim: int | None = None
        self._closed = False

    def _is_sibling(self) -> bool:
        return self._state("role") == "sibling"

    # -- the collection ---------------------------------------------------------------
    def _collection_dim(self) -> int | None:
        if self._dim is None and self._client.collection_exists(self._name):
            vectors = self._client.get_collection(self._name).config.params.vectors
            assert isinstance(vectors, dict)
            self._dim = int(vectors[DENSE].size)
        return self._dim

    def _stored_dim(self) -> int | None:
        """The vector size writes must have: the collection's, unless it holds nothing."""
        has_chunks = self._db.execute("SELECT 1 FROM chunks LIMIT 1").fetchone()
        return self._collection_dim() if has_chunks else None

    def _ensure_collection(self, dim: int) -> None:
        if self._collection_dim() == dim:
            return
        if self._dim is not None:  # empty (checked by the caller) with another size
            self._client.delete_collection(self._name)
        self._client.create_collection(
            self._name,
            vectors_config={DENSE: qm.VectorParams(size=dim, distance=qm.Distance.DOT)},
            sparse_vectors_config={SPARSE: qm.SparseVectorParams(modifier=qm.Modifier.IDF)},
        )
        if self.url:  # local mode has no payload indexes (it scans)
            for field in ("doc_id", "version", "doc_terms", "meta_terms"):
                self._client.create_payload_index(self._name, field, qm.PayloadSchemaType.KEYWORD)
        self._dim = dim
        if not self._is_sibling():
            self._slots.point_alias_to(self._slot)

    # -- SQLite helpers ---------------------------------------------------------------
    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise

    def _state(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM state WHERE key=?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def _select_in(self, sql: str, values: Sequence[Any]) -> list[Any]:
        rows: list[Any] = []
        for start in range(0, len(values), _IN_BATCH):
            batch = list(values[start : start + _IN_BATCH])
            rows += self._db.execute(sql.format(marks=",".join("?" * len(batch))), batch)
        return rows

    # -- writes -----------------------------------------------------------------------
    @contextmanager
    def _writing(self) -> Iterator[None]:
        """One writer per slot across processes; first, clean up after a killed one."""
        with self._lock, (self.path / f"{self._name}.lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                self._recover()
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _recover(self) -> None:
        if self._state("clearing") is not None:
            if self._client.collection_exists(self._name):
                self._client.delete_collection(self._name)
            self._dim = None
            self._db.execute("DELETE FROM state WHERE key='clearing'")
        pending = [r[0] for r in self._db.execute("SELECT doc_id FROM pending")]
        self._collect_garbage(pending)

    def _collect_garbage(self, doc_ids: Sequence[str]) -> None:
        """Delete the points of ``doc_ids`` that are not their committed version."""
        for start in range(0, len(doc_ids), _IN_BATCH):
            batch = list(doc_ids[start : start + _IN_BATCH])
            if self._client.collection_exists(self._name):
                self._client.delete(
                    self._name,
                    points_selector=qm.FilterSelector(filter=self._uncommitted(batch)),
                    wait=True,
                )
            self._select_in("DELETE FROM pending WHERE doc_id IN ({marks})", batch)

    def _uncommitted(self, doc_ids: Sequence[str]) -> qm.Filter:
        versions = self._select_in(
            "SELECT version FROM documents WHERE id IN ({marks})", list(doc_ids)
        )
        return qm.Filter(
            must=[qm.FieldCondition(key="doc_id", match=qm.MatchAny(any=list(doc_ids)))],
            must_not=[
                qm.FieldCondition(key="version", match=qm.MatchAny(any=[v[0] for v in versions]))
            ]
            if versions
            else None,
        )

    def write(self, items: Sequence[IndexedDocument]) -> None:
        if not items:
            return
        with self._lock:
            dim = check_items(items, self._stored_dim())
            latest = list({item.document.id: item for item in items}.values())
            versions = {item.document.id: uuid.uuid4().hex for item in latest}
            with self._writing():
                with self._transaction() as db:
                    db.executemany(
                        "INSERT OR IGNORE INTO pending(doc_id) VALUES (?)", [(d,) for d in versions]
                    )
                if dim is not None:
                    self._ensure_collection(dim)
                    self._upsert(latest, versions)
                with self._transaction() as db:
                    for item in latest:
                        doc = item.document
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
                                len(item.chunks),
                                versions[doc.id],
                            ),
                        )
                        db.executemany(
                            "INSERT INTO chunks(id, doc_id, idx) VALUES (?, ?, ?)",
                            [(c.id, doc.id, c.index) for c in item.chunks],
                        )
                self._collect_garbage(list(versions))

    def _upsert(self, items: Sequence[IndexedDocument], versions: Mapping[str, str]) -> None:
        points = [
            chunk_point(chunk, item.document, versions[item.document.id], vector)
            for item in items
            for chunk, vector in zip(
                item.chunks, np.asarray(item.vectors, dtype=np.float32), strict=True
            )
        ]
        for start in range(0, len(points), _UPSERT_BATCH):
            self._client.upsert(self._name, points[start : start + _UPSERT_BATCH], wait=True)

    def delete(self, doc_ids: Sequence[str]) -> int:
        if not doc_ids:
            return 0
        with self._lock, self._writing():
            with self._transaction() as db:
                db.executemany(
                    "INSERT OR IGNORE INTO pending(doc_id) VALUES (?)", [(d,) for d in doc_ids]
                )
                existed = 0
                for doc_id in doc_ids:
                    db.execute("DELETE FROM chunks WHERE doc_id=?", (doc_id,))
                    existed += db.execute("DELETE FROM documents WHERE id=?", (doc_id,)).rowcount
            self._collect_garbage(list(doc_ids))
            return existed

    def clear(self) -> None:
        with self._lock, self._writing():
            with self._transaction() as db:
                db.execute("DELETE FROM chunks")
                db.execute("DELETE FROM documents")
                db.execute("DELETE FROM pending")
                db.execute("INSERT OR REPLACE INTO state(key, value) VALUES('clearing', '1')")
            self._recover()  # drops the collection: the next write creates it, any size

    def set_sources(self, sources: Mapping[str, str]) -> int:
        if not sources:
            return 0
        with self._lock, self._writing():
            rows = self._select_in(
                "SELECT id, title FROM documents WHERE id IN ({marks})", list(sources)
            )
            # Points first: a kill before the SQLite update leaves the old source there,
            # which the next ingest sees as a move still to make.
            for doc_id, title in rows:
                if self._client.collection_exists(self._name):
                    self._client.set_payload(
                        self._name,
                        payload={"doc_terms": doc_terms(doc_id, sources[doc_id], title)},
                        points=qm.FilterSelector(
                            filter=qm.Filter(
                                must=[
                                    qm.FieldCondition(
                                        key="doc_id", match=qm.MatchValue(value=doc_id)
                                    )
                                ]
                            )
                        ),
                        wait=True,
                    )
            with self._transaction() as db:
                for doc_id, _ in rows:
                    db.execute(
                        "UPDATE documents SET source=? WHERE id=?", (sources[doc_id], doc_id)
                    )
            return len(rows)

    # -- rebuilds ---------------------------------------------------------------------
    def begin_rebuild(self) -> QdrantStore:
        """The other slot: empty, or what a killed rebuild wrote there."""
        with self._lock:
            other = self._slots.other(self._slot)
            self._slots.make_sibling(other)
            return QdrantStore(
                self.path,
                self.url,
                self.api_key_env,
                self.collection,
                _slot=other,
                _connection=self._connection,
            )

    def commit_rebuild(self, sibling: Store) -> QdrantStore:
        """Move the alias to the sibling's collection, then drop this one."""
        if not isinstance(sibling, QdrantStore) or (sibling.path, sibling.collection) != (
            self.path,
            self.collection,
        ):
            raise TypeError(f"{self!r} rebuilds only from its own begin_rebuild(), not {sibling!r}")
        with self._lock, sibling._lock:
            if sibling._collection_dim() is None:  # nothing written: an empty index
                sibling._ensure_collection(self._collection_dim() or 1)
            self._slots.point_alias_to(sibling._slot)
            sibling._db.execute("DELETE FROM state WHERE key='role'")
            committed = QdrantStore(
                self.path,
                self.url,
                self.api_key_env,
                self.collection,
                _slot=sibling._slot,
                _connection=self._connection,
            )
            sibling.close()
            self.close()
            committed._slots.drop(self._slot)
        return committed

    # -- reads ------------------------------------------------------------------------
    def list_documents(self) -> list[DocumentRecord]:
        with self._lock:
            rows = self._db.execute(
                "SELECT id, source, title, content_hash, n_chunks, meta FROM documents ORDER BY id"
            ).fetchall()
        return [DocumentRecord(r[0], r[1], r[2], r[3], r[4], json.loads(r[5])) for r in rows]

    def _fetch_chunks(self, rows: Sequence[Sequence[str]]) -> dict[str, Chunk]:
        """Chunks by id for ``(chunk id, version, source, title)`` rows, from Qdrant."""
        if not rows or self._collection_dim() is None:
            return {}
        docs = {r[0]: (r[2], r[3]) for r in rows}
        chunks: dict[str, Chunk] = {}
        for start in range(0, len(rows), _IN_BATCH):
            batch = rows[start : start + _IN_BATCH]
            for record in self._client.retrieve(
                self._name, [point_id(r[0], r[1]) for r in batch], with_payload=CHUNK_PAYLOAD
            ):
                payload = record.payload or {}
                source, title = docs[payload["chunk_id"]]
                chunks[payload["chunk_id"]] = chunk_from_payload(payload, source, title)
        return chunks

    _CHUNK_ROWS = "SELECT c.id, d.version, d.source, d.title FROM chunks c JOIN documents d ON d.id = c.doc_id"

    def get_chunks(self, chunk_ids: Sequence[str]) -> list[Chunk]:
        with self._lock:
            rows = self._select_in(self._CHUNK_ROWS + " WHERE c.id IN ({marks})", list(chunk_ids))
            found = self._fetch_chunks(rows)
        return [found[c] for c in chunk_ids if c in found]

    def iter_chunks(self) -> Iterator[Chunk]:
        with self._lock:
            rows = self._db.execute(self._CHUNK_ROWS + " ORDER BY c.doc_id, c.idx").fetchall()
        for start in range(0, len(rows), _IN_BATCH):
            batch = rows[start : start + _IN_BATCH]
            with self._lock:
                found = self._fetch_chunks(batch)
            yield from (found[r[0]] for r in batch if r[0] in found)

    # -- searches ---------------------------------------------------------------------
    def _query(
        self, filters: Mapping[str, Any] | None, k: int, ask: Ask
    ) -> list[tuple[qm.ScoredPoint, tuple[str, str]]]:
        """The best ``k`` visible points with their document's ``(source, title)``,
        equal scores in chunk-id order. ``ask(filter, limit)`` queries Qdrant."""
        must = conditions(filters)  # a bad filter fails even on an empty store
        if must is None or k < 1 or self._state("clearing") is not None:
            return []
        if self._collection_dim() is None:
            return []
        limit = k + _TIE_SLACK
        for _ in range(64):
            pending = [r[0] for r in self._db.execute("SELECT doc_id FROM pending")]
            must_not: list[Any] | None = [self._uncommitted(pending)] if pending else None
            query_filter = qm.Filter(must=list(must) or None, must_not=must_not)
            points = ask(query_filter if must or must_not else None, limit)
            payloads = [p.payload or {} for p in points]
            docs = {
                r[0]: r[1:]
                for r in self._select_in(
                    "SELECT id, version, source, title FROM documents WHERE id IN ({marks})",
                    sorted({payload["doc_id"] for payload in payloads}),
                )
            }
            visible = []
            for point, payload in zip(points, payloads, strict=True):
                version, source, title = docs.get(payload["doc_id"], (None, "", ""))
                if version == payload["version"]:
                    visible.append((point, (source, title)))
            if len(visible) < len(points):  # a write committed meanwhile: ask again
                limit += len(points) - len(visible)
                continue
            visible.sort(key=lambda v: (-v[0].score, (v[0].payload or {})["chunk_id"]))
            exhausted = len(points) < limit
            if exhausted or (k <= len(visible) and points[-1].score < visible[k - 1][0].score):
                return visible[:k]
            limit *= 2
        raise RagtuneError(f"Qdrant collection {self._name}: results kept changing during a search")

    def _idf_params(self) -> qm.SearchParams | None:
        # A server's global IDF counts deleted points until its optimizer runs; the
        # corpus form counts live ones. Local mode's global IDF is already live (and fast).
        if not self.url:
            return None
        everything = qm.Filter(
            must_not=[qm.IsEmptyCondition(is_empty=qm.PayloadField(key="doc_id"))]
        )
        return qm.SearchParams(idf=qm.IdfCorpusParams(corpus=everything))

    def _dense(
        self, vector: np.ndarray, k: int, filters: Mapping[str, Any] | None, payload: Any
    ) -> list[Any]:
        query = np.asarray(vector, dtype=np.float32).ravel()
        with self._lock:
            dim = self._stored_dim()
            if dim is not None and query.shape[0] != dim:
                raise ValueError(f"query vector has dim {query.shape[0]}, store has {dim}")

            def ask(query_filter: qm.Filter | None, limit: int) -> list[qm.ScoredPoint]:
                return self._client.query_points(
                    self._name,
                    query=query.tolist(),
                    using=DENSE,
                    query_filter=query_filter,
                    limit=limit,
                    with_payload=payload,
                ).points

            return self._query(filters, k, ask)

    def _sparse(
        self, query: str, k: int, filters: Mapping[str, Any] | None, payload: Any
    ) -> list[Any]:
        sparse = bm25_query_vector(query)
        with self._lock:

            def ask(query_filter: qm.Filter | None, limit: int) -> list[qm.ScoredPoint]:
                if not sparse.indices:
                    return []
                return self._client.query_points(
                    self._name,
                    query=sparse,
                    using=SPARSE,
                    query_filter=query_filter,
                    limit=limit,
                    with_payload=payload,
                    search_params=self._idf_params(),
                ).points

            return self._query(filters, k, ask)

    def search_dense(
        self, vector: np.ndarray, k: int, filters: dict[str, Any] | None = None
    ) -> list[Hit]:
        return _hits(self._dense(vector, k, filters, CHUNK_PAYLOAD), DENSE)

    def search_bm25(self, query: str, k: int, filters: dict[str, Any] | None = None) -> list[Hit]:
        return _hits(self._sparse(query, k, filters, CHUNK_PAYLOAD), SPARSE)

    def search_dense_ids(
        self, vector: np.ndarray, k: int, filters: dict[str, Any] | None = None
    ) -> list[tuple[str, float]]:
        return _ids(self._dense(vector, k, filters, ID_PAYLOAD))

    def search_bm25_ids(
        self, query: str, k: int, filters: dict[str, Any] | None = None
    ) -> list[tuple[str, float]]:
        return _ids(self._sparse(query, k, filters, ID_PAYLOAD))

    def search_hybrid_ids(
        self,
        query: str,
        vector: np.ndarray,
        k: int,
        filters: dict[str, Any] | None = None,
        candidates: int = 50,
        rrf_k: int = 60,
    ) -> list[tuple[str, float]]:
        """``(chunk id, RRF score)``, best first: dense and BM25 candidates fused by
        Qdrant's Query API (``1 / (rrf_k + rank)`` summed, as ``ragtune.retrieve.fusion``).

        Equal fused scores are ordered by chunk id; equal scores *within* one
        retriever's candidates are ranked in Qdrant's order, not by chunk id.
        """
        if rrf_k < 1:
            raise ValueError(f"rrf_k must be at least 1, got {rrf_k}")
        dense = np.asarray(vector, dtype=np.float32).ravel().tolist()
        sparse = bm25_query_vector(query)
        # Qdrant scores the 0-based position p as 1 / (k + p), ragtune the 1-based rank r
        # as 1 / (rrf_k + r): the same sum with k = rrf_k + 1.
        fusion = qm.RrfQuery(rrf=qm.Rrf(k=rrf_k + 1))
        with self._lock:

            def ask(query_filter: qm.Filter | None, limit: int) -> list[qm.ScoredPoint]:
                prefetch = [
                    qm.Prefetch(
                        query=dense, using=DENSE, filter=query_filter, limit=max(candidates, k)
                    )
                ]
                if sparse.indices:
                    prefetch.append(
                        qm.Prefetch(
                            query=sparse,
                            using=SPARSE,
                            filter=query_filter,
                            limit=max(candidates, k),
                            params=self._idf_params(),
                        )
                    )
                return self._client.query_points(
                    self._name,
                    prefetch=prefetch,
                    query=fusion,
                    query_filter=query_filter,
                    limit=limit,
                    with_payload=ID_PAYLOAD,
                ).points

            return _ids(self._query(filters, k, ask))

    # -- inspection -------------------------------------------------------------------
    def stats(self) -> dict[str, Any]:
        with self._lock:
            documents, chunks = self._db.execute(
                "SELECT (SELECT COUNT(*) FROM documents), (SELECT COUNT(*) FROM chunks)"
            ).fetchone()
            size = sum(f.stat().st_size for f in self.path.rglob("*") if f.is_file())
            return {
                "backend": "qdrant",
                "path": str(self.path),
                "url": self.url,
                "collection": self.collection,
                "physical_collection": self._name,
                "documents": documents,
                "chunks": chunks,
                "dim": self._stored_dim(),
                "bytes": size if not self.url else None,
                "sidecar_bytes": self._slots.sidecar(self._slot).stat().st_size,
            }

    def check(self) -> CheckReport:
        with self._lock:
            db = self._db
            report = CheckReport()
            report.documents = db.execute("SELECT COUNT(*) FROM documents").fetchone()[0]
            report.chunks = db.execute("SELECT COUNT(*) FROM chunks").fetchone()[0]
            problems = report.problems
            if db.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
                problems.append("sqlite integrity_check failed")
            for doc_id, stored, actual in db.execute(
                "SELECT d.id, d.n_chunks, COUNT(c.id) FROM documents d LEFT JOIN chunks c ON c.doc_id = d.id"
                " GROUP BY d.id HAVING d.n_chunks != COUNT(c.id)"
            ):
                problems.append(f"document {doc_id} records {stored} chunks but has {actual}")
            pending = db.execute("SELECT COUNT(*) FROM pending").fetchone()[0]
            if pending:
                problems.append(
                    f"{pending} documents have an unfinished write (the next write cleans up)"
                )
            points = (
                self._client.count(self._name, exact=True).count if self._collection_dim() else 0
            )
            rows = db.execute(self._CHUNK_ROWS).fetchall()
            found = 0
            for start in range(0, len(rows), _IN_BATCH):
                ids = [point_id(r[0], r[1]) for r in rows[start : start + _IN_BATCH]]
                found += (
                    len(self._client.retrieve(self._name, ids, with_payload=False)) if points else 0
                )
            report.vectors = found
            if found < len(rows):
                problems.append(f"{len(rows) - found} chunks without a vector")
            if points > found and not pending:
                problems.append(f"{points - found} vectors without a chunk")
            return report

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._db.close()
            self._connection.release()


def _hits(ranked: Sequence[tuple[qm.ScoredPoint, tuple[str, str]]], kind: str) -> list[Hit]:
    return [
        Hit(
            chunk=chunk_from_payload(p.payload or {}, *doc),
            score=p.score,
            rank=rank,
            scores={kind: p.score},
        )
        for rank, (p, doc) in enumerate(ranked, start=1)
    ]


def _ids(ranked: Sequence[tuple[qm.ScoredPoint, tuple[str, str]]]) -> list[tuple[str, float]]:
    return [((p.payload or {})["chunk_id"], p.score) for p, _ in ranked]
